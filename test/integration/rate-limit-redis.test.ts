import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { client, type Client } from '../helpers/client.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';
import { expectRateLimited } from '../helpers/limits.ts';

/**
 * Rate limits shared across replicas through a real Redis (REDIS_URL). Two gateways on the same
 * database and the same Redis prefix share one budget per key and per tenant; each test uses its own
 * prefix so tests (and parallel runs) never see each other's counters. Without REDIS_URL the run
 * prints `SKIPPED: Redis rate-limit suite (REDIS_URL is unset)` once (test/global-setup.ts).
 */
const REDIS_URL = process.env.REDIS_URL;

describe.skipIf(!REDIS_URL)('rate limits shared through Redis', () => {
  let testDb: TestDb;
  let redis: Redis;
  const prefixes: string[] = [];

  beforeAll(async () => {
    testDb = await openTestDb();
    redis = new Redis(REDIS_URL!);
  });
  afterAll(async () => {
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await redis?.quit();
    await testDb?.close();
  });

  /** Two gateways (API and worker + API only) on one database and one Redis prefix. */
  async function pair(env: Record<string, string>): Promise<{ a: TestGateway; b: TestGateway; prefix: string; stop(): Promise<void> }> {
    const prefix = `tramline-test:${randomBytes(6).toString('hex')}:`;
    prefixes.push(prefix);
    const shared = { REDIS_URL: REDIS_URL!, TRAMLINE_REDIS_PREFIX: prefix, TRAMLINE_RATE_LIMIT_WINDOW: '30s', ...env };
    const a = await startTestGateway({ testDb, env: shared });
    const b = await startTestGateway({ testDb, env: shared, role: 'api' });
    return { a, b, prefix, stop: async () => void (await Promise.all([a.stop(), b.stop()])) };
  }

  /** Sends `n` requests with one key, alternating between the two gateways; returns the statuses. */
  async function alternate(apis: [Client, Client], n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await apis[i % 2]!.get('/v1/event-types')).status);
    return out;
  }

  it('two gateways share the per-key limit and the per-tenant limit', async () => {
    const { a, b, prefix, stop } = await pair({ TRAMLINE_RATE_LIMIT_PER_KEY: '6', TRAMLINE_RATE_LIMIT_PER_TENANT: '10' });
    try {
      const t = await createTenant(a, 'Shared');
      const second = await client(b.url, t.key).post('/v1/api-keys', { name: 'second', scopes: ['read'] }); // key A: 1, tenant: 1
      expect(second.status).toBe(201);
      const keyA: [Client, Client] = [client(a.url, t.key), client(b.url, t.key)];
      const keyB: [Client, Client] = [client(a.url, second.body.apiKey), client(b.url, second.body.apiKey)];

      // Key A: 5 more across both gateways (6 in all), then refused by either one.
      expect(await alternate(keyA, 5)).toEqual([200, 200, 200, 200, 200]);
      expectRateLimited(await keyA[0].get('/v1/event-types'), 'key', 30);
      expectRateLimited(await keyA[1].get('/v1/event-types'), 'key', 30);
      // Key B: the tenant has 4 left of 10, whichever gateway is asked.
      expect(await alternate(keyB, 4)).toEqual([200, 200, 200, 200]);
      expectRateLimited(await keyB[1].get('/v1/event-types'), 'tenant', 30);
      expectRateLimited(await keyB[0].get('/v1/event-types'), 'tenant', 30);

      // The counters live in Redis under this test's prefix.
      const keys = await redis.keys(`${prefix}*`);
      expect(keys.filter((k) => k.includes('tenant:'))).toHaveLength(1);
      expect(keys.filter((k) => k.includes('key:'))).toHaveLength(2);
      console.log(
        `redis (2 gateways, prefix ${prefix}): key limit 6 → 6 × 2xx across both then 429 on both; tenant limit 10 → key B 4 × 200 then 429 on both; ${keys.length} counters in Redis`,
      );
    } finally {
      await stop();
    }
  });

  it('without Redis the same two gateways each count on their own (what REDIS_URL is for)', async () => {
    const a = await startTestGateway({ testDb, env: { TRAMLINE_RATE_LIMIT_PER_KEY: '3', TRAMLINE_RATE_LIMIT_WINDOW: '30s' } });
    const b = await startTestGateway({ testDb, env: { TRAMLINE_RATE_LIMIT_PER_KEY: '3', TRAMLINE_RATE_LIMIT_WINDOW: '30s' }, role: 'api' });
    try {
      const t = await createTenant(a, 'Apart');
      const statuses = await alternate([client(a.url, t.key), client(b.url, t.key)], 8);
      // 3 per process: 6 accepted in all, the 7th and 8th refused.
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('tests with different prefixes never share counters', async () => {
    const one = await pair({ TRAMLINE_RATE_LIMIT_PER_KEY: '2' });
    const two = await pair({ TRAMLINE_RATE_LIMIT_PER_KEY: '2' });
    try {
      const t = await createTenant(one.a, 'Prefixed');
      // The same key through two installations that share a Redis but not a prefix: 2 each.
      const viaOne = await alternate([client(one.a.url, t.key), client(one.b.url, t.key)], 3);
      const viaTwo = await alternate([client(two.a.url, t.key), client(two.b.url, t.key)], 3);
      expect(viaOne).toEqual([200, 200, 429]);
      expect(viaTwo).toEqual([200, 200, 429]);
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });
});
