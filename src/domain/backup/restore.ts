import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { Db } from '../../store/db.ts';
import { withLoader } from '../../store/backup-write.ts';
import { BACKUP_TABLES, type BackupTable } from '../../store/backup-tables.ts';
import { migrate } from '../../store/migrate.ts';
import type { KeyWrapper } from '../secrets/key-wrapper.ts';
import { dataKeyContext } from '../secrets/tenant-cipher.ts';
import { BackupError, MANIFEST_FILE, parseManifest, type Manifest, type ManifestTable } from './manifest.ts';
import type { OnProgress } from './progress.ts';
import { NotFoundError, type BackupStorage } from './storage.ts';
import { hashing, lines, readAll } from './streams.ts';

export interface RestoreOptions {
  db: Db;
  storage: BackupStorage;
  /** The target's master keys; null when it has none (restore then refuses a backup holding secrets). */
  keys: KeyWrapper | null;
  onProgress?: OnProgress;
  batchRows?: number;
  batchBytes?: number;
}

export interface RestoreResult {
  manifest: Manifest;
  rows: Record<string, number>;
}

/**
 * Brings a backup back, all or nothing: reads and checks the manifest, migrates the target and
 * checks that it can take the backup, verifies every file's sha256, checks that the target's master
 * key opens every wrapped data key, then loads every table in one transaction and compares the
 * counts with the manifest before committing. A full backup needs a database without tenants; a one-tenant backup needs a database
 * without that tenant (others may be there).
 */
export async function restoreBackup(o: RestoreOptions): Promise<RestoreResult> {
  const manifest = await readManifest(o.storage);
  const tables = orderedTables(manifest);
  await migrate(o.db);
  // Refuse a target that cannot take the backup before reading it all; checked again under the lock.
  await withLoader(o.db, async (l) => checkTarget(manifest, await l.tenantIds()));
  await verifyFiles(o.storage, manifest, o.onProgress);
  await checkMasterKey(o.storage, manifest, o.keys);

  const batchRows = o.batchRows ?? 2_000;
  const batchBytes = o.batchBytes ?? 4 * 1024 * 1024;
  const rows = await withLoader(o.db, async (l) => {
    const applied = new Set(await l.migrations());
    const unknown = manifest.migrations.filter((m) => !applied.has(m));
    if (unknown.length > 0) {
      throw new BackupError(
        `This backup comes from a newer schema (migrations ${unknown.join(', ')} are unknown here): restore it with Tramline ${manifest.tramlineVersion} or newer`,
      );
    }
    checkTarget(manifest, await l.tenantIds());
    const scope = manifest.tenant === null ? null : [manifest.tenant];
    const counts: Record<string, number> = {};
    for (const [table, entry] of tables) {
      const target = new Set(await l.columns(table.name));
      const missing = entry.columns.filter((c) => !target.has(c));
      if (missing.length > 0) throw new BackupError(`${table.name}: columns ${missing.join(', ')} do not exist in the target schema`);
      o.onProgress?.({ phase: 'restore', table: table.name, done: 0, total: entry.rows, finished: false });
      let done = 0;
      let batch: string[] = [];
      let size = 0;
      const flush = async (): Promise<void> => {
        await l.insert(table, entry.columns, batch);
        done += batch.length;
        batch = [];
        size = 0;
        o.onProgress?.({ phase: 'restore', table: table.name, done, total: entry.rows, finished: false });
      };
      const hasher = hashing();
      const raw = await o.storage.get(entry.file);
      const gunzip = createGunzip();
      raw.on('error', (err) => gunzip.destroy(err));
      const text = raw.pipe(hasher).pipe(gunzip);
      try {
        for await (const part of lines(text)) {
          for (const line of part) {
            if (line === '') continue;
            batch.push(line);
            size += line.length;
            if (batch.length >= batchRows || size >= batchBytes) await flush();
          }
        }
      } catch (err) {
        // Changed after the verification pass: gzip notices before the checksum does.
        if (String((err as NodeJS.ErrnoException).code).startsWith('Z_')) throw corrupt(entry);
        throw err;
      } finally {
        raw.destroy(); // a failed insert leaves the download unfinished: close it
      }
      if (batch.length > 0) await flush();
      if (hasher.digest().sha256 !== entry.sha256) throw corrupt(entry);
      if (done !== entry.rows) throw new BackupError(`${entry.file}: holds ${done} rows, the manifest says ${entry.rows}`);
      counts[table.name] = done;
      o.onProgress?.({ phase: 'restore', table: table.name, done, total: entry.rows, finished: true });
    }
    await l.restoreSequences();
    // What the database now holds for the restored tenants, against the manifest, before committing.
    for (const [table, entry] of tables) {
      const n = await l.count(table, scope);
      if (n !== entry.rows)
        throw new BackupError(`${table.name}: ${n} rows after loading, the manifest says ${entry.rows}; nothing was restored`);
    }
    return counts;
  });
  return { manifest, rows };
}

