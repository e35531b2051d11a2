import { SYSTEM_ROLE, type Db, type Queryable } from './db.ts';
import { BACKUP_LOCK, tableColumns } from './backup-read.ts';
import type { BackupTable } from './backup-tables.ts';

/**
 * Loading a backup: everything in one transaction, so a restore that fails at any row (a
 * checksum, a count, a conflicting id) leaves the database exactly as it was. Rows arrive as
 * their JSON text and are inserted in batches with json_populate_recordset, which converts each
 * field to its column's type (timestamps, arrays, jsonb) the way row_to_json wrote it.
 */
export interface Loader {
  /** Migration ids applied to the target. */
  migrations(): Promise<string[]>;
  columns(table: string): Promise<string[]>;
  tenantIds(): Promise<string[]>;
  /** Inserts rows (JSON objects as text) into the given columns; the others take their defaults. */
  insert(table: BackupTable, columns: readonly string[], jsonRows: readonly string[]): Promise<void>;
  count(table: BackupTable, tenantIds: readonly string[] | null): Promise<number>;
  /** Moves every sequence owned by a table column past the column's largest value. */
  restoreSequences(): Promise<number>;
}

export async function withLoader<T>(db: Db, fn: (l: Loader) => Promise<T>): Promise<T> {
  return db.owner(async (q) => {
    // Two restores at once would both see an empty database: the second waits for the first.
    await q.query('SELECT pg_advisory_xact_lock($1)', [BACKUP_LOCK + 1]);
    const migrations = (await q.query<{ id: string }>('SELECT id FROM tramline_migrations ORDER BY id')).rows.map((r) => r.id);
    await q.query(`SELECT set_config('role', '${SYSTEM_ROLE}', true)`);
    return fn(loader(q, migrations));
  });
}

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function loader(q: Queryable, migrations: string[]): Loader {
  return {
    async migrations() {
      return migrations;
    },
    columns: (table) => tableColumns(q, table),
    async tenantIds() {
      return (await q.query<{ id: string }>('SELECT id FROM tenants ORDER BY id')).rows.map((r) => r.id);
    },
    async insert(table, columns, jsonRows) {
      if (jsonRows.length === 0) return;
      const cols = columns.map(ident).join(', ');
      await q.query(`INSERT INTO ${table.name} (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::${table.name}, $1::json)`, [
        `[${jsonRows.join(',')}]`,
      ]);
    },
    async count(table, tenantIds) {
      const r = await q.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table.name}${tenantIds === null ? '' : ` WHERE ${table.tenantColumn} = ANY($1::text[])`}`,
        tenantIds === null ? [] : [tenantIds],
      );
      return r.rows[0]!.n;
    },
    async restoreSequences() {
      // Today's schema has none (ids are TypeIDs); this keeps a future serial column correct.
      await q.query(`SELECT set_config('role', 'none', true)`);
      const seqs = await q.query<{ seq: string; tbl: string; col: string }>(
        `SELECT s.oid::regclass::text AS seq, t.oid::regclass::text AS tbl, a.attname AS col
           FROM pg_class s
           JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
           JOIN pg_class t ON t.oid = d.refobjid
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
          WHERE s.relkind = 'S' AND t.relnamespace = current_schema()::regnamespace`,
      );
      for (const s of seqs.rows) {
        await q.query(`SELECT setval($1::regclass, GREATEST((SELECT max(${ident(s.col)}) FROM ${s.tbl}), 1))`, [s.seq]);
      }
      await q.query(`SELECT set_config('role', '${SYSTEM_ROLE}', true)`);
      return seqs.rows.length;
    },
  };
}
