import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { BackupError, MANIFEST_FILE, type Manifest } from '../domain/backup/manifest.ts';
import { readManifest, restoreBackup } from '../domain/backup/restore.ts';
import { takeBackup } from '../domain/backup/snapshot.ts';
import type { KeyWrapper } from '../domain/secrets/key-wrapper.ts';
import { openKeyWrapper } from '../boot/key-wrapper.ts';
import { loadMasterKeys, masterKeyFile } from '../boot/master-key.ts';
import { withClosers } from '../boot/closers.ts';
import { DataDirLockedError, openDb } from '../boot/deps.ts';
import type { Db } from '../boot/deps.ts';
import { openBackupStorage } from '../domain/backup/storage/open.ts';
import { VERSION } from '../boot/version.ts';
import { progressReporter } from './progress.ts';

/** `tramline backup DEST [--tenant id]`: a consistent snapshot into a folder or s3://bucket/prefix. */
export async function runBackup(config: Config, dest: string, opts: { tenant?: string }): Promise<void> {
  const storage = openBackupStorage(dest, config.backup.s3);
  if (await storage.exists(MANIFEST_FILE)) throw new BackupError(`${storage.location} already holds a backup: give a new folder or prefix`);
  if (!config.databaseUrl && !fs.existsSync(path.join(config.dataDir, 'pgdata'))) {
    throw new BackupError(
      `There is no database in ${config.dataDir} (TRAMLINE_DATA_DIR) to back up; set DATABASE_URL for a Postgres server`,
    );
  }
  const progress = progressReporter();
  const manifest = await withStore(config, 'back up', { migrate: false }, async (db) => {
    try {
      return await takeBackup({
        db,
        storage,
        tenant: opts.tenant ?? null,
        clock: () => new Date(),
        tramlineVersion: VERSION,
        onProgress: progress.onProgress,
      });
    } finally {
      progress.stop();
    }
  });
  process.stdout.write(`Backup written to ${storage.location}: ${summary(manifest!)}\n`);
}

/** `tramline restore SRC`: into an empty database (or, for a one-tenant backup, one without that tenant). */
export async function runRestore(config: Config, src: string): Promise<void> {
  const storage = openBackupStorage(src, config.backup.s3);
  // An incomplete or foreign backup is refused before the database is opened (or, embedded, created).
  await readManifest(storage);
  const progress = progressReporter();
  const started = Date.now();
  const result = await withStore(config, 'restore into', { migrate: true }, async (db) => {
    try {
      return await restoreBackup({ db, storage, keys: await targetKeys(config), onProgress: progress.onProgress });
    } finally {
      progress.stop();
    }
  });
  process.stdout.write(
    `Restored ${result.manifest.tenant ? `tenant ${result.manifest.tenant}` : 'every tenant'} from ${storage.location} ` +
      `(taken ${result.manifest.createdAt}): ${summary(result.manifest)}, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

/**
 * The target's master keys (and KMS keys, when configured), without creating a master key: on a new
 * embedded data folder, a key generated now could never open the backup's secrets.
 */
async function targetKeys(config: Config): Promise<KeyWrapper | null> {
  const noMasterKey = !config.masterKey && (config.databaseUrl || !fs.existsSync(masterKeyFile(config.dataDir)));
  if (noMasterKey && !config.kms) return null;
  return (await openKeyWrapper(config, noMasterKey ? null : loadMasterKeys(config))).wrapper;
}

function withStore<T>(config: Config, verb: string, opts: { migrate: boolean }, fn: (db: Db) => Promise<T>): Promise<T> {
  return withClosers(async (closers) => {
    let db: Db;
    try {
      ({ db } = await openDb(config, closers, opts));
    } catch (err) {
      if (err instanceof DataDirLockedError) {
        throw new BackupError(
          `Cannot ${verb} ${config.dataDir} while a gateway has it open: ${err.message} ` +
            `Stop the gateway, then run this again; or, to back up a running gateway, let its scheduler role take backups (TRAMLINE_BACKUP_DEST).`,
        );
      }
      throw err;
    }
    return fn(db);
  });
}

function summary(m: Manifest): string {
  const rows = m.tables.reduce((n, t) => n + t.rows, 0);
  const bytes = m.tables.reduce((n, t) => n + t.bytes, 0);
  const count = (name: string): number => m.tables.find((t) => t.name === name)?.rows ?? 0;
  return (
    `${m.tables.length} tables, ${rows} rows (${count('tenants')} tenants, ${count('messages')} messages, ${count('attempts')} attempts), ` +
    `${(bytes / 1024 / 1024).toFixed(2)} MiB compressed, schema ${m.schemaVersion}`
  );
}
