import path from 'node:path';
import type { Config } from '../config.ts';
import { lockDataDir, openPglite, openPostgres, type Db } from './db.ts';
import { migrate } from './migrate.ts';

/** Opens the configured store: Postgres when DATABASE_URL is set, else PGlite in the data folder (locked). */
export async function openStore(config: Config): Promise<{ db: Db; release: () => void; applied: string[] }> {
  if (config.databaseUrl) {
    const db = openPostgres(config.databaseUrl, config.dbPoolSize);
    return { db, release: () => {}, applied: await migrate(db) };
  }
  const release = lockDataDir(config.dataDir);
  try {
    const db = await openPglite({ dataDir: path.join(config.dataDir, 'pgdata') });
    return { db, release, applied: await migrate(db) };
  } catch (err) {
    release();
    throw err;
  }
}
