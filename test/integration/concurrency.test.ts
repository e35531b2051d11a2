import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers/client.ts';
import { engine } from '../helpers/db.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import {
  emptyPostgresDatabase,
  freePort,
  killAll,
  printChildOutputOnFailure,
  runTramline,
  spawnTramline,
  waitUntil,
} from '../helpers/process.ts';

/**
 * Races: many identical publishes at once, two `migrate` processes at once, and many deliveries
 * at once to one slow endpoint (the per-endpoint cap, and no starvation of the others).
 */
let gw: TestGateway;
let t: TestTenant;
let rx: Receiver;

printChildOutputOnFailure();
beforeAll(async () => {
  gw = await startTestGateway({ env: { TRAMLINE_ENDPOINT_CONCURRENCY: '2', TRAMLINE_ENDPOINT_CONCURRENCY_MAX: '16' } });
  t = await createTenant(gw, 'Racers');
  rx = await startReceiver();
});
afterAll(async () => {
  await killAll();
  await gw?.stop();
  await rx?.close();
});

async function consumerWithEndpoint(api: Client, url: string): Promise<{ consumer: string; endpoint: string }> {
  const c = await api.post('/v1/consumers', { name: 'Race Consumer' });
  expect(c.status).toBe(201);
  const e = await api.post(`/v1/consumers/${c.body.id}/endpoints`, { url });
  expect(e.status).toBe(201);
  return { consumer: c.body.id, endpoint: e.body.id };
}

async function expectExactlyOneMessage(
  consumer: string,
  path: string,
  responses: Array<{ status: number; body: any; headers: Headers }>,
  eventId: string,
): Promise<void> {
  const statuses = responses.map((r) => r.status);
  expect(statuses.filter((s) => s === 202)).toHaveLength(1);
  expect(statuses.filter((s) => s === 200)).toHaveLength(responses.length - 1);
  const original = responses.find((r) => r.status === 202)!.body;
  expect(original.eventId).toBe(eventId);
  for (const r of responses) {
    expect(r.body.id).toBe(original.id);
    expect(r.body.payload).toEqual(original.payload); // the replay is the original, whatever the repeat carried
  }
  expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(responses.length - 1);

  const list = await t.api.get(`/v1/consumers/${consumer}/messages`);
  expect(list.status).toBe(200);
  expect(list.body.data.map((m: { id: string }) => m.id)).toEqual([original.id]);
  const detail = await t.api.get(`/v1/consumers/${consumer}/messages/${original.id}`);
  expect(detail.body.deliveries).toHaveLength(1);

  await waitUntil(() => rx.received.some((r) => r.path === path) || undefined, 15_000, 'the delivery');
  const [delivery] = await waitUntil(async () => {
    const ds = (await t.api.get(`/v1/consumers/${consumer}/messages/${original.id}`)).body.deliveries;
    return ds[0]?.state === 'succeeded' ? ds : undefined;
  });
  // One delivery row, succeeded at its first attempt: a succeeded delivery is never claimed again, so no
  // second copy is queued or in flight, and the one arrival is all there will be.
  expect(delivery).toMatchObject({ state: 'succeeded', attempts: 1 });
  expect((await t.api.get(`/v1/consumers/${consumer}/messages/${original.id}/attempts`)).body.data).toHaveLength(1);
  const got = rx.received.filter((r) => r.path === path);
  expect(got).toHaveLength(1);
  expect(got[0]!.headers['webhook-id']).toBe(original.id);
}

describe('idempotent publish under concurrency', () => {
  it('50 concurrent publishes with the same eventId make exactly one message, delivered once', async () => {
    const { consumer } = await consumerWithEndpoint(t.api, `${rx.url}/same-event-id`);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'order.paid', eventId: 'evt_race_1', payload: { attempt: i } }),
      ),
    );
    await expectExactlyOneMessage(consumer, '/same-event-id', responses, 'evt_race_1');
  });

  it('50 concurrent publishes with the same Idempotency-Key make exactly one message, delivered once', async () => {
    const { consumer } = await consumerWithEndpoint(t.api, `${rx.url}/same-key`);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.api.post(
          `/v1/consumers/${consumer}/messages`,
          { eventType: 'order.paid', payload: { attempt: i } },
          { 'idempotency-key': 'key-race-1' },
        ),
      ),
    );
    await expectExactlyOneMessage(consumer, '/same-key', responses, 'key-race-1');
  });
});

// The migration lock of src/store/migrate.ts (MIGRATION_LOCK); the test holds it to line both processes up.
const MIGRATION_LOCK = 7_261_626_101;

