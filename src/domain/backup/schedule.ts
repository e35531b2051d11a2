import type { Db } from '../../store/db.ts';
import { MANIFEST_FILE } from './manifest.ts';
import { takeBackup } from './snapshot.ts';
import type { BackupStorage } from './storage.ts';

/**
 * Scheduled backups: each goes to DEST/<timestamp>/; the newest `keep` complete ones stay. Any
 * number of schedulers may run: a backup takes the fleet-wide lock, and is taken only when the newest
 * complete one is older than the interval, so a fleet takes one per interval and a restart does
 * not add one.
 */
export const folderName = (d: Date): string => d.toISOString().replace(/[:.]/g, '-'); // 2026-11-26T06-00-00-000Z

const NAME_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/;

export function folderTime(name: string): Date | null {
  const m = NAME_RE.exec(name);
  return m ? new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`) : null;
}

export interface BackupFolder {
  name: string;
  complete: boolean;
}

/**
 * Which folders to delete: complete backups beyond the newest `keep`, and incomplete ones (no
 * manifest: a run that died) older than the newest complete backup — a newer incomplete one may be
 * a backup still being written. Folders not named like ours are never touched.
 */
export function planRetention(folders: readonly BackupFolder[], keep: number): string[] {
  const ours = folders.filter((f) => folderTime(f.name) !== null).sort((a, b) => (a.name < b.name ? 1 : -1));
  const complete = ours.filter((f) => f.complete);
  const newest = complete[0]?.name;
  return [
    ...complete.slice(keep).map((f) => f.name),
    ...ours.filter((f) => !f.complete && newest !== undefined && f.name < newest).map((f) => f.name),
  ].sort();
}

/** True when no complete backup is younger than the interval (with a little slack for timer drift). */
export function isDue(folders: readonly BackupFolder[], now: Date, intervalMs: number): boolean {
  const newest = folders
    .filter((f) => f.complete)
    .map((f) => folderTime(f.name)?.getTime() ?? -Infinity)
    .reduce((a, b) => Math.max(a, b), -Infinity);
  return now.getTime() - newest >= intervalMs * 0.95;
}

export async function inventory(storage: BackupStorage): Promise<BackupFolder[]> {
  const names = (await storage.listFolders()).filter((n) => folderTime(n) !== null);
  return Promise.all(names.map(async (name) => ({ name, complete: await storage.exists(`${name}/${MANIFEST_FILE}`) })));
}

export interface ScheduledRun {
  /** The folder written, or null when none was due or another process held the lock. */
  taken: string | null;
  deleted: string[];
}

export async function runScheduledBackup(o: {
  db: Db;
  storage: BackupStorage;
  clock: () => Date;
  intervalMs: number;
  keep: number;
  tramlineVersion: string;
}): Promise<ScheduledRun> {
  if (!isDue(await inventory(o.storage), o.clock(), o.intervalMs)) return { taken: null, deleted: [] };
  const name = folderName(o.clock());
  const manifest = await takeBackup({
    db: o.db,
    storage: o.storage.child(name),
    clock: o.clock,
    tramlineVersion: o.tramlineVersion,
    // Under the lock, look again: another scheduler may have just finished one.
    lock: { proceed: async () => isDue(await inventory(o.storage), o.clock(), o.intervalMs) },
  });
  if (!manifest) return { taken: null, deleted: [] };
  const deleted = planRetention(await inventory(o.storage), o.keep);
  for (const f of deleted) await o.storage.removeFolder(f);
  return { taken: name, deleted };
}
