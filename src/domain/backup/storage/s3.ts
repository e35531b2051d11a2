import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NotFoundError, type BackupStorage } from '../storage.ts';

export interface S3Options {
  /** An S3-compatible endpoint (MinIO, R2, Ceph…); unset: AWS itself. */
  endpoint: string | undefined;
  region: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (most S3-compatible servers want it). */
  forcePathStyle: boolean;
}

/**
 * Backups in an S3 bucket under a prefix. Credentials come from the SDK's usual chain
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance or pod role). Uploads stream
 * in 5 MiB parts (multipart), so a large table never sits in memory; S3 shows an object only once
 * its upload completes.
 */
export function s3Storage(bucket: string, prefix: string, opts: S3Options, client?: S3Client): BackupStorage {
  const s3 =
    client ??
    new S3Client({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle,
      // The newer default CRC checksums are not understood by every S3-compatible server.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const base = prefix.replace(/^\/+|\/+$/g, '');
  const full = (key: string): string => (base ? `${base}/${key}` : key);
  const isMissing = (err: unknown): boolean =>
    err instanceof NoSuchKey ||
    err instanceof NotFound ||
    (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;

  async function keysUnder(p: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: p, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  return {
    location: `s3://${bucket}/${base}`,
    async put(key, body) {
      await new Upload({
        client: s3,
        params: { Bucket: bucket, Key: full(key), Body: body },
        queueSize: 2,
        partSize: 5 * 1024 * 1024,
      }).done();
    },
    async get(key) {
      try {
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: full(key) }));
        return r.Body as Readable;
      } catch (err) {
        if (isMissing(err)) throw new NotFoundError(`s3://${bucket}/${full(key)} does not exist`);
        throw err;
      }
    },
    async exists(key) {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: full(key) }));
        return true;
      } catch (err) {
        if (isMissing(err)) return false;
        throw err;
      }
    },
    async listFolders() {
      const names: string[] = [];
      let token: string | undefined;
      const p = base ? `${base}/` : '';
      do {
        const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: p, Delimiter: '/', ContinuationToken: token }));
        for (const cp of r.CommonPrefixes ?? []) if (cp.Prefix) names.push(cp.Prefix.slice(p.length).replace(/\/$/, ''));
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return names.sort();
    },
    async removeFolder(folder) {
      // A backup is about a dozen objects: one request each keeps to the API every S3-compatible server has.
      for (const key of await keysUnder(`${full(folder)}/`)) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    child: (folder) => s3Storage(bucket, full(folder), opts, s3),
  };
}
