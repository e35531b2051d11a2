import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { runRetention } from '../../src/scheduler/retention.ts';
import { createRetentionMetrics } from '../../src/telemetry/retention-metrics.ts';
import { killAll, printChildOutputOnFailure, runTramline } from '../helpers/process.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { waitUntil } from '../helpers/wait.ts';

/** Issue 13 items 8 and 9: retention removes exactly what is older than the window and nothing pending; bulk replays. */
let gw: TestGateway;
let t: TestTenant;
let rx: Receiver;
const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  // A long retry schedule: a delivery to the failing endpoint stays pending for the whole test.
  gw = await startTestGateway({ env: { TRAMLINE_RETRY_SCHEDULE: '0s,1h' } });
  t = await createTenant(gw);
  rx = await startReceiver((r) => ({ status: r.path.startsWith('/down') ? 503 : 200 }));
});
printChildOutputOnFailure();
afterAll(async () => {
  await killAll();
  await gw?.stop();
  await rx?.close();
});

const idsAt = (path: string) => new Set(rx.received.filter((r) => r.path === path).map((r) => r.headers['webhook-id'] as string));

async function consumerWith(path: string) {
  const c = (await t.api.post('/v1/consumers', { name: path })).body.id as string;
  const e = (await t.api.post(`/v1/consumers/${c}/endpoints`, { url: rx.url + path })).body.id as string;
  return { consumer: c, endpoint: e };
}
const publish = async (consumer: string, payload: unknown, eventType = 'order.created'): Promise<string> => {
  const r = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType, payload });
  expect(r.status).toBe(202);
  return r.body.id as string;
};
const stateOf = async (consumer: string, id: string): Promise<string | undefined> =>
  (await t.api.get(`/v1/consumers/${consumer}/messages/${id}`)).body.deliveries?.[0]?.state;
const exists = async (consumer: string, id: string): Promise<boolean> =>
  (await t.api.get(`/v1/consumers/${consumer}/messages/${id}`)).status === 200;

describe('retention', () => {
  it('removes exactly what is older than the window, with deliveries and attempts, never a pending message', async () => {
    const up = await consumerWith('/up');
    const down = await consumerWith('/down');
    const old = [await publish(up.consumer, { n: 1 }), await publish(up.consumer, { n: 2 })];
    const oldPending = await publish(down.consumer, { n: 3 });
    await waitUntil(async () => (await stateOf(up.consumer, old[1]!)) === 'succeeded' || undefined, 60_000);
    await waitUntil(
      async () => (await t.api.get(`/v1/consumers/${down.consumer}/messages/${oldPending}/attempts`)).body.data.length > 0 || undefined,
      60_000,
    );
    expect(await stateOf(down.consumer, oldPending)).toBe('pending');

    await new Promise((r) => setTimeout(r, 50));
    const boundary = new Date();
    await new Promise((r) => setTimeout(r, 50));
    const recent = await publish(up.consumer, { n: 4 });
    await waitUntil(async () => (await stateOf(up.consumer, recent)) === 'succeeded' || undefined, 60_000);

    // 30 days (the default) after the boundary: what was created before it is out of the window.
    const registry = new Registry();
    const metrics = createRetentionMetrics(registry);
    const run = await runRetention({ db: gw.gateway.db, defaultDays: 30, batch: 1, metrics }, new Date(boundary.getTime() + 30 * DAY));
    expect(run).toMatchObject({ messages: 2, deliveries: 2, attempts: 2 });
    const exported = await registry.metrics();
    expect(exported).toContain('tramline_retention_removed_total{table="messages"} 2');
    expect(exported).toContain('tramline_retention_removed_total{table="attempts"} 2');
    expect(exported).toContain('tramline_retention_runs_total 1');
    for (const id of old) expect(await exists(up.consumer, id)).toBe(false);
    expect(await exists(up.consumer, recent)).toBe(true);
    expect(await exists(down.consumer, oldPending)).toBe(true);

    // A tenant's own window: 1 day removes the recent one too, once it is a day old.
    expect((await t.api.patch('/v1/settings', { retentionDays: 1 })).body.retentionDays).toBe(1);
    const later = await runRetention({ db: gw.gateway.db, defaultDays: 30, batch: 100 }, new Date(Date.now() + 1 * DAY + 1000));
    expect(later.messages).toBe(1);
    expect(await exists(up.consumer, recent)).toBe(false);
    expect(await exists(down.consumer, oldPending)).toBe(true);
    await t.api.patch('/v1/settings', { retentionDays: null });
  });
});

