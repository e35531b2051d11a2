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
      await q.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS j FROM ${table.name} t${where} ORDER BY ${table.orderBy}`);
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

export async function tableColumns(q: Queryable, table: string): Promise<string[]> {
  const r = await q.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return r.rows.map((row) => row.column_name);
}

/** Tables of the current schema (to check that BACKUP_TABLES covers every one). */
export async function listTables(q: Queryable): Promise<string[]> {
  const r = await q.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return r.rows.map((row) => row.table_name);
}

/** A SQL string literal (standard_conforming_strings is on in every supported Postgres). */
export const quoteLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;
