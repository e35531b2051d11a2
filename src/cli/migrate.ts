import type { Config } from '../config.ts';
import { withClosers } from '../boot/closers.ts';
import { openDb } from '../boot/deps.ts';
import { explainDatabaseError } from './db-errors.ts';

export async function runMigrate(config: Config): Promise<void> {
  const { applied } = await withClosers((closers) => openDb(config, closers)).catch((err: unknown) => {
    throw explainDatabaseError(err, config.databaseUrl);
  });
  process.stdout.write(applied.length > 0 ? `Applied: ${applied.join(', ')}\n` : 'Already up to date\n');
}
