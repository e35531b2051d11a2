import type { Readable } from 'node:stream';

/**
 * Where backups live: a folder or an S3-compatible bucket, behind the few operations a backup
 * needs. Keys are relative paths with `/` separators (`2026-11-26T06-00-00-000Z/messages.ndjson.gz`).
 */
export interface BackupStorage {
  /** Human-readable location, for messages (`/var/backups/tramline`, `s3://bucket/prefix`). */
  readonly location: string;
  /** Streams `body` to `key`; the object appears whole or not at all. */
  put(key: string, body: Readable): Promise<void>;
  /** Throws NotFoundError when `key` does not exist. */
  get(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  /** Names of the immediate "sub-folders" (common prefixes) at the root. */
  listFolders(): Promise<string[]>;
  /** Deletes everything under `folder/`. */
  removeFolder(folder: string): Promise<void>;
  /** The same storage, rooted at `folder/`. */
  child(folder: string): BackupStorage;
}

export class NotFoundError extends Error {}
