import type { Config } from '../config.ts';
import { openStore } from '../store/open.ts';

export async function runMigrate(config: Config): Promise<void> {
  const { db, release, applied } = await openStore(config);
  await db.close();
  release();
  process.stdout.write(applied.length > 0 ? `Applied: ${applied.join(', ')}\n` : 'Already up to date\n');
}
