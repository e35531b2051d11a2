import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { client } from '../helpers/client.ts';
import { openTestDb } from '../helpers/db.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { sleep, waitUntil } from '../helpers/process.ts';
import { expectRateLimited, hit, maxInWindow } from '../helpers/limits.ts';

/**
 * Abuse limits and HTTP hardening (issue 3, items 5 and 6) on real gateways: rate limits in memory
 * (the Redis suite is rate-limit-redis.test.ts), security headers, CORS, no stack traces, and the
 * outbound cap per tenant measured at a real receiver.
 */

describe('rate limits per API key and per tenant (in memory, no REDIS_URL)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      env: { TRAMLINE_RATE_LIMIT_PER_KEY: '5', TRAMLINE_RATE_LIMIT_PER_TENANT: '8', TRAMLINE_RATE_LIMIT_WINDOW: '30s', REDIS_URL: '' },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('refuses a key over its limit with 429 problem+json and Retry-After; another key of the tenant works until the tenant limit', async () => {
    const t = await createTenant(gw, 'Limited');
    const b = await t.api.post('/v1/api-keys', { name: 'second', scopes: ['read'] }); // key A: 1, tenant: 1
    expect(b.status).toBe(201);
    const keyB = client(gw.url, b.body.apiKey);

    expect(await hit(t.api, 4)).toEqual([200, 200, 200, 200]); // key A: 5, tenant: 5
    const overKey = await t.api.get('/v1/event-types');
    expectRateLimited(overKey, 'key', 30);
    expect(overKey.headers.get('x-ratelimit-limit')).toBe('5');
    expect(overKey.headers.get('x-ratelimit-remaining')).toBe('0');

    // Key B has its own budget, but shares the tenant's: 3 left (a refused request of A did not count).
    expect(await hit(keyB, 3)).toEqual([200, 200, 200]); // tenant: 8
    expectRateLimited(await keyB.get('/v1/event-types'), 'tenant', 30);
    expectRateLimited(await t.api.get('/v1/event-types'), 'key', 30);

    // Other tenants, the operator, health, readiness, docs and the OpenAPI document are not limited.
    const u = await createTenant(gw, 'Unaffected');
    expect(await hit(u.api, 5)).toEqual([200, 200, 200, 200, 200]);
    const anon = client(gw.url);
    for (let i = 0; i < 20; i++) {
      for (const p of ['/healthz', '/readyz', '/openapi.json', '/docs']) expect((await anon.get(p)).status).toBe(200);
      expect((await gw.operator.get('/v1/tenants?limit=1')).status).toBe(200);
    }
    // A request without a valid key is refused by auth (401), before any counter.
    expect((await client(gw.url, 'tl_nope').get('/v1/event-types')).status).toBe(401);
    console.log(
      'rate limits (memory): key A 5 × 200 then 429 (key); key B 3 × 200 then 429 (tenant limit 8); other tenant 5 × 200; 100 public/operator requests all 200',
    );
  });

  it('counts per window: a key refused within a 1 s window works again after Retry-After', async () => {
    const short = await startTestGateway({ env: { TRAMLINE_RATE_LIMIT_PER_KEY: '3', TRAMLINE_RATE_LIMIT_WINDOW: '1s' } });
    try {
      const t = await createTenant(short, 'Window');
      expect(await hit(t.api, 3)).toEqual([200, 200, 200]);
      const retryAfter = expectRateLimited(await t.api.get('/v1/event-types'), 'key', 1);
      await sleep(retryAfter * 1000 + 50);
      expect(await hit(t.api, 3)).toEqual([200, 200, 200]);
    } finally {
      await short.stop();
    }
  });
});