describe.runIf(engine() === 'postgres')('concurrent migrate (Postgres: PGlite is one process, its folder is locked)', () => {
  it('two `tramline migrate` processes at the same moment on an empty database both succeed and apply each migration once', async () => {
    const empty = await emptyPostgresDatabase();
    const holder = new pg.Client({ connectionString: empty.url });
    try {
      await holder.connect();
      // Hold the migration lock so both processes are certainly inside migrate() together, then let them race.
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const env = { DATABASE_URL: empty.url, LOG_LEVEL: 'warn' };
      const runs = [runTramline(['migrate'], env, 45_000), runTramline(['migrate'], env, 45_000)];
      await waitUntil(
        async () => {
          const r = await holder.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
             WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = $1`,
            [empty.name],
          );
          return r.rows[0]!.n === 2 || undefined;
        },
        30_000,
        'both migrate processes waiting on the migration lock (has MIGRATION_LOCK in src/store/migrate.ts changed?)',
      );
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      const [a, b] = await Promise.all(runs);
      for (const r of [a!, b!]) expect(r, r.stderr).toMatchObject({ code: 0, timedOut: false });
      expect([a!.stdout, b!.stdout].sort()).toEqual([
        'Already up to date\n',
        'Applied: 0001_init, 0002_tenant_keys, 0003_audit_log, 0004_message_traceparent, 0005_dashboard_users, 0006_delivery_control, 0007_payload_control, 0008_password_resets, 0012_tenant_rate_limit, 0013_claim_heads, 0014_hot_tenant_row\n',
      ]);

      const applied = await holder.query<{ id: string; n: number }>(
        'SELECT id, count(*)::int AS n FROM tramline_migrations GROUP BY id ORDER BY id',
      );
      expect(applied.rows).toEqual([
        { id: '0001_init', n: 1 },
        { id: '0002_tenant_keys', n: 1 },
        { id: '0003_audit_log', n: 1 },
        { id: '0004_message_traceparent', n: 1 },
        { id: '0005_dashboard_users', n: 1 },
        { id: '0006_delivery_control', n: 1 },
        { id: '0007_payload_control', n: 1 },
        { id: '0008_password_resets', n: 1 },
        { id: '0012_tenant_rate_limit', n: 1 },
        { id: '0013_claim_heads', n: 1 },
        { id: '0014_hot_tenant_row', n: 1 },
      ]);
      // And the schema is whole: a gateway starts on it and reports ready.
      const port = await freePort();
      const proc = spawnTramline(
        ['start', '--role', 'api'],
        { ...env, PORT: String(port), HOST: '127.0.0.1' },
        { name: 'api on the raced schema' },
      );
      await proc.waitForReady(`http://127.0.0.1:${port}`, 30_000);
      expect(await proc.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await holder.end().catch(() => {});
      await empty.drop();
    }
  }, 60_000);
});

interface Hit {
  path: string;
  id: string;
  start: number;
  end: number | null;
}

/** A receiver that counts the requests it is answering at once, per path. */
async function countingReceiver(delayFor: (path: string) => number) {
  const active = new Map<string, number>();
  const maxActive = new Map<string, number>();
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const n = (active.get(path) ?? 0) + 1;
    active.set(path, n);
    maxActive.set(path, Math.max(maxActive.get(path) ?? 0, n));
    const hit: Hit = { path, id: String(req.headers['webhook-id']), start: Date.now(), end: null };
    hits.push(hit);
    res.on('close', () => {
      active.set(path, active.get(path)! - 1);
      hit.end = Date.now();
    });
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(200).end(), delayFor(path)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    maxActive,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('per-endpoint concurrency', () => {
  it('with TRAMLINE_ENDPOINT_CONCURRENCY=2 a slow endpoint never has more than 2 requests at once, and does not hold up a fast one, whose window grows', async () => {
    // 500 ms is not a fast answer (domain/endpoint-health.ts): the slow endpoint keeps its window of 2. 50 ms is:
    // the fast one, with more due than its window, grows it (up to TRAMLINE_ENDPOINT_CONCURRENCY_MAX, 16).
    const recv = await countingReceiver((path) => (path === '/slow' ? 500 : 50));
    try {
      const slow = await consumerWithEndpoint(t.api, `${recv.url}/slow`);
      const fast = await consumerWithEndpoint(t.api, `${recv.url}/fast`);
      const publish = (consumer: string, i: number) =>
        t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'load.tick', payload: { i } });
      const started = Date.now();
      // The slow endpoint's backlog is queued first: 20 × 500 ms at 2 at a time is ≥ 5 s of work.
      const slowIds = (await Promise.all(Array.from({ length: 20 }, (_, i) => publish(slow.consumer, i)))).map((r) => r.body.id as string);
      const fastPublishedAt = Date.now();
      const fastIds = (await Promise.all(Array.from({ length: 20 }, (_, i) => publish(fast.consumer, i)))).map((r) => r.body.id as string);

      await waitUntil(
        () => recv.hits.filter((h) => h.path === '/slow' && h.end !== null).length >= 20 || undefined,
        30_000,
        'the slow backlog',
      );
      const slowHits = recv.hits.filter((h) => h.path === '/slow');
      const fastHits = recv.hits.filter((h) => h.path === '/fast');
      const lastFast = Math.max(...fastHits.map((h) => h.start));
      const lastSlow = Math.max(...slowHits.map((h) => h.start));
      const slowBeforeFastDone = slowHits.filter((h) => h.start <= lastFast).length;
      console.log(
        `endpoint concurrency: slow max ${recv.maxActive.get('/slow')} at once, backlog ${lastSlow - started} ms; ` +
          `fast max ${recv.maxActive.get('/fast')} at once, all 20 within ${lastFast - fastPublishedAt} ms of publishing, ` +
          `when ${slowBeforeFastDone} of 20 slow ones had started`,
      );

      expect(new Set(slowHits.map((h) => h.id))).toEqual(new Set(slowIds));
      expect(new Set(fastHits.map((h) => h.id))).toEqual(new Set(fastIds));
      expect(slowHits).toHaveLength(20); // nothing sent twice: the 500 ms answers are well inside the delivery timeout
      expect(fastHits).toHaveLength(20);
      expect(recv.maxActive.get('/slow')).toBe(2); // the cap, and used to the full
      expect(recv.maxActive.get('/fast')).toBeGreaterThan(2);
      expect(recv.maxActive.get('/fast')).toBeLessThanOrEqual(16);
      // No starvation: the fast endpoint was served while the slow backlog was still being worked off.
      expect(lastFast).toBeLessThan(lastSlow);
      expect(slowBeforeFastDone).toBeLessThan(20);
    } finally {
      await recv.close();
    }
  }, 60_000);
});
