import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../helpers/client.ts';
import { OPERATOR_TOKEN, TEST_ENV } from '../helpers/gateway.ts';
import { freePort, killAll, printChildOutputOnFailure, spawnTramline, type TramlineProcess } from '../helpers/process.ts';

// A body over TRAMLINE_MAX_PAYLOAD_BYTES is refused with 413 before it is read. Closing the socket with the
// rest of the body unread makes the kernel reset the connection, and Node's fetch and node:http then lose the
// answer (EPIPE / ECONNRESET) about half the time. The lingering close (src/api/plugins/lingering-close.ts)
// reads and discards the rest, then closes: every client gets the problem document, every time.
// The gateway is a process of its own (`tramline start --role api`): in the test's own process the client
// and the server share one event loop and the race that loses the answer does not show.
// 2 MiB is what was reported; whether it is lost depends on the kernel's socket buffers (here they absorb
// 2 MiB whole and nothing is lost either way), so 16 MiB — larger than any loopback buffer — is sent as well:
// without the lingering close, about one in ten of those lose their answer on this machine.
const TRIES = 20;
const SIZES = [2, 16].map((mib) => ({
  mib,
  body: Buffer.from(JSON.stringify({ eventType: 'big.event', payload: { blob: 'x'.repeat(mib * 1024 * 1024) } })),
}));
const EXPECTED = '413 application/problem+json; charset=utf-8 413';

printChildOutputOnFailure();

describe('oversized bodies', () => {
  const path = '/v1/consumers/big/messages';
  const gw = { url: '' };
  const tenant = { key: '', api: client('') };
  let proc: TramlineProcess;
  let dataDir = '';
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(`${os.tmpdir()}/tramline-oversized-`);
    const port = await freePort();
    gw.url = `http://127.0.0.1:${port}`;
    proc = spawnTramline(
      ['start', '--role', 'api'],
      { ...TEST_ENV, PORT: String(port), TRAMLINE_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      { name: 'gateway' },
    );
    await proc.waitForReady(gw.url, 90_000);
    const t = await client(gw.url, OPERATOR_TOKEN).post('/v1/tenants', { name: 'Big bodies' });
    expect(t.status).toBe(201);
    tenant.key = (t.body as { apiKey: string }).apiKey;
    tenant.api = client(gw.url, tenant.key);
    const c = await tenant.api.post('/v1/consumers', { name: 'Big', uid: 'big' });
    expect(c.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await proc?.stop();
    await killAll();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(SIZES)(
    `answers a $mib MiB publish with the 413 problem document to Node's fetch, ${TRIES} times out of ${TRIES}`,
    async ({ body: BODY }) => {
      const outcomes: string[] = [];
      for (let i = 0; i < TRIES; i++) {
        try {
          const res = await fetch(gw.url + path, {
            method: 'POST',
            headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
            body: BODY,
            signal: AbortSignal.timeout(15_000),
          });
          const body = (await res.json()) as { status?: number };
          outcomes.push(`${res.status} ${res.headers.get('content-type')} ${body.status}`);
        } catch (err) {
          outcomes.push(`error ${describeError(err)}`);
        }
      }
      expect(outcomes).toEqual(Array(TRIES).fill(EXPECTED));
    },
  );

  it.each(SIZES)(
    `answers a $mib MiB publish with the 413 problem document to node:http, ${TRIES} times out of ${TRIES}`,
    async ({ body }) => {
      const outcomes: string[] = [];
      for (let i = 0; i < TRIES; i++) outcomes.push(await postWithNodeHttp(gw.url + path, tenant.key, body));
      expect(outcomes).toEqual(Array(TRIES).fill(EXPECTED));
    },
  );

  it('answers a chunked body (no content-length) that grows past the limit with 413 as well', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) outcomes.push(await postWithNodeHttp(gw.url + path, tenant.key, SIZES[1]!.body, { chunked: true }));
    expect(outcomes).toEqual(Array(5).fill(EXPECTED));
  });

  it('still serves requests after the refusals (nothing was left half-open)', async () => {
    const r = await tenant.api.post(path, { eventType: 'small.event', payload: { ok: true } });
    expect(r.status).toBe(202);
  });
});

function postWithNodeHttp(url: string, key: string, body: Buffer, opts: { chunked?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        ...(opts.chunked ? {} : { 'content-length': String(body.length) }),
      },
      timeout: 15_000,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let status: unknown;
        try {
          status = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status?: number }).status;
        } catch {
          status = 'unparsable';
        }
        resolve(`${res.statusCode} ${res.headers['content-type']} ${String(status)}`);
      });
      res.on('error', (err) => resolve(`error ${describeError(err)}`));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    // The server may answer while the body is still being written: an error on the request side after the
    // response arrived does not lose the answer, so only an error before any response counts.
    req.on('error', (err) => resolve(`error ${describeError(err)}`));
    if (opts.chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(body);
  });
}

function describeError(err: unknown): string {
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  return `${e.code ?? e.cause?.code ?? ''} ${e.message}`.trim();
}
