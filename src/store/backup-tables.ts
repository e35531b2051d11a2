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
  { name: 'event_type_schemas', tenantColumn: 'tenant_id', orderBy: 'tenant_id, event_type, version' },
  { name: 'consumers', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'endpoints', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'endpoint_health', tenantColumn: 'tenant_id', orderBy: 'endpoint_id' },
  { name: 'messages', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'deliveries', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'attempts', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'replay_jobs', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'audit_log', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'users', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'invitations', tenantColumn: 'tenant_id', orderBy: 'id' },
  { name: 'sessions', tenantColumn: 'tenant_id', orderBy: 'id' },
];

/**
 * Tables that are schema bookkeeping, not data: the restore's own migrations recreate them.
 * `sign_in_throttle` holds transient failure counters of no tenant (hashed emails and addresses);
 * `delivery_pacing` the rate limits' next free slots, seconds ahead at most (a restored gateway starts afresh);
 * `password_resets` one-hour, single-use links (a user of a restored gateway asks for a new one).
 */
export const NOT_BACKED_UP = ['tramline_migrations', 'sign_in_throttle', 'delivery_pacing', 'password_resets'] as const;
