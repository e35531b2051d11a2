import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHttpClient, type HttpClient, type HttpClientOptions } from './http-client.ts';
import { parseCidrList } from '../domain/egress-guard.ts';

/**
 * Deliveries to TLS endpoints that offer HTTP/2 in ALPN go as streams of one connection; those that do not, and
 * every endpoint when http2 is off, get HTTP/1.1. Real servers (node:http2, node:https) with a certificate made
 * for the run by openssl.
 */
const LOOPBACK = parseCidrList('127.0.0.0/8,::1/128');
let dir = '';
let tls = { key: '', cert: '' };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-h2-'));
  execFileSync('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
    ...['-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-subj', '/CN=127.0.0.1'],
    ...['-addext', 'subjectAltName=IP:127.0.0.1'],
  ]);
  tls = { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Seen {
  version: string;
  path: string;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

/** What both servers' responses offer. */
interface Res {
  writeHead(status: number, headers?: Record<string, string>): { end(body: string | Uint8Array): unknown; end(): unknown };
}
type Answer = (res: Res, seen: Seen) => void;

/** A TLS server on 127.0.0.1:0; `h2`: offers HTTP/2 and HTTP/1.1 in ALPN, otherwise HTTP/1.1 only. */
async function serve(
  h2: boolean,
  answer: Answer,
  settings?: http2.Settings,
): Promise<{ url: string; seen: Seen[]; connections: () => number }> {
  const seen: Seen[] = [];
  let connections = 0;
  const handler = (req: http2.Http2ServerRequest | http.IncomingMessage, res: Res): void => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const s = { version: req.httpVersion, path: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      answer(res, s);
    });
  };
  const server = h2
    ? http2.createSecureServer({ ...tls, allowHTTP1: true, ...(settings ? { settings } : {}) }, handler)
    : https.createServer(tls, handler);
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => sessions.add(s));
  cleanups.push(async () => {
    for (const s of sessions) s.destroy();
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, connections: () => connections };
}

function client(o: Partial<HttpClientOptions> = {}): HttpClient {
  const c = createHttpClient({ timeoutMs: 2000, allow: LOOPBACK, ca: tls.cert, http2: true, ...o });
  cleanups.push(() => c.close());
  return c;
}

const HEADERS = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-signature': 'v1,abc' };

