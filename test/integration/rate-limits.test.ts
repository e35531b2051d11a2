import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/main.ts';
import pino from 'pino';
import { client, type Client } from '../helpers/client.ts';
import { engine, openTestDb, type TestDb } from '../helpers/db.ts';
import { OPERATOR_TOKEN, TEST_ENV, createTenant, startTestGateway } from '../helpers/gateway.ts';
import { freePort, killAll, printChildOutputOnFailure, spawnTramline } from '../helpers/process.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { sleep } from '../helpers/wait.ts';

/**
 * Issue 13, item 1: an endpoint's rateLimitPerSecond holds across the fleet. Two workers (two processes on
 * Postgres; two worker loops over the one embedded database on PGlite, which is one process by design) share
 * a backlog for an endpoint limited to 20/s; the receiver counts what arrives over a long window.
 */
const RATE = 20;
const WINDOW_MS = 12_000;
const BACKLOG = RATE * 15; // more than the window can take: the limit, not the backlog, sets the pace

printChildOutputOnFailure();
const cleanups: Array<() => Promise<unknown>> = [];
// Redis (the second case): with REDIS_URL set, as the Redis rate-limit suite; skipped without it.
const REDIS_URL = process.env.REDIS_URL;
afterAll(async () => {
  await killAll();
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/**
 * An API over a fresh database, and a way to start two workers on it later (so the backlog is published
 * before any delivery starts, and the measured window sees the workers alone).
 */
async function apiThenTwoWorkers(
  extra: Record<string, string> = {},
): Promise<{ api: Client; startWorkers: () => Promise<void>; testDb: TestDb }> {
  const env = { TRAMLINE_ENDPOINT_CONCURRENCY: '8', TRAMLINE_WORKER_CONCURRENCY: '32', ...extra };
  if (engine() === 'pglite') {
    const gw = await startTestGateway({ env, role: 'api' });
    cleanups.push(() => gw.stop());
    const t = await createTenant(gw, 'Paced');
    const startWorkers = async (): Promise<void> => {
      for (let n = 0; n < 2; n++) {
        const w: Gateway = await startGateway(loadConfig({ ...TEST_ENV, ...env }), 'worker', pino({ level: 'silent' }), {
          db: gw.testDb.db,
        });
        cleanups.unshift(() => w.stop()); // stopped before the API's gateway closes the database
      }
    };
    return { api: t.api, startWorkers, testDb: gw.testDb };
  }
  const testDb: TestDb = await openTestDb();
  cleanups.push(() => testDb.close());
  const port = await freePort();
  const base = { ...TEST_ENV, ...env, DATABASE_URL: testDb.url!, PORT: String(port), LOG_LEVEL: 'warn' };
  const apiProc = spawnTramline(['start', '--role', 'api'], base, { name: 'api' });
  const url = `http://127.0.0.1:${port}`;
  await apiProc.waitForReady(url);
  const r = await client(url, OPERATOR_TOKEN).post('/v1/tenants', { name: 'Paced' });
  expect(r.status).toBe(201);
  const startWorkers = async (): Promise<void> => {
    const workers = [1, 2].map((n) =>
      spawnTramline(['start', '--role', 'worker'], { ...base, PORT: '0', LOG_LEVEL: 'info' }, { name: `worker ${n}` }),
    );
    await Promise.all(workers.map((w) => w.waitForOutput('tramline started')));
  };
  return { api: client(url, r.body.apiKey), startWorkers, testDb };
}

/** The scenario: a backlog for an endpoint limited to RATE, two workers, arrivals counted; resolves with the endpoint's id. */
async function twoWorkersHoldTheLimit(
  label: string,
  extra: Record<string, string> = {},
  limit: 'endpoint' | 'tenant' = 'endpoint',
): Promise<{ endpointId: string; testDb: TestDb }> {
  const rx: Receiver = await startReceiver(() => ({ status: 200 }));
  cleanups.push(() => rx.close());
  const { api, startWorkers, testDb } = await apiThenTwoWorkers(extra);
  expect((await api.post('/v1/consumers', { name: 'c', uid: 'c' })).status).toBe(201);
  const ep = await api.post('/v1/consumers/c/endpoints', {
    url: `${rx.url}/limited`,
    rateLimitPerSecond: limit === 'endpoint' ? RATE : null,
  });
  expect(ep.status).toBe(201);
  for (let i = 0; i < BACKLOG; i += 40) {
    const batch = Array.from({ length: Math.min(40, BACKLOG - i) }, (_, k) =>
      api.post('/v1/consumers/c/messages', { eventType: 'e.t', eventId: `m-${i + k}`, payload: { n: i + k } }),
    );
    for (const r of await Promise.all(batch)) expect(r.status).toBe(202);
  }
  await startWorkers();
  await rx.waitFor(1, 20_000);
  const t0 = rx.received[0]!.at;
  while (Date.now() < t0 + WINDOW_MS + 500) await sleep(250);
  const inWindow = rx.received.filter((r) => r.at < t0 + WINDOW_MS).length;
  const held = inWindow / (WINDOW_MS / 1000);
  // The worst one-second window too: bursts are bounded by the limit's burst (a tenth of a second's worth).
  const times = rx.received.map((r) => r.at).sort((a, b) => a - b);
  let worstSecond = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j]! < times[i]! + 1000) j++;
    worstSecond = Math.max(worstSecond, j - i);
  }
  console.log(
    `rate limit (${label}, two workers): asked ${RATE}/s, held ${held.toFixed(2)}/s over ${WINDOW_MS / 1000} s (${inWindow} deliveries), worst 1-s window ${worstSecond}`,
  );
  expect(inWindow).toBeLessThanOrEqual(Math.ceil(RATE * (WINDOW_MS / 1000) * 1.05));
  // A stalled process (the machine at a load of 20) sends a slot's delivery late, beside the next ones; an
  // unenforced limit would show hundreds here.
  expect(worstSecond).toBeLessThanOrEqual(RATE * 2);
  // Postponed, never failed and never counted as an attempt: every delivery so far succeeded at its first attempt.
  const list = await api.get('/v1/consumers/c/messages?limit=5');
  const detail = await api.get(`/v1/consumers/c/messages/${list.body.data.at(-1).id}`);
  expect(detail.body.deliveries[0].state).not.toBe('failed');
  expect(detail.body.deliveries[0].attempts).toBeLessThanOrEqual(1);
  // The limit paces; it does not starve (a loaded machine is slower: PGlite at a load of 13–20 held 12.5–18/s).
  expect(held).toBeGreaterThan(RATE * 0.4);
  return { endpointId: ep.body.id, testDb };
}

