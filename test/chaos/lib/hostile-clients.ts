import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { sleep } from '../../helpers/process.ts';

/**
 * Clients that misbehave on purpose against the API: a slowloris that trickles its headers or its body, an
 * oversized body sent by each common client, and connections opened and left idle.
 */

/** Opens a connection, writes `head` then one byte of `trickle` every `everyMs`; resolves with when the server closed it (ms) and what it answered. */
export function trickle(
  port: number,
  head: string,
  drip: string,
  everyMs: number,
  giveUpMs: number,
): Promise<{ closedAfterMs: number | null; answer: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect(port, '127.0.0.1');
    let answer = '';
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean): void => {
      clearInterval(timer);
      clearTimeout(cap);
      s.destroy();
      resolve({ closedAfterMs: closed ? Date.now() - started : null, answer: answer.split('\r\n')[0] ?? '' });
    };
    const cap = setTimeout(() => finish(false), giveUpMs);
    s.on('connect', () => {
      s.write(head);
      timer = setInterval(() => {
        if (!s.destroyed && s.writable) s.write(drip[i++ % drip.length]!);
      }, everyMs);
    });
    s.on('data', (d) => (answer += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => finish(true));
  });
}

export interface OversizedResult {
  client: string;
  status: number | null;
  problem: boolean;
  error: string | null;
}

const BIG = 2 * 1024 * 1024;

/** POSTs a 2 MiB JSON body with Node's fetch, node:http, curl and python3; each reports the status it got. */
export async function oversized(base: string, path: string, token: string): Promise<OversizedResult[]> {
  const body = JSON.stringify({ eventType: 'big', payload: { x: 'y'.repeat(BIG) } });
  const url = base + path;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const out: OversizedResult[] = [];
  try {
    const r = await fetch(url, { method: 'POST', headers, body });
    out.push({
      client: 'fetch',
      status: r.status,
      problem: (r.headers.get('content-type') ?? '').includes('problem+json') && (await r.text()).includes('413'),
      error: null,
    });
  } catch (err) {
    out.push({ client: 'fetch', status: null, problem: false, error: String((err as Error).cause ?? err) });
  }
  out.push(
    await new Promise<OversizedResult>((resolve) => {
      const req = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () =>
          resolve({
            client: 'node:http',
            status: res.statusCode ?? null,
            problem: String(res.headers['content-type']).includes('problem+json') && text.includes('413'),
            error: null,
          }),
        );
      });
      req.on('error', (err) => resolve({ client: 'node:http', status: null, problem: false, error: err.message }));
      req.end(body);
    }),
  );
  const run = (client: string, cmd: string, args: string[]): Promise<OversizedResult> =>
    new Promise((resolve) => {
      const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let o = '';
      let e = '';
      p.stdout.on('data', (c) => (o += c));
      p.stderr.on('data', (c) => (e += c));
      p.stdin.on('error', () => {});
      p.stdin.end(body);
      p.on('close', () => {
        const [status, ct] = o.trim().split(/\s+/);
        const n = Number(status);
        resolve({
          client,
          status: n > 0 ? n : null,
          problem: (ct ?? '').includes('problem+json'),
          error: n > 0 ? null : e.trim().slice(0, 200) || o.slice(0, 200),
        });
      });
    });
  out.push(
    await run('curl', 'curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{content_type}',
      '-X',
      'POST',
      '-H',
      `authorization: ${headers.authorization}`,
      '-H',
      'content-type: application/json',
      '--data-binary',
      '@-',
      url,
    ]),
  );
  const py = [
    'import sys, urllib.request, urllib.error',
    'data = sys.stdin.buffer.read()',
    `req = urllib.request.Request(sys.argv[1], data=data, method="POST", headers={"authorization": sys.argv[2], "content-type": "application/json"})`,
    'try:',
    '    r = urllib.request.urlopen(req, timeout=30); print(r.status, r.headers.get("content-type"))',
    'except urllib.error.HTTPError as e:',
    '    e.read(); print(e.code, e.headers.get("content-type"))',
  ].join('\n');
  out.push(await run('python3', 'python3', ['-c', py, url, headers.authorization]));
  return out;
}

/** Opens `n` connections; `keepAlive`: each sends one GET /healthz and keeps the connection; else each sends nothing. */
export async function idleConnections(
  port: number,
  n: number,
  keepAlive: boolean,
): Promise<{ sockets: net.Socket[]; closedByServer: () => number }> {
  const sockets: net.Socket[] = [];
  let closed = 0;
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.on('close', () => closed++);
    s.on('data', () => {});
    if (keepAlive) s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n'));
    sockets.push(s);
    if (i % 200 === 199) await sleep(50);
  }
  return { sockets, closedByServer: () => closed };
}