describe('HTTP/2 to endpoints that offer it', () => {
  it('delivers as HTTP/2 streams of one connection: body, headers, status, Retry-After and excerpt as over HTTP/1.1', async () => {
    const s = await serve(true, (res, seen) => {
      if (seen.body === '"busy"') res.writeHead(429, { 'retry-after': '7' }).end('slow down');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok ✓');
    });
    const c = client();
    // All at once to an origin not dialled yet: the first dials, the others wait for its answer in ALPN.
    const [first, ...many] = await Promise.all([
      c.post(`${s.url}/hook?x=1`, HEADERS, '{"a":1}'),
      ...Array.from({ length: 20 }, (_, i) => c.post(`${s.url}/n/${i}`, HEADERS, `{"i":${i}}`)),
    ]);
    expect(first).toMatchObject({ kind: 'response', status: 200, excerpt: 'ok ✓', retryAfterMs: null });
    expect(many.every((r) => r.kind === 'response' && r.status === 200)).toBe(true);
    expect(await c.post(s.url, HEADERS, '"busy"')).toMatchObject({
      kind: 'response',
      status: 429,
      retryAfterMs: 7000,
      excerpt: 'slow down',
    });
    expect(s.seen).toHaveLength(22);
    expect(new Set(s.seen.map((x) => x.version))).toEqual(new Set(['2.0']));
    const hook = s.seen.find((x) => x.path === '/hook?x=1');
    expect(hook).toMatchObject({ body: '{"a":1}' });
    expect(hook!.headers).toMatchObject({ 'webhook-id': 'msg_1', 'webhook-signature': 'v1,abc', 'content-type': 'application/json' });
    // The 21 concurrent posts went as streams of the connection the first one opened.
    expect(s.connections()).toBe(1);
  });

  it("keeps to the server's limit of streams: more posts than it allows wait their turn on the one connection", async () => {
    let inFlight = 0;
    let most = 0;
    const s = await serve(
      true,
      (res) => {
        most = Math.max(most, ++inFlight);
        setTimeout(() => {
          inFlight--;
          res.writeHead(204).end();
        }, 20);
      },
      { maxConcurrentStreams: 4 },
    );
    const c = client();
    expect(await c.post(s.url, HEADERS, '{}')).toMatchObject({ kind: 'response', status: 204 });
    const all = await Promise.all(Array.from({ length: 30 }, () => c.post(s.url, HEADERS, '{}')));
    expect(all.every((r) => r.kind === 'response' && r.status === 204)).toBe(true);
    expect(most).toBeLessThanOrEqual(4);
    expect(s.connections()).toBe(1);
  });

  it('cuts a long answer at maxExcerptBytes and times out a silent one, and the connection serves the next post', async () => {
    const s = await serve(true, (res, seen) => {
      if (seen.path === '/silent') return; // never answers
      res.writeHead(200).end(seen.path === '/big' ? Buffer.alloc(1024 * 1024, 'a') : 'fine');
    });
    const c = client({ timeoutMs: 500, maxExcerptBytes: 16 });
    expect(await c.post(`${s.url}/warm`, HEADERS, '{}')).toMatchObject({ kind: 'response', status: 200, excerpt: 'fine' });
    expect(await c.post(`${s.url}/big`, HEADERS, '{}')).toMatchObject({ kind: 'response', status: 200, excerpt: 'a'.repeat(16) });
    expect(await c.post(`${s.url}/silent`, HEADERS, '{}')).toMatchObject({ kind: 'error', code: 'timeout' });
    expect(await c.post(`${s.url}/after`, HEADERS, '{}')).toMatchObject({ kind: 'response', status: 200, excerpt: 'fine' });
    expect(s.seen.map((x) => x.version)).toEqual(['2.0', '2.0', '2.0', '2.0']);
    expect(s.connections()).toBe(1);
  });

  it('speaks HTTP/1.1 to a TLS endpoint that offers only HTTP/1.1, a connection per post in flight', async () => {
    const h1 = await serve(false, (res) => res.writeHead(204).end());
    const c = client();
    const all = await Promise.all(Array.from({ length: 8 }, () => c.post(h1.url, HEADERS, '{}')));
    expect(all.every((r) => r.kind === 'response' && r.status === 204)).toBe(true);
    // Then the plain agent: in flight at once, never pipelined on one connection.
    const again = await Promise.all(Array.from({ length: 8 }, () => c.post(h1.url, HEADERS, '{}')));
    expect(again.every((r) => r.kind === 'response' && r.status === 204)).toBe(true);
    expect(new Set(h1.seen.map((x) => x.version))).toEqual(new Set(['1.1']));
    expect(h1.connections()).toBeGreaterThanOrEqual(8);
  });

  it('is off unless asked for: HTTP/1.1 even to an endpoint that offers HTTP/2', async () => {
    const h2 = await serve(true, (res) => res.writeHead(204).end());
    expect(await client({ http2: undefined }).post(h2.url, HEADERS, '{}')).toMatchObject({ kind: 'response', status: 204 });
    expect(h2.seen.map((x) => x.version)).toEqual(['1.1']);
  });

  it('lets a post waiting behind a first dial that hangs go at its own deadline', async () => {
    // Accepts the TCP connection and never answers the TLS handshake.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const sockets = new Set<net.Socket>();
    silent.on('connection', (c) => sockets.add(c));
    cleanups.push(async () => {
      for (const c of sockets) c.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const c = client({ timeoutMs: 400, connectTimeoutMs: 1000 });
    const started = performance.now();
    const first = c.post(url, HEADERS, '{}');
    // Behind the first dial, a post its caller gives up on after 50 ms: it does not wait for the dial.
    const behind = await c.post(url, HEADERS, '{}', AbortSignal.timeout(50));
    expect(behind).toMatchObject({ kind: 'error', code: 'network', message: 'aborted by caller' });
    expect(performance.now() - started).toBeLessThan(700);
    // undici lets go of a request on a connection being dialled only when the dial ends (here its 1 s timeout).
    expect(await first).toMatchObject({ kind: 'error', code: 'timeout' });
  });

  it('refuses a certificate it does not trust, as a TLS error', async () => {
    const s = await serve(true, (res) => res.writeHead(204).end());
    expect(await client({ ca: undefined }).post(s.url, HEADERS, '{}')).toMatchObject({ kind: 'error', code: 'tls' });
    expect(s.seen).toHaveLength(0);
  });
});
