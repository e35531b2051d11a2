import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { lockDataDir, openPostgres, type Db } from './db.ts';
import { openPgliteThread } from './pglite-thread.ts';
import { migrate } from './migrate.ts';
import { restrictTree } from './data-dir.ts';

/**
 * Opens the configured store: Postgres when DATABASE_URL is set, else PGlite in the data folder (locked).
 * Migrates it, unless `migrate: false` (a backup reads the schema as it is, and never changes it).
 */
export async function openStore(
  config: Config,
  opts: { migrate?: boolean } = {},
): Promise<{ db: Db; release: () => void; applied: string[] }> {
  const migrateIt = (db: Db): Promise<string[]> => (opts.migrate === false ? Promise.resolve([]) : migrate(db));
  if (config.databaseUrl) {
    const db = openPostgres(config.databaseUrl, config.dbPoolSize);
    return { db, release: () => {}, applied: await migrateIt(db) };
  }
  const release = lockDataDir(config.dataDir);
  try {
    const pgdata = path.join(config.dataDir, 'pgdata');
    // A first start creates the cluster (initdb) inside PGlite's WebAssembly memory, which never shrinks: such a
    // process held ~850 MB until it restarted, a later start ~430 MB. Created, closed and opened again, it starts
    // as a later start does.
    // The database runs on a thread of its own (store/pglite-thread.ts), beside the API and the deliveries.
    if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) await (await openPgliteThread({ dataDir: pgdata })).close();
    const db = await openPgliteThread({ dataDir: pgdata });
    restrictTree(config.dataDir);
    return { db, release, applied: await migrateIt(db) };
  } catch (err) {
    release();
    throw err;
  }
}
