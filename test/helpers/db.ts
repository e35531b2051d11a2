import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { openPostgres, type Db } from '../../src/store/db.ts';
import { openPgliteThread } from '../../src/store/pglite-thread.ts';
import { withDatabase } from '../global-setup.ts';

export type Engine = 'pglite' | 'postgres';

export interface TestDb {
  engine: Engine;
  db: Db;
  /** The database's URL, on Postgres (to start other processes on it). */
  url: string | null;
  close(): Promise<void>;
}

export const engine = (): Engine => (process.env.TEST_DB === 'postgres' ? 'postgres' : 'pglite');

/** A fresh, migrated database of its own for one test file: a clone of the run's template. */
export async function openTestDb(): Promise<TestDb> {
  if (engine() === 'pglite') {
    // On its own thread, as the gateway runs it (store/open.ts).
    const db = await openPgliteThread({ dataDir: 'memory://', loadDataDir: fs.readFileSync(inject('pgliteTemplate')) });
    return { engine: 'pglite', db, url: null, close: () => db.close() };
  }
  const base = process.env.DATABASE_URL!;
  const template = inject('postgresTemplate')!;
  const name = `${template}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await admin.end();
  const url = withDatabase(base, name);
  const db = openPostgres(url, 10);
  return {
    engine: 'postgres',
    db,
    url,
    close: async () => {
      await db.close();
      const a = new pg.Client({ connectionString: base });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
