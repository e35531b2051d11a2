import { SYSTEM_ROLE, type Db, type Queryable } from './db.ts';
import type { BackupTable } from './backup-tables.ts';

/**
 * Reading a consistent snapshot: one REPEATABLE READ, READ ONLY transaction for every table, so
 * all files of a backup show the database at one instant (a message and its deliveries, never one
 * without the other). Rows stream through a cursor in batches; nothing holds a whole table.
 *
 * The transaction runs as the system role, whose policies see every tenant (the owner role is
 * subject to the forced row-level security too, and has no policy of its own).
 */
export interface SnapshotReader {
  /** Base tables of the schema, by name. */
  tables(): Promise<string[]>;
  /** Migration ids applied to the database, in order. */
  migrations(): Promise<string[]>;
  /** The columns of a table, in table order. */
  columns(table: string): Promise<string[]>;
  count(table: BackupTable, tenantId: string | null): Promise<number>;
  tenantExists(tenantId: string): Promise<boolean>;
  /** Each row as its JSON text (`row_to_json`), in primary-key order, `batchSize` at a time. */
  rows(table: BackupTable, tenantId: string | null, batchSize: number): AsyncGenerator<string[]>;
}

/** Any constant will do; the same for every Tramline process (scheduled backups take it, non-blocking). */
export const BACKUP_LOCK = 7_261_626_102;

/**
 * Runs `fn` over one snapshot. With `lock`, first tries the fleet-wide backup lock for the length of
 * the transaction and resolves `null` without running `fn` when another process holds it.
 */
export async function withSnapshot<T>(db: Db, opts: { lock: boolean }, fn: (r: SnapshotReader) => Promise<T>): Promise<T | null> {
  return db.owner(async (q) => {
    // Must be the first statement of the transaction.
    await q.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    if (opts.lock) {
      const r = await q.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [BACKUP_LOCK]);
      if (!r.rows[0]?.ok) return null;
    }
    const initialised = (await q.query<{ t: string | null }>(`SELECT to_regclass('tramline_migrations')::text AS t`)).rows[0]?.t;
    if (!initialised)
      throw new NotInitialisedError('This database holds no Tramline schema (it was never migrated): there is nothing to back up');
    const migrations = (await q.query<{ id: string }>('SELECT id FROM tramline_migrations ORDER BY id')).rows.map((r) => r.id);
    await q.query(`SELECT set_config('role', '${SYSTEM_ROLE}', true)`);
    return fn(reader(q, migrations));
  });
}

function reader(q: Queryable, migrations: string[]): SnapshotReader {
  let cursors = 0;
  return {
    async migrations() {
      return migrations;
    },
    tables: () => listTables(q),
    columns: (table) => tableColumns(q, table),
    async count(table, tenantId) {
      const r = await q.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table.name}${tenantId === null ? '' : ` WHERE ${table.tenantColumn} = $1`}`,
        tenantId === null ? [] : [tenantId],
      );
      return r.rows[0]!.n;
    },
    async tenantExists(tenantId) {
      return (await q.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId])).rows.length > 0;
    },
    async *rows(table, tenantId, batchSize) {
      const cursor = `backup_${++cursors}`;
      // A cursor's query takes no bind parameters through both drivers alike: quote the tenant id as a literal.
      const where = tenantId === null ? '' : ` WHERE t.${table.tenantColumn} = ${quoteLiteral(tenantId)}`;
      await q.query(
        `DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS j FROM ${table.name} t${where} ORDER BY ${table.orderBy}`,
      );
      try {
        for (;;) {
          const r = await q.query<{ j: string }>(`FETCH FORWARD ${batchSize} FROM ${cursor}`);
          if (r.rows.length === 0) return;
          yield r.rows.map((row) => row.j);
          if (r.rows.length < batchSize) return;
        }
      } finally {
        await q.query(`CLOSE ${cursor}`);
      }
    },
  };
}

// From the catalog, not information_schema: that shows only what the current role has privileges on.
export async function tableColumns(q: Queryable, table: string): Promise<string[]> {
  const r = await q.query<{ attname: string }>(
    `SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  );
  return r.rows.map((row) => row.attname);
}

/** Tables of the current schema (to check that BACKUP_TABLES covers every one). */
export async function listTables(q: Queryable): Promise<string[]> {
  const r = await q.query<{ relname: string }>(
    `SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') ORDER BY relname`,
  );
  return r.rows.map((row) => row.relname);
}

export class NotInitialisedError extends Error {}

/** A SQL string literal (standard_conforming_strings is on in every supported Postgres). */
export const quoteLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;
