import type { Db } from './db.ts';

/** A table's activity counters (pg_stat_user_tables), what the vacuum policy (domain/vacuum-policy.ts) reads. */
export interface TableActivity {
  table: string;
  liveRows: number;
  deadRows: number;
  modifiedSinceAnalyze: number;
  insertedSinceVacuum: number;
}

/** Every Tramline table's activity counters since its last VACUUM and ANALYZE (as the owner: no RLS applies). */
export async function readTableActivity(db: Db): Promise<TableActivity[]> {
  const r = await db.owner((q) =>
    q.query<TableActivity>(
      `SELECT relname AS "table", n_live_tup::float8 AS "liveRows", n_dead_tup::float8 AS "deadRows",
              n_mod_since_analyze::float8 AS "modifiedSinceAnalyze", n_ins_since_vacuum::float8 AS "insertedSinceVacuum"
         FROM pg_stat_user_tables WHERE schemaname = 'public' ORDER BY relname`,
    ),
  );
  return r.rows;
}

/** VACUUM and/or ANALYZE one table. Outside a transaction (VACUUM cannot run in one); the name is quoted. */
export async function maintainTable(db: Db, table: string, o: { vacuum: boolean; analyze: boolean }): Promise<void> {
  const name = `"${table.replace(/"/g, '""')}"`;
  await db.maintenance(o.vacuum ? `VACUUM (ANALYZE ${o.analyze ? 'true' : 'false'}) ${name}` : `ANALYZE ${name}`);
}

/** Whether the server's autovacuum runs (a Postgres setting; the embedded database has none). */
export async function autovacuumRuns(db: Db): Promise<boolean> {
  if (db.kind === 'pglite') return false;
  const r = await db.owner((q) => q.query<{ autovacuum: string }>('SHOW autovacuum'));
  return r.rows[0]?.autovacuum === 'on';
}
