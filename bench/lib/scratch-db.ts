import pg from 'pg';
import { openPglite, openPostgres, type Db } from '../../src/store/db.ts';

/**
 * A throwaway database for the in-process benchmarks: PGlite in memory, or a fresh Postgres database
 * (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres, is the admin connection) dropped by `drop`.
 */
export async function openScratchDb(engine: string, label: string): Promise<{ db: Db; drop: () => Promise<void> }> {
  if (engine === 'pglite') {
    const db = await openPglite({ dataDir: 'memory://' });
    return { db, drop: () => db.close() };
  }
  const admin = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `tramline_${label}_${process.pid}`;
  const run = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const db = openPostgres(url.toString(), 4);
  return {
    db,
    drop: async () => {
      await db.close();
      await run(`DROP DATABASE ${name}`);
    },
  };
}
