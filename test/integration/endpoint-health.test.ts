import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { OPERATIONAL_EVENT_DATA } from '../../src/api/schemas/operational-events.ts';
import type { OperationalEventType } from '../../src/domain/operational-events.ts';
import { engine } from '../helpers/db.ts';
import { createTenant, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

/**
 * Issue 13, items 2–4 with a real gateway and real receivers: an endpoint answering 429 is slowed down and
 * speeds up again once it recovers, while another endpoint is unaffected; a failing endpoint is disabled by
 * the breaker, audited, shown in the API, and the tenant's operational endpoint is told, signed.
 */
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** Arrivals per second over [from, to) of the requests whose path is `path`. */
const rateOf = (rx: Receiver, path: string, from: number, to: number): number =>
  rx.received.filter((r) => r.path === path && r.at >= from && r.at < to).length / ((to - from) / 1000);

/** The first time after `from` at which the 1-s window ending then satisfies `ok` (checked every 100 ms). */
function firstWindow(rx: Receiver, path: string, from: number, to: number, ok: (perSecond: number) => boolean): number | null {
  for (let t = from + 100; t <= to; t += 100) if (ok(rateOf(rx, path, t - 1000, t))) return t;
  return null;
}

describe('back-off on pressure', () => {
  it('an endpoint answering 429 sees its rate fall and recover; another endpoint is unaffected', async () => {
    const gw: TestGateway = await startTestGateway({
      env: { TRAMLINE_ENDPOINT_CONCURRENCY: '8', TRAMLINE_RETRY_SCHEDULE: '0s,200ms,400ms,800ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s' },
    });
    cleanups.push(() => gw.stop());
    let phase: 'normal' | 'throttled' | 'recovered' = 'normal';
    const rx = await startReceiver((r) =>
      r.path === '/pressured' && phase === 'throttled'
        ? { status: 429, headers: { 'retry-after': '1' }, delayMs: 20 }
        : { status: 200, delayMs: 20 },
    );
    cleanups.push(() => rx.close());
    const t = await createTenant(gw, 'Pressure');
    for (const c of ['pressured', 'calm']) {
      expect((await t.api.post('/v1/consumers', { name: c, uid: c })).status).toBe(201);
      expect((await t.api.post(`/v1/consumers/${c}/endpoints`, { url: `${rx.url}/${c}` })).status).toBe(201);
    }
    // A steady stream to both endpoints: six publishers each, about 30/s per endpoint, well below what the
    // gateway carries. (Publishing as fast as it takes them overloaded this process, which also runs the
    // gateway: the backlog grew by hundreds a second and recovery then measured the overload, not the back-off.)
    let publishing = true;
    const published = { pressured: 0, calm: 0 };
    let seq = 0;
    const publisher = Promise.all(
      Array.from({ length: 12 }, async (_, k) => {
        const c = k % 2 === 0 ? 'pressured' : 'calm';
        while (publishing) {
          const i = seq++;
          const r = await t.api.post(`/v1/consumers/${c}/messages`, { eventType: 'e.t', eventId: `${c}-${i}`, payload: { i } });
          if (r.status === 202) published[c]++;
          await sleep(200);
        }
      }),
    );
    await sleep(4_000);
    const throttledAt = Date.now();
    phase = 'throttled';
    await sleep(6_000);
    const recoveredAt = Date.now();
    phase = 'recovered';
    const windows: string[] = [];
    for (let k = 0; k < 8; k++) {
      await sleep(1_000);
      const h = await gw.testDb.db.owner((q) =>
        q.query<{ w: number; p: Date | null }>('SELECT max_in_flight AS w, paused_until AS p FROM endpoint_health'),
      );
      windows.push(h.rows.map((x) => `${Number(x.w).toFixed(1)}${x.p && x.p.getTime() > Date.now() ? 'P' : ''}`).join('/') || '-');
    }
    publishing = false;
    await publisher;

    const baseline = rateOf(rx, '/pressured', throttledAt - 3_000, throttledAt);
    const calmBaseline = rateOf(rx, '/calm', throttledAt - 3_000, throttledAt);
    const backedOffAt = firstWindow(rx, '/pressured', throttledAt, recoveredAt, (r) => r <= baseline / 4);
    const backOffMs = backedOffAt === null ? null : backedOffAt - throttledAt;
    const throttled = rateOf(rx, '/pressured', throttledAt + 2_000, recoveredAt);
    const calmThrottled = rateOf(rx, '/calm', throttledAt + 2_000, recoveredAt);
    const backUpAt = firstWindow(rx, '/pressured', recoveredAt, recoveredAt + 8_000, (r) => r >= baseline * 0.8);
    const recoverMs = backUpAt === null ? null : backUpAt - recoveredAt;
    console.log(
      `back-off (${engine()}): baseline ${baseline.toFixed(1)}/s; under 429 ${throttled.toFixed(1)}/s, fell to a quarter in ${backOffMs} ms; ` +
        `back to 80 % in ${recoverMs} ms after the 429s stopped; the other endpoint ${calmBaseline.toFixed(1)}/s → ${calmThrottled.toFixed(1)}/s meanwhile`,
    );
    const perSecond = (path: string) =>
      Array.from(
        { length: Math.ceil((Date.now() - throttledAt + 4_000) / 1000) },
        (_, k) =>
          rx.received.filter((r) => r.path === path && r.at >= throttledAt - 4_000 + k * 1000 && r.at < throttledAt - 3_000 + k * 1000)
            .length,
      );
    console.log(
      `per second at /pressured (429s from second 4 to 10, then 200s): ${perSecond('/pressured').join(' ')}; window after each second of recovery: ${windows.join(' ')}`,
    );
    expect(backOffMs).not.toBeNull();
    expect(throttled).toBeLessThan(baseline / 2);
    expect(calmThrottled).toBeGreaterThan(calmBaseline * 0.6);
    expect(recoverMs, 'back to 80 % of the baseline within 8 s of the last 429').not.toBeNull();
    // Nothing was lost to the pressure: every message published to the pressured endpoint arrives with a 2xx.
    await waitUntil(
      () =>
        new Set(rx.received.filter((r) => r.path === '/pressured' && r.at >= recoveredAt).map((r) => r.headers['webhook-id'])).size >= 1 ||
        undefined,
      10_000,
      'deliveries after recovery',
    );
    await waitUntil(
      async () => {
        const ok = new Set<string>();
        // By the status answered, not by when: a request answered 200 in the millisecond the phase changed
        // (at === throttledAt) was delivered, and is never sent again.
        for (const r of rx.received)
          if (r.path === '/pressured' && r.status !== undefined && r.status < 300) ok.add(String(r.headers['webhook-id']));
        return ok.size >= published.pressured || undefined;
      },
      30_000,
      'every pressured message delivered',
    );
  });
});

describe('circuit breaker and operational events', () => {
  it('disables a failing endpoint by policy, audits it, shows why and since when, and tells the operational endpoint, signed', async () => {
    const gw = await startTestGateway({
      env: { TRAMLINE_DISABLE_AFTER_MESSAGES: '2', TRAMLINE_RETRY_SCHEDULE: '0s,100ms', TRAMLINE_FAILING_EVENT_AFTER: '1' },
    });
    cleanups.push(() => gw.stop());
    let flakyCalls = 0;
    const rx = await startReceiver((r) => {
      if (r.path === '/broken') return { status: 500 };
      if (r.path === '/flaky') return { status: flakyCalls++ === 0 ? 500 : 200 };
      return { status: 204 };
    });
    cleanups.push(() => rx.close());
    const t = await createTenant(gw, 'Watched');
    const ops = await t.api.post('/v1/consumers', { name: 'Our on-call', uid: 'ops', operational: true });
    expect(ops.status).toBe(201);
    expect(ops.body.operational).toBe(true);
    const opsEp = await t.api.post('/v1/consumers/ops/endpoints', { url: `${rx.url}/ops` });
    expect(opsEp.status).toBe(201);
    const secret = (await t.api.get(`/v1/consumers/ops/endpoints/${opsEp.body.id}/secret`)).body.secret as string;
    expect((await t.api.post('/v1/consumers', { name: 'Customer', uid: 'cust' })).status).toBe(201);
    const broken = (await t.api.post('/v1/consumers/cust/endpoints', { url: `${rx.url}/broken`, eventTypes: ['order.paid'] })).body.id;
    const flaky = (await t.api.post('/v1/consumers/cust/endpoints', { url: `${rx.url}/flaky`, eventTypes: ['order.shipped'] })).body.id;

    for (const n of [1, 2])
      expect((await t.api.post('/v1/consumers/cust/messages', { eventType: 'order.paid', payload: { n } })).status).toBe(202);
    expect((await t.api.post('/v1/consumers/cust/messages', { eventType: 'order.shipped', payload: {} })).status).toBe(202);

    const ep = await waitUntil(
      async () => {
        const r = await t.api.get(`/v1/consumers/cust/endpoints/${broken}`);
        return r.body.disabled ? r.body : undefined;
      },
      20_000,
      'the breaker disabling the endpoint',
    );
    expect(ep.disabledReason).toBe('2 messages in a row failed every attempt');
    expect(Number.isNaN(Date.parse(ep.disabledAt))).toBe(false);
    const audit = await t.api.get('/v1/audit-log');
    expect(audit.body.data).toContainEqual(expect.objectContaining({ actor: 'system', action: 'endpoint.disable', target: broken }));

    // The operational endpoint: each event signed like any webhook, verified with the standardwebhooks library.
    const wh = new Webhook(secret);
    const events = async () =>
      rx.received
        .filter((r) => r.path === '/ops')
        .map((r) => wh.verify(r.body, r.headers as Record<string, string>) as { type: string; data: Record<string, unknown> });
    const disabled = await waitUntil(async () => (await events()).find((e) => e.type === 'endpoint.disabled'), 15_000, 'endpoint.disabled');
    expect(disabled.data).toMatchObject({ endpointId: broken, reason: '2 messages in a row failed every attempt' });
    expect(disabled.data.failingSince).toEqual(expect.any(String));
    await waitUntil(
      async () => (await events()).find((e) => e.type === 'endpoint.recovered' && e.data.endpointId === flaky),
      15_000,
      'recovered',
    );
    // Each payload is what the OpenAPI document's webhooks say it is.
    for (const e of await events()) OPERATIONAL_EVENT_DATA[e.type as OperationalEventType].parse(e.data);
    const kinds = (await events()).map((e) => `${e.type} ${e.data.endpointId}`);
    expect(kinds.filter((k) => k === `message.attempt.exhausted ${broken}`)).toHaveLength(2);
    expect(kinds).toContain(`message.attempt.failing ${flaky}`);
    // Ordinary messages of the operational consumer: in its log, resendable like any other.
    const log = await t.api.get('/v1/consumers/ops/messages?limit=50');
    expect(log.body.data.map((m: { eventType: string }) => m.eventType)).toContain('endpoint.disabled');

    // Re-enabled by the tenant: since-when is cleared with the flag.
    const patched = await t.api.patch(`/v1/consumers/cust/endpoints/${broken}`, { disabled: false });
    expect(patched.body).toMatchObject({ disabled: false, disabledAt: null });
  });
});
