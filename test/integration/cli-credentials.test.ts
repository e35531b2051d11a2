import fs from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { listenHttp } from '../../src/net/http-listen.ts';
import { engine } from '../helpers/db.ts';
import { freePort, killAll, printChildOutputOnFailure, runTramline, spawnTramline, waitUntil } from '../helpers/process.ts';

printChildOutputOnFailure();
afterAll(killAll);

/**
 * The CLI never hands the operator token to a peer it has not identified: not to whatever listens on
 * 127.0.0.1:$PORT, not to an address left in gateway.json that something else now holds, not to a
 * server that copies Tramline's identity answer without being able to prove it knows the token.
 */
interface Peer {
  url: string;
  port: number;
  requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

async function peer(answer: (url: string) => { status: number; body: string }): Promise<Peer> {
  const requests: Peer['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    const a = answer(req.url ?? '/');
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
  });
  const url = await listenHttp(server, 0, '127.0.0.1');
  return { url, port: Number(new URL(url).port), requests, close: () => new Promise((r) => server.close(() => r())) };
}

const peers: Peer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A data folder as a running gateway leaves it: locked by a live process, with an operator token. */
function heldDataDir(record?: { url: string }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-cred-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'tramline.pid'), String(process.pid)); // this test process: alive
  fs.writeFileSync(path.join(dir, 'operator-token'), 'tlop_the-operator-token-of-this-data-folder\n', { mode: 0o600 });
  if (record) fs.writeFileSync(path.join(dir, 'gateway.json'), JSON.stringify({ pid: process.pid, ...record }), { mode: 0o600 });
  return dir;
}

const neverGotAToken = (p: Peer): void => {
  for (const r of p.requests) expect(r.headers.authorization, `${r.method} ${r.url}`).toBeUndefined();
  expect(p.requests.some((r) => r.method === 'POST')).toBe(false);
};

describe.runIf(engine() === 'pglite')('tramline tenants create: credentials go to an identified gateway only', () => {
  it('never guesses the gateway from PORT: an unrelated server there gets no request at all', async () => {
    const other = await peer(() => ({ status: 200, body: '"ok"' }));
    peers.push(other);
    const dataDir = heldDataDir(); // locked, but no gateway.json
    const r = await runTramline(['tenants', 'create', 'acme'], { TRAMLINE_DATA_DIR: dataDir, PORT: String(other.port) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/in use by process/);
    expect(r.stderr).toMatch(/operator token was not sent anywhere/);
    expect(other.requests).toEqual([]);
  });

  it('refuses a recorded address where something else answers, and says so', async () => {
    const other = await peer(() => ({ status: 200, body: '"ok"' }));
    peers.push(other);
    const dataDir = heldDataDir({ url: other.url });
    const r = await runTramline(['tenants', 'create', 'acme'], { TRAMLINE_DATA_DIR: dataDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Refusing to send credentials to ${other.url}: it is not a Tramline gateway`);
    expect(r.stderr).toContain('Nothing was sent');
    neverGotAToken(other);
    expect(other.requests.map((q) => q.url)).toEqual([expect.stringMatching(/^\/\.well-known\/tramline\?challenge=[A-Za-z0-9_-]{16,}$/)]);
  });

  it('refuses an impostor that answers like Tramline but cannot prove it knows the operator token', async () => {
    const impostor = await peer((url) =>
      url.startsWith('/.well-known/tramline')
        ? {
            status: 200,
            body: JSON.stringify({ service: 'tramline', version: '0.1.0', operatorProof: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
          }
        : { status: 201, body: JSON.stringify({ id: 'ten_x', name: 'acme', apiKey: 'tl_x' }) },
    );
    peers.push(impostor);
    const dataDir = heldDataDir({ url: impostor.url });
    const r = await runTramline(['tenants', 'create', 'acme'], { TRAMLINE_DATA_DIR: dataDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Refusing to send credentials .*could not prove it knows this operator token/);
    neverGotAToken(impostor);
  });

  it('creates the tenant through the running gateway it recorded, whatever PORT says, and the record goes with the gateway', async () => {
    const other = await peer(() => ({ status: 200, body: '"ok"' }));
    peers.push(other);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-cred-'));
    dirs.push(dataDir);
    const gw = spawnTramline(['start'], {
      TRAMLINE_DATA_DIR: dataDir,
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    });
    const recordFile = path.join(dataDir, 'gateway.json');
    const record = await waitUntil(
      () => (fs.existsSync(recordFile) ? (JSON.parse(fs.readFileSync(recordFile, 'utf8')) as { pid: number; url: string }) : undefined),
      180_000,
      'gateway.json',
    );
    expect(record.pid).toBe(gw.pid);
    expect(fs.statSync(recordFile).mode & 0o777).toBe(0o600);
    const r = await runTramline(['tenants', 'create', 'acme'], { TRAMLINE_DATA_DIR: dataDir, PORT: String(other.port) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/API key \(shown once\): tl_/);
    expect(other.requests).toEqual([]);
    await gw.stop();
    expect(fs.existsSync(recordFile)).toBe(false);
  }, 240_000); // a first start initialises PGlite: seconds alone, a minute on a loaded machine
});
