import { describe, it, expect, afterEach, vi } from 'vitest';
import http from 'node:http';
import dns from 'node:dns';
import type { AddressInfo } from 'node:net';
import { createHttpClient, guardedLookup, parseRetryAfter, type HttpClient } from './http-client.ts';
import { parseCidrList } from '../domain/egress-guard.ts';

const LOOPBACK = parseCidrList('127.0.0.0/8,::1/128');

interface TestServer {
  url: string;
  port: number;
  connections: number;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length) await cleanups.pop()!();
});

/** Real node:http server on 127.0.0.1:0 that counts connections and requests. */
async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<TestServer> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      t.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res);
    });
  });
  server.on('connection', () => t.connections++);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const t: TestServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  cleanups.push(t.close);
  return t;
}

function client(opts: Partial<Parameters<typeof createHttpClient>[0]> = {}): HttpClient {
  const c = createHttpClient({ timeoutMs: 2000, allow: LOOPBACK, ...opts });
  cleanups.push(() => c.close());
  return c;
}

describe('createHttpClient', () => {
  it('posts the body and returns status + excerpt', async () => {
    const s = await serve((_req, res) => res.writeHead(202, { 'content-type': 'text/plain' }).end('accepted ✓'));
    const r = await client().post(`${s.url}/hook?x=1`, { 'content-type': 'application/json', 'x-sig': 'abc' }, '{"a":1}');
    expect(r).toMatchObject({ kind: 'response', status: 202, excerpt: 'accepted ✓', retryAfterMs: null });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ method: 'POST', url: '/hook?x=1', body: '{"a":1}' });
    expect(s.requests[0]!.headers['x-sig']).toBe('abc');
  });

  it('reads at most maxExcerptBytes of a 1 MiB body', async () => {
    const s = await serve((_req, res) => res.writeHead(200).end(Buffer.alloc(1024 * 1024, 'a')));
    const r = await client().post(s.url, {}, 'x');
    expect(r.kind).toBe('response');
    if (r.kind !== 'response') return;
    expect(Buffer.byteLength(r.excerpt)).toBe(4096);
    expect(r.excerpt).toBe('a'.repeat(4096));
  });

  it('never cuts a UTF-8 sequence into U+FFFD', async () => {
    const s = await serve((_req, res) => res.writeHead(200).end('ab€€€'));
    const r = await client({ maxExcerptBytes: 4 }).post(s.url, {}, '');
    // 'ab' + first byte of '€' … the partial sequence is dropped.
    expect(r).toMatchObject({ kind: 'response', excerpt: 'ab' });
  });

  it('does not follow redirects', async () => {
    const target = await serve((_req, res) => res.end('target'));
    const s = await serve((_req, res) => res.writeHead(301, { location: `${target.url}/elsewhere` }).end('moved'));
    const r = await client().post(s.url, {}, '');
    expect(r).toMatchObject({ kind: 'response', status: 301, excerpt: 'moved' });
    await new Promise((res) => setTimeout(res, 50));
    expect(target.requests).toHaveLength(0);
    expect(target.connections).toBe(0);
  });

  it('times out a server that never answers', async () => {
    const s = await serve(() => {
      /* hold the request open */
    });
    const t0 = performance.now();
    const r = await client({ timeoutMs: 300 }).post(s.url, {}, '');
    const took = performance.now() - t0;
    expect(r).toMatchObject({ kind: 'error', code: 'timeout' });
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(1500);
    expect(r.durationMs).toBeGreaterThanOrEqual(280);
  });

  it('times out a body that never ends (total deadline, not per chunk)', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      const iv = setInterval(() => res.write('.'), 50); // keeps bodyTimeout happy
      res.on('close', () => clearInterval(iv));
    });
    const t0 = performance.now();
    const r = await client({ timeoutMs: 300, maxExcerptBytes: 1_000_000 }).post(s.url, {}, '');
    expect(r).toMatchObject({ kind: 'error', code: 'timeout' });
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it('parses Retry-After seconds and HTTP dates', async () => {
    const s = await serve((req, res) => {
      const value = req.url === '/date' ? new Date(Date.now() + 60_000).toUTCString() : '7';
      res.writeHead(429, { 'retry-after': value }).end();
    });
    const c = client();
    expect(await c.post(`${s.url}/secs`, {}, '')).toMatchObject({ kind: 'response', status: 429, retryAfterMs: 7000 });
    const r = await c.post(`${s.url}/date`, {}, '');
    expect(r.kind === 'response' && r.retryAfterMs).toBeGreaterThan(55_000);
    expect(r.kind === 'response' && r.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('refuses literal loopback with an empty allowlist without connecting', async () => {
    const s = await serve((_req, res) => res.end('should not happen'));
    const c = client({ allow: parseCidrList('') });
    for (const host of [`127.0.0.1:${s.port}`, `127.1:${s.port}`, `[::ffff:127.0.0.1]:${s.port}`, `2130706433:${s.port}`]) {
      expect(await c.post(`http://${host}/`, {}, '')).toMatchObject({ kind: 'error', code: 'egress_refused' });
    }
    expect(s.connections).toBe(0);
  });

  it('refuses localhost unless loopback is allowed', async () => {
    const s = await serve((_req, res) => res.end('hi'));
    const refused = await client({ allow: parseCidrList('') }).post(`http://localhost:${s.port}/`, {}, '');
    expect(refused).toMatchObject({ kind: 'error', code: 'egress_refused' });
    expect(s.connections).toBe(0);

    const ok = await client({ allow: LOOPBACK }).post(`http://localhost:${s.port}/`, {}, '');
    expect(ok).toMatchObject({ kind: 'response', status: 200, excerpt: 'hi' });
    expect(s.connections).toBe(1);
  });

  it('checks DNS answers at dial time and connects to the checked address', async () => {
    const s = await serve((_req, res) => res.end('via dns'));
    // A "public-looking" name whose DNS answer is loopback (rebinding-style).
    const lookup = vi.spyOn(dns, 'lookup').mockImplementation(((
      host: string,
      _opts: unknown,
      cb: (e: Error | null, a: dns.LookupAddress[]) => void,
    ) => {
      expect(host).toBe('hooks.example.test');
      cb(null, [{ address: '127.0.0.1', family: 4 }]);
    }) as unknown as typeof dns.lookup);

    const refused = await client({ allow: parseCidrList('') }).post(`http://hooks.example.test:${s.port}/`, {}, '');
    expect(refused).toMatchObject({ kind: 'error', code: 'egress_refused' });
    expect(refused.kind === 'error' && refused.message).toMatch(/127\.0\.0\.1 is loopback/);
    expect(s.connections).toBe(0);

    const ok = await client({ allow: LOOPBACK }).post(`http://hooks.example.test:${s.port}/`, {}, '');
    expect(ok).toMatchObject({ kind: 'response', status: 200, excerpt: 'via dns' });
    expect(s.requests[0]!.headers.host).toBe(`hooks.example.test:${s.port}`);
    expect(lookup).toHaveBeenCalledTimes(2); // once per client: no second resolution
  });

  it('reuses one keep-alive connection for sequential posts', async () => {
    const s = await serve((_req, res) => res.end('ok'));
    const c = client();
    expect(await c.post(s.url, {}, '1')).toMatchObject({ status: 200 });
    expect(await c.post(s.url, {}, '2')).toMatchObject({ status: 200 });
    expect(s.requests).toHaveLength(2);
    expect(s.connections).toBe(1);
  });

  it('maps bad URLs, refused connections and caller aborts without throwing', async () => {
    const c = client();
    expect(await c.post('ftp://127.0.0.1/', {}, '')).toMatchObject({ kind: 'error', code: 'invalid_url' });
    expect(await c.post('http://u:p@127.0.0.1/', {}, '')).toMatchObject({ kind: 'error', code: 'invalid_url' });
    expect(await c.post('::nope', {}, '')).toMatchObject({ kind: 'error', code: 'invalid_url' });

    const gone = await serve(() => {});
    await gone.close();
    expect(await c.post(gone.url, {}, '')).toMatchObject({ kind: 'error', code: 'connect_failed' });

    const s = await serve(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    expect(await c.post(s.url, {}, '', ac.signal)).toMatchObject({ kind: 'error', code: 'network', message: 'aborted by caller' });

    expect(await c.post(s.url, { 'bad header': 'x' }, '')).toMatchObject({ kind: 'error' });
  });
});

describe('guardedLookup', () => {
  type Cb = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
  const run = (answer: dns.LookupAddress[], all: boolean, allow = parseCidrList('')) =>
    new Promise<Parameters<Cb>>((resolve) => {
      const lookup = guardedLookup(allow, (_h, _o, cb) => cb(null, answer));
      lookup('h.test', { all } as dns.LookupOptions, ((...args: Parameters<Cb>) => resolve(args)) as Cb);
    });

  it('refuses when any address in the answer is refused', async () => {
    const [err] = await run(
      [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.1', family: 4 },
      ],
      true,
    );
    expect((err as NodeJS.ErrnoException).code).toBe('ERR_EGRESS_REFUSED');
  });

  it('supports the all:true and single-address callback forms', async () => {
    const answer = [
      { address: '2606:4700::1111', family: 6 },
      { address: '93.184.216.34', family: 4 },
    ];
    expect(await run(answer, true)).toEqual([null, answer]);
    expect(await run(answer, false)).toEqual([null, '2606:4700::1111', 6]);
  });

  it('folds IPv4-mapped answers', async () => {
    const [err] = await run([{ address: '::ffff:169.254.169.254', family: 6 }], false);
    expect(err?.message).toMatch(/169\.254\.169\.254 is link-local/);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  it.each([
    [undefined, null],
    ['', null],
    ['120', 120_000],
    ['0', 0],
    ['-1', null],
    ['1.5', null],
    ['soon', null],
    ['Wed, 21 Oct 2015 07:28:30 GMT', 30_000],
    ['Wednesday, 21-Oct-15 07:28:30 GMT', 30_000],
    ['Wed Oct 21 07:28:30 2015', 30_000],
    ['Wed, 21 Oct 2015 07:00:00 GMT', 0],
    [['5', '9'], 5000],
  ] as const)('%j → %j', (v, want) => {
    expect(parseRetryAfter(v as string | string[] | undefined, now)).toBe(want);
  });
});
