import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Db } from '../../store/db.ts';
import { NotInitialisedError, withSnapshot } from '../../store/backup-read.ts';
import { BACKUP_TABLES, NOT_BACKED_UP } from '../../store/backup-tables.ts';
import { BackupError, FORMAT, FORMAT_VERSION, MANIFEST_FILE, tableFile, type Manifest, type ManifestTable } from './manifest.ts';
import type { OnProgress } from './progress.ts';
import type { BackupStorage } from './storage.ts';
import { hashing } from './streams.ts';

export interface TakeBackupOptions {
  db: Db;
  storage: BackupStorage;
  /** One tenant's rows only (to move it to another instance); null or absent: everything. */
  tenant?: string | null;
  clock: () => Date;
  tramlineVersion: string;
  onProgress?: OnProgress;
  /**
   * Scheduled backups: take the fleet-wide backup lock (non-blocking) and call `proceed` once it is
   * held; resolves null, writing nothing, when another process holds the lock or `proceed` says no.
   */
  lock?: { proceed: () => Promise<boolean> };
  batchSize?: number;
}

/**
 * Writes a consistent snapshot: every table read in one REPEATABLE READ transaction, in dependency
 * order, streamed through a cursor into one gzipped NDJSON file per table; then manifest.json,
 * last, with each file's row count and sha256. Secrets stay as stored: sealed values and data keys
 * wrapped by the master key, which is not in the backup.
 */
export async function takeBackup(o: TakeBackupOptions): Promise<Manifest | null> {
  try {
    return await snapshot(o);
  } catch (err) {
    if (err instanceof NotInitialisedError) throw new BackupError(err.message);
    throw err;
  }
}

async function snapshot(o: TakeBackupOptions): Promise<Manifest | null> {
  const tenant = o.tenant ?? null;
  const batchSize = o.batchSize ?? 2_000;
  return withSnapshot(o.db, { lock: o.lock !== undefined }, async (r) => {
    if (o.lock && !(await o.lock.proceed())) return null;
    const started = o.clock();
    if (tenant !== null && !(await r.tenantExists(tenant))) throw new BackupError(`There is no tenant ${tenant} in this database`);
    const migrations = await r.migrations();
    // A table this version does not know would be left out silently: refuse instead. One it knows but the
    // database lacks (an older schema) is simply absent from the backup.
    const present = new Set(await r.tables());
    const known = new Set<string>([...BACKUP_TABLES.map((t) => t.name), ...NOT_BACKED_UP]);
    const unknown = [...present].filter((t) => !known.has(t));
    if (unknown.length > 0) {
      throw new BackupError(
        `This database has tables this Tramline does not know (${unknown.join(', ')}): back it up with the Tramline version that runs it`,
      );
    }
    const tables: ManifestTable[] = [];
    const masterKeyVersions = new Set<number>();
    for (const table of BACKUP_TABLES.filter((t) => present.has(t.name))) {
      const columns = await r.columns(table.name);
      const total = await r.count(table, tenant);
      o.onProgress?.({ phase: 'backup', table: table.name, done: 0, total, finished: false });
      let rows = 0;
      async function* ndjson(): AsyncGenerator<Buffer> {
        for await (const batch of r.rows(table, tenant, batchSize)) {
          rows += batch.length;
          if (table.name === 'tenant_keys')
            for (const line of batch) masterKeyVersions.add((JSON.parse(line) as { master_version: number }).master_version);
          o.onProgress?.({ phase: 'backup', table: table.name, done: rows, total, finished: false });
          yield Buffer.from(`${batch.join('\n')}\n`, 'utf8');
        }
      }
      const file = tableFile(table.name);
      const digest = await streamTo(o.storage, file, ndjson());
      // The snapshot cannot change under us; a difference means a bug, and a backup that says so.
      if (rows !== total) throw new BackupError(`${table.name}: read ${rows} rows, expected ${total}`);
      tables.push({ name: table.name, file, columns, rows, ...digest });
      o.onProgress?.({ phase: 'backup', table: table.name, done: rows, total, finished: true });
    }
    const manifest: Manifest = {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      tramlineVersion: o.tramlineVersion,
      schemaVersion: migrations[migrations.length - 1] ?? '',
      migrations,
      engine: o.db.kind,
      createdAt: started.toISOString(),
      durationMs: o.clock().getTime() - started.getTime(),
      tenant,
      compression: 'gzip',
      masterKeyVersions: [...masterKeyVersions].sort((a, b) => a - b),
      tables,
    };
    await o.storage.put(MANIFEST_FILE, Readable.from([Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)]));
    return manifest;
  });
}

/** Gzips `source` into `key` of the storage, hashing the compressed bytes on the way. */
async function streamTo(storage: BackupStorage, key: string, source: AsyncIterable<Buffer>): Promise<{ sha256: string; bytes: number }> {
  const hasher = hashing();
  const out = new PassThrough();
  // One batch read ahead at most: the cursor, not a stream buffer, holds the rest.
  const piping = pipeline(Readable.from(source, { highWaterMark: 1 }), createGzip({ level: 6 }), hasher, out);
  const putting = storage.put(key, out).catch((err: Error) => {
    out.destroy(err); // stops the pipeline instead of leaving it waiting on a full buffer
    throw err;
  });
  const results = await Promise.allSettled([piping, putting]);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return hasher.digest();
}
