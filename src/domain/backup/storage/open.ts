import type { BackupStorage } from '../storage.ts';
import { folderStorage } from './folder.ts';
import { s3Storage, type S3Options } from './s3.ts';

/** `s3://bucket/prefix` → the bucket; anything else is a folder path. */
export function openBackupStorage(dest: string, s3: S3Options): BackupStorage {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(dest);
  if (m) return s3Storage(m[1]!, m[2]!, s3);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dest))
    throw new Error(`Unsupported backup location ${dest}: give a folder path or an s3://bucket/prefix URL`);
  return folderStorage(dest);
}
