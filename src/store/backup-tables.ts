/**
 * Every table that holds data, in dependency order (a table comes after the tables its foreign
 * keys point at), with the column that names its tenant. A backup reads them in this order and a
 * restore loads them in this order. A test fails when a migration adds a table missing here.
 */
export interface BackupTable {
  readonly name: string;
  /** The column holding the tenant id (`id` for the tenants table itself). */
  readonly tenantColumn: string;
  /** The ORDER BY of the cursor: the primary key, so rows stream in index order. */
  readonly orderBy: string;
}

export const BACKUP_TABLES: readonly BackupTable[] = [
  { name: 'tenants', tenantColumn: 'id', orderBy: 'id' },
  { name: 'tenant_keys', tenantColumn: 'tenant_id', orderBy: 'tenant_id' },
  { name: 'api_keys', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'event_types', tenantColumn: 'tenant_id', orderBy: 'tenant_id, name' },
  { name: 'consumers', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'endpoints', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'messages', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'deliveries', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'attempts', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'audit_log', tenantColumn: 'tenant_id', orderBy: 'id' },
];

/** Tables that are schema bookkeeping, not data: the restore's own migrations recreate them. */
export const NOT_BACKED_UP = ['tramline_migrations'] as const;
