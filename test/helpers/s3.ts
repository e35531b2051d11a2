import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { freePort } from './process.ts';

/** s3rver's fixed credentials: it checks signatures made with them. */
export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  /** The environment a Tramline process needs to reach this server with path-style addressing. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A real S3-compatible HTTP server (s3rver) on a free loopback port, storing into a temporary folder. */
export async function startS3(buckets: string[]): Promise<TestS3> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-s3-'));
  const port = await freePort();
  const server = new S3rver({ address: '127.0.0.1', port, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: { ...S3_CREDENTIALS, AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', TRAMLINE_S3_FORCE_PATH_STYLE: 'true' },
    async close() {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