function checkTarget(manifest: Manifest, existing: readonly string[]): void {
  if (manifest.tenant === null && existing.length > 0) {
    throw new BackupError(
      `The target database is not empty (it holds ${existing.length} tenant(s)). A full restore needs an empty database ` +
        `(a new one, migrated or not); nothing was changed. To move one tenant, back it up with --tenant.`,
    );
  }
  if (manifest.tenant !== null && existing.includes(manifest.tenant)) {
    throw new BackupError(
      `The target database already holds tenant ${manifest.tenant}; nothing was changed. Delete it there first, or restore into another database.`,
    );
  }
}

export async function readManifest(storage: BackupStorage): Promise<Manifest> {
  let text: string;
  try {
    text = (await readAll(await storage.get(MANIFEST_FILE))).toString('utf8');
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new BackupError(
        `${storage.location} has no ${MANIFEST_FILE}: the backup is incomplete (it was interrupted, or is still being written) or is not a Tramline backup; refusing to restore it`,
      );
    }
    throw err;
  }
  return parseManifest(text);
}

/** The manifest's tables in this version's dependency order; a table this version does not know is refused. */
function orderedTables(manifest: Manifest): Array<[BackupTable, ManifestTable]> {
  const known = new Map(BACKUP_TABLES.map((t) => [t.name, t]));
  for (const t of manifest.tables) {
    if (!known.has(t.name))
      throw new BackupError(
        `This backup holds table ${t.name}, unknown to Tramline here: restore it with Tramline ${manifest.tramlineVersion} or newer`,
      );
  }
  const byName = new Map(manifest.tables.map((t) => [t.name, t]));
  return BACKUP_TABLES.filter((t) => byName.has(t.name)).map((t) => [t, byName.get(t.name)!]);
}

const corrupt = (entry: ManifestTable): BackupError =>
  new BackupError(
    `${entry.file}: checksum mismatch (sha256 differs from the manifest): the file is corrupt or was changed; nothing was restored`,
  );

/** Reads every file once and compares its sha256 and size with the manifest, before anything is written. */
async function verifyFiles(storage: BackupStorage, manifest: Manifest, onProgress?: OnProgress): Promise<void> {
  for (const entry of manifest.tables) {
    let body: Readable;
    try {
      body = await storage.get(entry.file);
    } catch (err) {
      if (err instanceof NotFoundError)
        throw new BackupError(`${entry.file} is missing from ${storage.location}: the backup is incomplete`);
      throw err;
    }
    const hasher = hashing();
    let done = 0;
    onProgress?.({ phase: 'verify', table: entry.name, done, total: entry.bytes, finished: false });
    for await (const chunk of body.pipe(hasher)) {
      done += (chunk as Buffer).length;
      onProgress?.({ phase: 'verify', table: entry.name, done, total: entry.bytes, finished: false });
    }
    const d = hasher.digest();
    if (d.sha256 !== entry.sha256 || d.bytes !== entry.bytes) throw corrupt(entry);
    onProgress?.({ phase: 'verify', table: entry.name, done, total: entry.bytes, finished: true });
  }
}

/**
 * Secrets in a backup stay sealed under each tenant's data key, wrapped by the source's master key.
 * Every wrapped key must open with the target's keys, or the restored endpoints could not sign.
 */
async function checkMasterKey(storage: BackupStorage, manifest: Manifest, keys: KeyWrapper | null): Promise<void> {
  const entry = manifest.tables.find((t) => t.name === 'tenant_keys');
  if (!entry || entry.rows === 0) return;
  const need = manifest.masterKeyVersions.join(', ');
  const advice =
    `Restore needs the master key of the instance that took the backup (version ${need}): set TRAMLINE_MASTER_KEY to it ` +
    `(on the embedded database, or copy that instance's <data folder>/master-key into the new data folder); data keys it had ` +
    `moved to AWS KMS need its TRAMLINE_KMS_KEYS and a role that may decrypt with them. Nothing was restored.`;
  if (!keys) throw new BackupError(`The target has no master key. ${advice}`);
  const text = (await readAll((await storage.get(entry.file)).pipe(createGunzip()))).toString('utf8');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const k = JSON.parse(line) as { tenant_id: string; master_version: number; wrapped_key: string };
    try {
      await keys.unwrap(k.master_version, k.wrapped_key, dataKeyContext(k.tenant_id));
    } catch {
      throw new BackupError(
        `The configured master key does not open tenant ${k.tenant_id}'s data key (master key version ${k.master_version}). ${advice}`,
      );
    }
  }
}
