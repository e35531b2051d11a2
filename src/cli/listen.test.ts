import { describe, it, expect, afterEach } from 'vitest';
import { Command } from 'commander';
import { startListener, type ListenOptions } from './listen.ts';
import { registerListenCommand } from './listen-commands.ts';
import { listenHttp } from '../net/http-listen.ts';
import { createServer } from 'node:http';
import { generateSecret, sign } from '../domain/signing.ts';

const NOW_MS = 1_700_000_000_000;
const NOW_SEC = NOW_MS / 1000;
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function listen(opts: Partial<ListenOptions> = {}) {
  const lines: string[] = [];
  const listener = await startListener({ port: 0, out: (line) => lines.push(line), now: () => NOW_MS, ...opts });
  closers.push(() => listener.close());
  return { ...listener, lines };
}

function post(url: string, body: string, headers: Record<string, string>) {
  return fetch(`${url}/hooks`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

const body = JSON.stringify({ type: 'order.created', data: { id: 'ord_1' } });

describe('startListener', () => {
  it('listens on 127.0.0.1 and prints a verified webhook', async () => {
    const secret = generateSecret();
    const l = await listen({ secret });
    expect(l.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await post(l.url, body, {
      'webhook-id': 'msg_abc',
      'webhook-timestamp': String(NOW_SEC),
      'webhook-signature': sign(secret, 'msg_abc', NOW_SEC, body),
    });
    expect(res.status).toBe(204);
    const text = l.lines.join('\n');
    expect(text).toContain(new Date(NOW_MS).toISOString());
    expect(text).toContain('msg_abc');
    expect(text).toContain(String(NOW_SEC));
    expect(text).toContain('order.created');
    expect(l.lines).toContain('signature ok');
    expect(text).toContain('"id": "ord_1"'); // pretty-printed
  });

  it('prints INVALID for a bad signature and answers 400, so the gateway never records it as delivered', async () => {
    const secret = generateSecret();
    const l = await listen({ secret });
    const res = await post(l.url, body, {
      'webhook-id': 'msg_bad',
      'webhook-timestamp': String(NOW_SEC),
      'webhook-signature': sign(generateSecret(), 'msg_bad', NOW_SEC, body),
    });
    expect(res.status).toBe(400);
    expect(l.lines).toContain('signature INVALID: no matching signature (answered 400)');
    expect(l.lines.join('\n')).toContain('order.created');
  });

  it('prints INVALID for a stale timestamp and for missing headers', async () => {
    const secret = generateSecret();
    const l = await listen({ secret });
    const old = NOW_SEC - 3600;
    await post(l.url, body, {
      'webhook-id': 'msg_old',
      'webhook-timestamp': String(old),
      'webhook-signature': sign(secret, 'msg_old', old, body),
    });
    const missing = await post(l.url, body, {});
    expect(missing.status).toBe(400);
    expect(l.lines.some((line) => /^signature INVALID: timestamp too old/.test(line))).toBe(true);
    expect(l.lines).toContain('signature INVALID: missing webhook-id (answered 400)');
  });

  it('says the signature was not checked without a secret', async () => {
    const l = await listen();
    const res = await post(l.url, body, { 'webhook-id': 'msg_x', 'webhook-timestamp': String(NOW_SEC) });
    expect(res.status).toBe(204);
    expect(l.lines).toContain('signature not checked (no --secret)');
  });

  it('answers with the configured status', async () => {
    const l = await listen({ status: 503 });
    const res = await post(l.url, body, {});
    expect(res.status).toBe(503);
    expect(l.lines.join('\n')).toContain('order.created');
  });

  it('prints a non-JSON body raw and rejects other methods', async () => {
    const l = await listen();
    await post(l.url, 'plain text', {});
    expect(l.lines).toContain('plain text');
    expect(l.lines.some((line) => line.startsWith('type:') && line.includes('(none)'))).toBe(true);
    const res = await fetch(`${l.url}/hooks`);
    expect(res.status).toBe(405);
    expect((await fetch(l.url)).status).toBe(200); // GET /: the readiness check
  });

  it('forwards a verified webhook to the local app with its headers, and answers with its status', async () => {
    const got: Array<{ headers: Record<string, unknown>; body: string }> = [];
    const app = createServer((req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        got.push({ headers: req.headers, body: b });
        res.writeHead(202).end('taken');
      });
    });
    const appUrl = await listenHttp(app, 0, '127.0.0.1');
    closers.push(() => new Promise<void>((r) => app.close(() => r())));
    const secret = generateSecret();
    const l = await listen({ secret, forwardTo: `${appUrl}/webhooks` });
    const headers = {
      'webhook-id': 'msg_fw',
      'webhook-timestamp': String(NOW_SEC),
      'webhook-signature': sign(secret, 'msg_fw', NOW_SEC, body),
    };
    const res = await post(l.url, body, headers);
    expect(res.status).toBe(202);
    expect(got).toHaveLength(1);
    expect(got[0]!.body).toBe(body);
    expect(got[0]!.headers).toMatchObject(headers);
    // A bad signature is refused here and never reaches the app.
    const bad = await post(l.url, body, { ...headers, 'webhook-signature': sign(generateSecret(), 'msg_fw', NOW_SEC, body) });
    expect(bad.status).toBe(400);
    expect(got).toHaveLength(1);
  });

  it('answers 502 when the app to forward to is down', async () => {
    const l = await listen({ forwardTo: 'http://127.0.0.1:1/webhooks' });
    const res = await post(l.url, body, {});
    expect(res.status).toBe(502);
  });

  it('answers 503 until activated, then verifies with the secret it was given', async () => {
    const l = await listen({ ready: false });
    expect((await fetch(l.url)).status).toBe(503);
    expect((await post(l.url, body, {})).status).toBe(503);
    const secret = generateSecret();
    l.activate(secret);
    expect((await fetch(l.url)).status).toBe(200);
    expect((await post(l.url, body, {})).status).toBe(400);
    const ok = await post(l.url, body, {
      'webhook-id': 'msg_a',
      'webhook-timestamp': String(NOW_SEC),
      'webhook-signature': sign(secret, 'msg_a', NOW_SEC, body),
    });
    expect(ok.status).toBe(204);
  });

  it('rejects an invalid secret or status up front', async () => {
    await expect(startListener({ port: 0, secret: 'whsec_nope' })).rejects.toThrow(/Invalid --secret/);
    await expect(startListener({ port: 0, status: 42 })).rejects.toThrow(/Invalid status/);
  });

  it('close() returns promptly despite keep-alive connections', async () => {
    const l = await listen();
    await post(l.url, body, {});
    const started = Date.now();
    await closers.pop()!();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('registerListenCommand', () => {
  function program() {
    const p = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerListenCommand(p);
    return p;
  }

  it('registers listen with its options and defaults', () => {
    const cmd = program().commands.find((c) => c.name() === 'listen');
    expect(cmd).toBeDefined();
    expect(cmd!.options.map((o) => o.long)).toEqual([
      '--port',
      '--host',
      '--secret',
      '--status',
      '--forward-to',
      '--consumer',
      '--api-key',
      '--event-types',
      '--url',
    ]);
    expect(cmd!.opts()).toMatchObject({ port: 4000, host: '127.0.0.1', status: 204 });
  });

  it.each([[['--port', 'abc']], [['--port', '70000']], [['--status', '99']], [['--status', 'ok']]])(
    'rejects bad option %j',
    async (args) => {
      await expect(program().parseAsync(['listen', ...args], { from: 'user' })).rejects.toThrow();
    },
  );

  it('rejects an invalid --secret before listening', async () => {
    await expect(program().parseAsync(['listen', '--port', '0', '--secret', 'whsec_bad'], { from: 'user' })).rejects.toThrow(
      /Invalid --secret/,
    );
  });
});
