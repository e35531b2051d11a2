import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway } from '../../test/helpers/gateway.ts';
import { backoffMs, ConnectionError, parseRetryAfter, RateLimitError, ServerError, Tramline } from '../src/index.ts';

/**
 * Retries against a real HTTP server whose answers the test scripts (429 with Retry-After, 503, then 2xx),
 * and against a port nothing listens on.
 */
interface Seen {
  at: number;
  method: string;
  idempotencyKey: string | undefined;
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function scripted(answers: Array<{ status: number; headers?: Record<string, string>; body?: unknown }>): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ at: Date.now(), method: req.method!, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
      const a = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      const json = a.status >= 400 ? 'application/problem+json' : 'application/json';
      res.writeHead(a.status, { 'content-type': json, ...a.headers });
      res.end(JSON.stringify(a.body ?? (a.status >= 400 ? { type: 'https://tramline.dev/problems/x', title: 'no', status: a.status } : {})));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const message = { id: 'msg_1', eventId: 'e', eventType: 't', consumerId: 'con_1', channels: null, payload: {}, createdAt: '2026-11-26T10:00:00.000Z' };

describe('retries', () => {
  it('waits as Retry-After says on 429, backs off on 503, and keeps the Idempotency-Key', async () => {
    const { url, seen } = await scripted([{ status: 429, headers: { 'retry-after': '1' } }, { status: 503 }, { status: 202, body: message }]);
    const t = new Tramline({ apiKey: 'tl_x', baseUrl: url, retryBaseDelayMs: 50 });
    const msg = await t.messages.publish('c', { eventType: 't', payload: {} });
    expect(msg.id).toBe('msg_1');
    expect(seen).toHaveLength(3);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
    expect(new Set(seen.map((s) => s.idempotencyKey)).size).toBe(1);
    expect(seen[0]!.idempotencyKey).toMatch(/^idem_/);
  });

  it('gives up after maxRetries with a typed error', async () => {
    const busy = await scripted([{ status: 503 }]);
    const t = new Tramline({ apiKey: 'tl_x', baseUrl: busy.url, maxRetries: 2, retryBaseDelayMs: 10 });
    await expect(t.consumers.get('c')).rejects.toBeInstanceOf(ServerError);
    expect(busy.seen).toHaveLength(3);

    // A Retry-After longer than the client will wait: thrown at once, with the advice.
    const limited = await scripted([{ status: 429, headers: { 'retry-after': '120' } }]);
    const err = (await new Tramline({ apiKey: 'tl_x', baseUrl: limited.url }).consumers.get('c').catch((e: unknown) => e)) as RateLimitError;
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.retryAfterSeconds).toBe(120);
    expect(limited.seen).toHaveLength(1);
  });

  it('stops waiting for a retry when the caller aborts', async () => {
    const { url, seen } = await scripted([{ status: 429, headers: { 'retry-after': '20' } }]);
    const t = new Tramline({ apiKey: 'tl_x', baseUrl: url });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('caller gave up')), 200);
    const started = Date.now();
    await expect(t.consumers.get('c', { signal: ac.signal })).rejects.toThrow('caller gave up');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(seen).toHaveLength(1);
  });

  it('does not retry other errors', async () => {
    const { url, seen } = await scripted([{ status: 500 }]);
    await expect(new Tramline({ apiKey: 'tl_x', baseUrl: url, retryBaseDelayMs: 10 }).consumers.get('c')).rejects.toMatchObject({ status: 500 });
    expect(seen).toHaveLength(1);
  });

  it('retries a refused connection, then throws a ConnectionError', async () => {
    const { url } = await scripted([{ status: 200 }]);
    const s = servers.pop()!;
    await new Promise((r) => s.close(r)); // the port is now closed
    const started = Date.now();
    const err = await new Tramline({ apiKey: 'tl_x', baseUrl: url, maxRetries: 2, retryBaseDelayMs: 100 }).consumers.create({ name: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ status: 0, code: 'connection' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100); // two back-offs: ≥ 50 + 100 ms
  });

  it('rides out a real gateway’s rate limit (429 + Retry-After) without failing a call', async () => {
    const gw = await startTestGateway({ env: { TRAMLINE_RATE_LIMIT_PER_KEY: '3', TRAMLINE_RATE_LIMIT_WINDOW: '1s' } });
    try {
      const { key } = await createTenant(gw);
      const statuses: number[] = [];
      const retryAfter: Array<string | null> = [];
      const t = new Tramline({
        apiKey: key,
        baseUrl: gw.url,
        maxRetries: 6,
        retryBaseDelayMs: 100,
        fetch: async (input, init) => {
          const res = await fetch(input, init);
          statuses.push(res.status);
          if (res.status === 429) retryAfter.push(res.headers.get('retry-after'));
          return res;
        },
      });
      await t.consumers.create({ name: 'Limited', uid: 'limited' });
      const results = await Promise.all(Array.from({ length: 8 }, () => t.consumers.get('limited')));
      expect(results.every((c) => c.uid === 'limited')).toBe(true);
      expect(statuses).toContain(429);
      expect(retryAfter.every((v) => v !== null && Number(v) >= 0)).toBe(true);
      expect(statuses.filter((s) => s === 200)).toHaveLength(8);
    } finally {
      await gw.stop();
    }
  });

  it('computes back-off with jitter within bounds, and reads Retry-After both ways', () => {
    expect(backoffMs(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffMs(0, 500, 30_000, () => 1)).toBe(500);
    expect(backoffMs(3, 500, 30_000, () => 1)).toBe(4000);
    expect(backoffMs(20, 500, 30_000, () => 1)).toBe(30_000);
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