describe('disabling an endpoint with deliveries queued', () => {
  it('keeps them as skipped and sends them after re-enabling', async () => {
    const { consumer, endpoint } = await consumerWith('/down-paused');
    const id = await publish(consumer, { n: 1 });
    // The receiver answers 503: the delivery waits an hour for its next attempt.
    await waitUntil(
      async () => (await t.api.get(`/v1/consumers/${consumer}/messages/${id}/attempts`)).body.data.length > 0 || undefined,
      60_000,
    );
    const ep = `/v1/consumers/${consumer}/endpoints/${endpoint}`;
    const disabled = await t.api.patch(ep, { disabled: true });
    expect(disabled.body).toMatchObject({ disabled: true, skippedDeliveries: 1 });
    expect(await stateOf(consumer, id)).toBe('skipped');
    const enabled = await t.api.patch(ep, { disabled: false, replaySkipped: true, url: `${rx.url}/up-again` });
    expect(enabled.body).toMatchObject({ disabled: false, replayedDeliveries: 1 });
    await waitUntil(() => idsAt('/up-again').has(id) || undefined, 60_000);
  });
});

describe('bulk replay', () => {
  it('resends every message matching the filter, with its progress in the API', async () => {
    const { consumer, endpoint } = await consumerWith('/replayed');
    const orders = [await publish(consumer, { n: 1 }), await publish(consumer, { n: 2 }), await publish(consumer, { n: 3 })];
    const refund = await publish(consumer, { n: 4 }, 'refund.created');
    await waitUntil(() => idsAt('/replayed').size >= 4 || undefined, 60_000);
    const before = rx.received.filter((r) => r.path === '/replayed').length;

    const ep = `/v1/consumers/${consumer}/endpoints/${endpoint}`;
    const created = await t.api.post(`${ep}/replays`, { eventTypes: ['order.created'], status: ['succeeded'] });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({
      endpointId: endpoint,
      total: 3,
      filter: { eventTypes: ['order.created'], status: ['succeeded'] },
    });
    const done = await waitUntil(
      async () => {
        const r = await t.api.get(`${ep}/replays/${created.body.id}`);
        return r.body.state === 'completed' ? r.body : undefined;
      },
      60_000,
      'replay completed',
    );
    expect(done).toMatchObject({ total: 3, queued: 3, error: null });
    await waitUntil(() => rx.received.filter((r) => r.path === '/replayed').length >= before + 3 || undefined, 60_000);
    const again = rx.received
      .filter((r) => r.path === '/replayed')
      .slice(before)
      .map((r) => r.headers['webhook-id']);
    expect(new Set(again)).toEqual(new Set(orders));
    expect(again).not.toContain(refund);

    // Nothing matches: the job is complete at once.
    const none = await t.api.post(`${ep}/replays`, { since: new Date(Date.now() + DAY).toISOString() });
    expect(none.body).toMatchObject({ state: 'completed', total: 0, queued: 0 });
    expect((await t.api.get(`${ep}/replays`)).body.data).toHaveLength(2);
    const backwards = await t.api.post(`${ep}/replays`, { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' });
    expect(backwards.status).toBe(400);
  });

  it('runs from the CLI (tramline replay) to the end, with its progress', async () => {
    const { consumer, endpoint } = await consumerWith('/cli-replayed');
    const ids = [await publish(consumer, { n: 1 }), await publish(consumer, { n: 2 })];
    await waitUntil(() => idsAt('/cli-replayed').size >= 2 || undefined, 60_000);
    const before = rx.received.filter((r) => r.path === '/cli-replayed').length;
    const run = await runTramline(
      ['replay', consumer, endpoint, '--status', 'succeeded', '--json'],
      { TRAMLINE_URL: gw.url, TRAMLINE_API_KEY: t.key, HOME: '/nonexistent', XDG_CONFIG_HOME: '' },
      120_000,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ state: 'completed', total: 2, queued: 2 });
    expect(run.stderr).toMatch(/2\/2 queued \(completed\)/);
    await waitUntil(() => rx.received.filter((r) => r.path === '/cli-replayed').length >= before + 2 || undefined, 60_000);
    expect(
      new Set(
        rx.received
          .filter((r) => r.path === '/cli-replayed')
          .slice(before)
          .map((r) => r.headers['webhook-id']),
      ),
    ).toEqual(new Set(ids));

    const bad = await runTramline(
      ['replay', consumer, endpoint, '--status', 'pending'],
      { TRAMLINE_URL: gw.url, TRAMLINE_API_KEY: t.key },
      60_000,
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/"pending" is not one of/);
  });
});