describe('fleet-wide rate limits', () => {
  it(`two workers together never exceed an endpoint's ${RATE}/s (measured at the receiver over ${WINDOW_MS / 1000} s)`, async () => {
    const { endpointId, testDb } = await twoWorkersHoldTheLimit(`${engine()}`);
    // The slots were kept in the database (no Redis configured).
    const rows = await testDb.db.owner((q) => q.query('SELECT 1 FROM delivery_pacing WHERE key = $1', [`endpoint:${endpointId}`]));
    expect(rows.rows).toHaveLength(1);
  });

  it(`two workers together never exceed the tenant's outbound cap of ${RATE}/s (TRAMLINE_OUTBOUND_PER_TENANT, fleet-wide)`, async () => {
    const { testDb } = await twoWorkersHoldTheLimit(`${engine()}, tenant cap`, { TRAMLINE_OUTBOUND_PER_TENANT: String(RATE) }, 'tenant');
    const rows = await testDb.db.owner((q) => q.query(`SELECT 1 FROM delivery_pacing WHERE key LIKE 'tenant:%'`));
    expect(rows.rows).toHaveLength(1);
  });

  it.skipIf(!REDIS_URL || engine() !== 'postgres')(
    'with REDIS_URL (Postgres fleet), the slots are kept in Redis and the limit holds the same',
    async () => {
      const prefix = `tramline-test-${randomBytes(4).toString('hex')}:`;
      const { endpointId, testDb } = await twoWorkersHoldTheLimit(`${engine()} + redis`, {
        REDIS_URL: REDIS_URL!,
        TRAMLINE_REDIS_PREFIX: prefix,
      });
      const redis = new Redis(REDIS_URL!);
      try {
        expect(await redis.exists(`${prefix}pace:endpoint:${endpointId}`)).toBe(1);
      } finally {
        redis.disconnect();
      }
      const rows = await testDb.db.owner((q) => q.query('SELECT 1 FROM delivery_pacing WHERE key = $1', [`endpoint:${endpointId}`]));
      expect(rows.rows).toHaveLength(0);
    },
  );
});