describe('HTTP hardening', () => {
  let gw: TestGateway;
  const ALLOWED = 'https://app.example.com';
  beforeAll(async () => {
    gw = await startTestGateway({
      env: {
        TRAMLINE_CORS_ORIGINS: `${ALLOWED}, http://localhost:5173`,
        TRAMLINE_RATE_LIMIT_PER_KEY: '3',
        TRAMLINE_RATE_LIMIT_WINDOW: '30s',
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('sends security headers on every kind of answer', async () => {
    const t = await createTenant(gw, 'Headers');
    const answers = [
      await client(gw.url).get('/healthz'),
      await t.api.get('/v1/consumers'),
      await client(gw.url).get('/v1/consumers'), // 401
      await t.api.get('/v1/nothing-here'), // 404
      await t.api.post('/v1/consumers', { name: 1 }), // 400
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 401, 404, 400]);
    for (const r of answers) {
      const h = r.headers;
      expect(h.get('x-content-type-options')).toBe('nosniff');
      expect(h.get('x-frame-options')).toBe('DENY');
      expect(h.get('referrer-policy')).toBe('no-referrer');
      expect(h.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(h.get('cross-origin-opener-policy')).toBe('same-origin');
      const csp = h.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(h.get('x-powered-by')).toBeNull();
    }
  });

  it('keeps the /docs page working under the CSP (same-origin scripts only, no inline script)', async () => {
    const anon = client(gw.url);
    const page = await fetch(`${gw.url}/docs`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(body!.trim()).toBe(''); // an inline script would be blocked by script-src 'self'
      if (!/src="/.test(attrs!)) continue; // the reference's configuration travels in data attributes
      const src = /src="([^"]+)"/.exec(attrs!)![1]!;
      expect(src).not.toMatch(/^(https?:)?\/\//); // same origin
      const js = await fetch(new URL(src, page.url));
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      await js.arrayBuffer();
    }
    for (const [, href] of html.matchAll(/<link[^>]*href="([^"]+)"/g)) expect(href).not.toMatch(/^(https?:)?\/\//);
    expect((await anon.get('/openapi.json')).body.openapi).toBe('3.1.0');
  });

  it('answers CORS for allowlisted origins only', async () => {
    const t = await createTenant(gw, 'Cors');
    const allowed = await t.api.get('/v1/consumers', { origin: ALLOWED });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('vary')).toMatch(/origin/i);
    expect(allowed.headers.get('access-control-expose-headers')).toMatch(/retry-after/);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();

    const foreign = await t.api.get('/v1/consumers', { origin: 'https://evil.example' });
    expect(foreign.status).toBe(200); // CORS is enforced by the browser: it gets no allow-origin header
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    const preflight = await client(gw.url).raw('OPTIONS', '/v1/consumers', undefined, {
      origin: ALLOWED,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const badPreflight = await client(gw.url).raw('OPTIONS', '/v1/consumers', undefined, {
      origin: 'https://evil.example',
      'access-control-request-method': 'POST',
    });
    expect(badPreflight.headers.get('access-control-allow-origin')).toBeNull();

    // A browser on an allowed origin can read a 401 and a 429 (and its Retry-After).
    const unauth = await client(gw.url).get('/v1/consumers', { origin: ALLOWED });
    expect([unauth.status, unauth.headers.get('access-control-allow-origin')]).toEqual([401, ALLOWED]);
    await hit(t.api, 3);
    const limited = await t.api.get('/v1/consumers', { origin: ALLOWED });
    expectRateLimited(limited, 'key', 30);
    expect(limited.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('sends no CORS headers when no origin is configured', async () => {
    const plain = await startTestGateway();
    try {
      const t = await createTenant(plain, 'NoCors');
      const r = await t.api.get('/v1/consumers', { origin: ALLOWED });
      expect(r.status).toBe(200);
      expect([...r.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
      const preflight = await client(plain.url).raw('OPTIONS', '/v1/consumers', undefined, {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.stop();
    }
  });

  it('caps ?limit= at 250', async () => {
    const t = await createTenant(gw, 'Pages');
    const over = await t.api.get('/v1/consumers?limit=251');
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]?.field).toBe('querystring.limit');
    expect((await t.api.get('/v1/consumers?limit=250')).status).toBe(200);
  });

  it('answers an internal error as a bare problem document: no message, no stack', async () => {
    // A real internal failure: the gateway's database is closed under it.
    const testDb = await openTestDb();
    const broken = await startTestGateway({ testDb });
    try {
      await testDb.db.close();
      const r = await broken.operator.get('/v1/tenants');
      expect(r.status).toBe(500);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.body).toEqual({ type: 'https://tramline.dev/problems/internal', title: 'Internal server error', status: 500 });
      expect((await client(broken.url).get('/readyz')).status).toBe(503);
    } finally {
      await broken.stop().catch(() => {});
      await testDb.close().catch(() => {}); // a closed database: the run's teardown drops the clone
    }
  });
});

describe('outbound cap per tenant (TRAMLINE_OUTBOUND_PER_TENANT)', () => {
  it('with a cap of 5/s, 30 messages reach the receiver at most ~5 in any second, all of them, with no failed attempt', async () => {
    const rx = await startReceiver();
    const gw = await startTestGateway({ env: { TRAMLINE_OUTBOUND_PER_TENANT: '5' } });
    try {
      const t = await createTenant(gw, 'Capped');
      const c = (await t.api.post('/v1/consumers', { name: 'Target' })).body.id as string;
      const e = (await t.api.post(`/v1/consumers/${c}/endpoints`, { url: `${rx.url}/capped` })).body.id as string;
      // A second tenant on the same worker is not held back by the first one's backlog.
      const u = await createTenant(gw, 'Neighbour');
      const uc = (await u.api.post('/v1/consumers', { name: 'Other' })).body.id as string;
      await u.api.post(`/v1/consumers/${uc}/endpoints`, { url: `${rx.url}/neighbour` });

      const t0 = Date.now();
      for (let i = 0; i < 30; i++)
        expect((await t.api.post(`/v1/consumers/${c}/messages`, { eventType: 'load.test', payload: { i } })).status).toBe(202);
      const uAt = Date.now();
      for (let i = 0; i < 3; i++)
        expect((await u.api.post(`/v1/consumers/${uc}/messages`, { eventType: 'load.test', payload: { i } })).status).toBe(202);

      const capped = () => rx.received.filter((r) => r.path === '/capped');
      await waitUntil(() => capped().length >= 30, 30_000, '30 capped deliveries');
      const neighbour = await waitUntil(
        () => {
          const n = rx.received.filter((r) => r.path === '/neighbour');
          return n.length >= 3 ? n : undefined;
        },
        10_000,
        '3 neighbour deliveries',
      );
      const times = capped().map((r) => r.at);
      const peak = maxInWindow(times, 1000);
      const span = Math.max(...times) - Math.min(...times);
      const ids = new Set(capped().map((r) => r.headers['webhook-id']));
      const neighbourLagMs = Math.max(...neighbour.map((r) => r.at)) - uAt;

      // Every message once, one successful attempt each, no failed attempt recorded.
      const attempts = await t.api.get(`/v1/consumers/${c}/endpoints/${e}/attempts?limit=250`);
      expect(attempts.status).toBe(200);
      const outcomes = (attempts.body.data as Array<{ outcome: string; attempt: number }>).map((a) => `${a.outcome}#${a.attempt}`);
      console.log(
        `outbound cap 5/s: 30 messages published in ${uAt - t0} ms, delivered over ${span} ms; max ${peak} requests in any 1 s window; ` +
          `${ids.size} distinct webhook-ids; ${capped().length} requests; attempts ${outcomes.length} (failed ${outcomes.filter((o) => o.startsWith('failed')).length}); ` +
          `neighbour tenant's 3 messages arrived within ${neighbourLagMs} ms`,
      );
      expect(peak).toBeLessThanOrEqual(6); // 5 per second, one of slack for timing at the window's edges
      expect(capped()).toHaveLength(30);
      expect(ids.size).toBe(30);
      expect(span).toBeGreaterThanOrEqual(4500); // 30 at 5/s cannot take less than ~5.8 s (one token at start)
      expect(outcomes).toHaveLength(30);
      expect(outcomes.every((o) => o === 'succeeded#1')).toBe(true);
      expect(neighbourLagMs).toBeLessThan(3000);
    } finally {
      await gw.stop();
      await rx.close();
    }
  });
});
