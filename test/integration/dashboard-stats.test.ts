/**
 * GET /v1/stats after real deliveries: per-bucket published / delivered / failed counts, latency
 * percentiles (publish → first successful attempt) and the tenant's queue; range validation; the
 * figures of one tenant never include another's. Both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type Response } from '../helpers/client.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { waitUntil } from '../helpers/wait.ts';
import { userOf } from '../helpers/dashboard.ts';

let gw: TestGateway;
let ok: Receiver;
let failing: Receiver;
let A: TestTenant;
let B: TestTenant;

interface Point {
  t: string;
  published: number;
  delivered: number;
  failed: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
}

const sum = (s: Point[], k: 'published' | 'delivered' | 'failed'): number => s.reduce((n, p) => n + p[k], 0);

function expectProblem(r: Response, status: number, what = ''): void {
  expect(r.status, `${what} (${JSON.stringify(r.body)})`).toBe(status);
  expect(r.headers.get('content-type') ?? '').toMatch(/^application\/problem\+json/);
}

beforeAll(async () => {
  gw = await startTestGateway();
  ok = await startReceiver(() => ({ status: 200 }));
  failing = await startReceiver(() => ({ status: 500 }));
  A = await createTenant(gw, 'Stats A');
  B = await createTenant(gw, 'Stats B');
});
afterAll(async () => {
  await gw?.stop();
  await gw?.testDb.close();
  await ok?.close();
  await failing?.close();
});

describe('GET /v1/stats', () => {
  it('counts published, delivered and failed per bucket, with latency percentiles and the queue', async () => {
    const before = new Date(Date.now() - 60_000).toISOString();
    const empty = await A.api.get(`/v1/stats?from=${encodeURIComponent(before)}&step=1m`);
    expect(empty.status, JSON.stringify(empty.body)).toBe(200);
    expect(sum(empty.body.series, 'published')).toBe(0);

    const good = (await A.api.post('/v1/consumers', { name: 'good', uid: 'good' })).body;
    await A.api.post(`/v1/consumers/${good.id}/endpoints`, { url: `${ok.url}/hook` });
    const bad = (await A.api.post('/v1/consumers', { name: 'bad', uid: 'bad' })).body;
    await A.api.post(`/v1/consumers/${bad.id}/endpoints`, { url: `${failing.url}/hook` });
    // Another tenant's traffic must not show in A's figures.
    const other = (await B.api.post('/v1/consumers', { name: 'b', uid: 'b' })).body;
    await B.api.post(`/v1/consumers/${other.id}/endpoints`, { url: `${ok.url}/b` });

    for (let i = 0; i < 5; i++)
      expect((await A.api.post(`/v1/consumers/${good.id}/messages`, { eventType: 'invoice.paid', payload: { i } })).status).toBe(202);
    expect((await A.api.post(`/v1/consumers/${bad.id}/messages`, { eventType: 'invoice.paid', payload: {} })).status).toBe(202);
    for (let i = 0; i < 3; i++) await B.api.post(`/v1/consumers/${other.id}/messages`, { eventType: 'x', payload: {} });

    // 5 successes; the failing endpoint exhausts its schedule (0s, 200ms, 400ms: 3 attempts).
    const query = `/v1/stats?from=${encodeURIComponent(before)}&step=1m`;
    const stats = await waitUntil(
      async () => {
        const r = await A.api.get(query);
        return sum(r.body.series, 'delivered') === 5 &&
          sum(r.body.series, 'failed') === 3 &&
          r.body.queue.due === 0 &&
          r.body.queue.scheduled === 0
          ? r.body
          : undefined;
      },
      30_000,
      'stats show the deliveries',
    );
    expect(stats.step).toBe(60);
    expect(sum(stats.series, 'published')).toBe(6);
    expect(Date.parse(stats.from) % 60_000).toBe(0);
    expect(Date.parse(stats.to) % 60_000).toBe(0);
    expect(stats.series.length).toBe((Date.parse(stats.to) - Date.parse(stats.from)) / 60_000);
    for (let i = 1; i < stats.series.length; i++) expect(Date.parse(stats.series[i].t) - Date.parse(stats.series[i - 1].t)).toBe(60_000);
    const withLatency = stats.series.filter((p: Point) => p.latencyP50Ms !== null);
    expect(withLatency.length).toBeGreaterThan(0);
    for (const p of withLatency) {
      expect(p.latencyP50Ms).toBeGreaterThanOrEqual(0);
      expect(p.latencyP95Ms).toBeGreaterThanOrEqual(p.latencyP50Ms!);
      expect(p.latencyP99Ms).toBeGreaterThanOrEqual(p.latencyP95Ms!);
      expect(p.latencyP99Ms).toBeLessThan(30_000);
    }
    // Buckets without success have no latency.
    for (const p of stats.series.filter((x: Point) => x.delivered === 0)) expect(p.latencyP50Ms).toBeNull();
    expect(stats.queue).toEqual({ due: 0, scheduled: 0, oldestDueAgeSeconds: 0 });

    const bStats = (await B.api.get(query)).body;
    expect(sum(bStats.series, 'published')).toBe(3);
    expect(sum(bStats.series, 'failed')).toBe(0);

    // A dashboard session (even a viewer's) reads the same figures.
    const viewer = await userOf(gw, A, 'viewer@stats.test', 'viewer');
    const seen = await viewer.api.get(query);
    expect(seen.status).toBe(200);
    expect(sum(seen.body.series, 'published')).toBe(6);
  });

  it('a pending retry shows in the queue', async () => {
    const slow = (await A.api.post('/v1/consumers', { name: 'later' })).body;
    const ep = (await A.api.post(`/v1/consumers/${slow.id}/endpoints`, { url: `${ok.url}/later` })).body;
    const msg = (await A.api.post(`/v1/consumers/${slow.id}/messages`, { eventType: 'e', payload: {} })).body;
    await waitUntil(
      async () => (await A.api.get(`/v1/consumers/${slow.id}/messages/${msg.id}/attempts`)).body.data.length === 1,
      15_000,
      'delivered',
    );
    // No worker may take it while we look: stopped first, or it could claim the delivery made due below and, on
    // stopping, hand it back due now instead of 30 s ago.
    await gw.gateway.stop();
    // Put a delivery in the queue as due 30 s ago (what a worker backlog looks like).
    await gw.testDb.db.owner((q) =>
      q.query(`UPDATE deliveries SET state = 'pending', next_attempt_at = now() - interval '30 seconds' WHERE endpoint_id = $1`, [ep.id]),
    );
    const r = await waitUntil(async () => {
      const x = await gw.testDb.db.tenant(A.id, (q) =>
        q.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE state = 'pending'`),
      );
      return x.rows[0]!.n === 1 ? x : undefined;
    });
    expect(r.rows[0]!.n).toBe(1);
    // The API alone, on the same database.
    gw = await startTestGateway({ testDb: gw.testDb, role: 'api' });
    A = { ...A, api: client(gw.url, A.key) };
    const q = (await A.api.get('/v1/stats')).body;
    expect(q.queue.due).toBe(1);
    expect(q.queue.oldestDueAgeSeconds).toBeGreaterThanOrEqual(29);
    expect(q.step).toBe(900); // 24 h by default, the smallest nice step with ≤ 200 buckets
  });

  it('validates from, to and step: 400 problems', async () => {
    const now = Date.now();
    const iso = (ms: number): string => encodeURIComponent(new Date(ms).toISOString());
    expectProblem(await A.api.get('/v1/stats?from=yesterday'), 400, 'from not a date');
    expectProblem(await A.api.get('/v1/stats?to=2026-13-01T00:00:00Z'), 400, 'bad month');
    expectProblem(await A.api.get(`/v1/stats?from=${iso(now)}&to=${iso(now - 1000)}`), 400, 'from after to');
    expectProblem(await A.api.get(`/v1/stats?from=${iso(now - 100 * 86_400_000)}`), 400, 'over 90 days');
    expectProblem(await A.api.get('/v1/stats?step=5'), 400, 'step without unit');
    expectProblem(await A.api.get('/v1/stats?step=1s'), 400, 'step under 10s');
    expectProblem(await A.api.get(`/v1/stats?from=${iso(now - 86_400_000)}&step=10s`), 400, 'too many buckets');
    expectProblem(await A.api.get('/v1/stats?bucket=1m'), 400, 'unknown parameter');
    const r = await A.api.get('/v1/stats?from=2026-01-01T00:00:00%2B02:00&to=2026-01-01T06:00:00Z&step=1h');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.from).toBe('2025-12-31T22:00:00.000Z');
    expect(r.body.series).toHaveLength(8);
  });
});
