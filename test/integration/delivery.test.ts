import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { waitUntil } from '../helpers/wait.ts';

let gw: TestGateway;
let t: TestTenant;
let rx: Receiver;

beforeAll(async () => {
  gw = await startTestGateway();
  t = await createTenant(gw);
  rx = await startReceiver();
});
afterAll(async () => {
  await gw?.stop();
  await rx?.close();
});

async function consumerWithEndpoint(body: Record<string, unknown> = {}, path = '/hook') {
  const c = await t.api.post('/v1/consumers', { name: 'Globex' });
  expect(c.status).toBe(201);
  const e = await t.api.post(`/v1/consumers/${c.body.id}/endpoints`, { url: rx.url + path, ...body });
  expect(e.status).toBe(201);
  const s = await t.api.get(`/v1/consumers/${c.body.id}/endpoints/${e.body.id}/secret`);
  return { consumer: c.body.id as string, endpoint: e.body.id as string, secret: s.body.secret as string };
}

const fromPath = (path: string) => rx.received.filter((r) => r.path === path);

type DeliveryOut = { endpointId: string; state: string; attempts: number };

/** The message's deliveries once none is still due or in flight (every delivery row is made at publish). */
async function settledDeliveries(consumer: string, message: string): Promise<DeliveryOut[]> {
  return waitUntil(async () => {
    const ds = (await t.api.get(`/v1/consumers/${consumer}/messages/${message}`)).body.deliveries as DeliveryOut[];
    return ds.every((d) => d.state === 'succeeded' || d.state === 'failed') ? ds : undefined;
  });
}

describe('delivery', () => {
  it('delivers every message signed in the Standard Webhooks format', async () => {
    const { consumer, secret } = await consumerWithEndpoint({}, '/signed');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'invoice.paid', payload: { n: i, text: 'héllo ✓' } });
      expect(r.status).toBe(202);
      ids.push(r.body.id);
    }
    await waitUntil(() => fromPath('/signed').length >= 5 || undefined);
    const wh = new Webhook(secret);
    for (const r of fromPath('/signed')) {
      const verified = wh.verify(r.body, {
        'webhook-id': r.headers['webhook-id'] as string,
        'webhook-timestamp': r.headers['webhook-timestamp'] as string,
        'webhook-signature': r.headers['webhook-signature'] as string,
      }) as { type: string; data: { n: number; text: string }; timestamp: string };
      expect(verified.type).toBe('invoice.paid');
      expect(verified.data.text).toBe('héllo ✓');
      expect(r.headers['content-type']).toBe('application/json');
    }
    expect(new Set(fromPath('/signed').map((r) => r.headers['webhook-id']))).toEqual(new Set(ids));
    const msg = await t.api.get(`/v1/consumers/${consumer}/messages/${ids[0]}`);
    await waitUntil(
      async () => (await t.api.get(`/v1/consumers/${consumer}/messages/${ids[0]}`)).body.deliveries[0]?.state === 'succeeded' || undefined,
    );
    expect(msg.body.deliveries).toHaveLength(1);
    const attempts = await t.api.get(`/v1/consumers/${consumer}/messages/${ids[0]}/attempts`);
    expect(attempts.body.data).toHaveLength(1);
    expect(attempts.body.data[0]).toMatchObject({ outcome: 'succeeded', statusCode: 200, attempt: 1 });
  });

  it('honours event-type and channel filters', async () => {
    const c = (await t.api.post('/v1/consumers', { name: 'Filters' })).body.id as string;
    const mk = async (path: string, body: object): Promise<string> =>
      (await t.api.post(`/v1/consumers/${c}/endpoints`, { url: rx.url + path, ...body })).body.id;
    const all = await mk('/f-all', {});
    const paid = await mk('/f-paid', { eventTypes: ['invoice.paid'] });
    const eu = await mk('/f-eu', { channels: ['eu'] });
    const paidEu = await mk('/f-paid-eu', { eventTypes: ['invoice.paid'], channels: ['eu'] });
    const publish = async (eventType: string, channels?: string[]): Promise<string> =>
      (await t.api.post(`/v1/consumers/${c}/messages`, { eventType, payload: { eventType, channels }, ...(channels ? { channels } : {}) }))
        .body.id;
    const messages = [
      await publish('invoice.paid'),
      await publish('invoice.paid', ['eu']),
      await publish('invoice.void', ['eu', 'us']),
      await publish('invoice.void', ['us']),
    ];
    // The filters are applied at publish: each message has a delivery for exactly the endpoints that match it
    // (all: 4; paid: 2; eu: 2; paid+eu: 1 → 9). Once each of those has succeeded nothing else is queued for
    // these endpoints, and every attempt made is one arrival (a retry after a timeout included, at-least-once):
    // so the arrivals counted here are all there will ever be.
    const expected = [[all, paid], [all, paid, eu, paidEu], [all, eu], [all]];
    let attempts = 0;
    for (const [i, m] of messages.entries()) {
      const ds = await settledDeliveries(c, m);
      expect(ds.map((d) => d.endpointId).sort()).toEqual([...expected[i]!].sort());
      expect(ds.map((d) => d.state)).toEqual(ds.map(() => 'succeeded'));
      attempts += ds.reduce((n, d) => n + d.attempts, 0);
    }
    expect(rx.received.filter((r) => r.path.startsWith('/f-'))).toHaveLength(attempts);
    // Each message once per endpoint (a retried copy carries the same webhook-id).
    const types = (path: string) =>
      [...new Map(fromPath(path).map((r) => [r.headers['webhook-id'], JSON.parse(r.body).data])).values()]
        .map((d) => `${d.eventType}:${(d.channels ?? []).join('+')}`)
        .sort();
    expect(types('/f-all')).toHaveLength(4);
    expect(types('/f-paid')).toEqual(['invoice.paid:', 'invoice.paid:eu']);
    expect(types('/f-eu')).toEqual(['invoice.paid:eu', 'invoice.void:eu+us']);
    expect(types('/f-paid-eu')).toEqual(['invoice.paid:eu']);
  });

  it('retries on the schedule until the receiver succeeds', async () => {
    const { consumer } = await consumerWithEndpoint({}, '/flaky');
    let calls = 0;
    const previous = rx.reply;
    rx.reply = (r, i) => (r.path === '/flaky' ? (++calls <= 2 ? { status: 503, body: 'busy' } : { status: 200 }) : previous(r, i));
    const m = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'order.created', payload: { id: 1 } });
    await waitUntil(() => fromPath('/flaky').length >= 3 || undefined);
    rx.reply = previous;
    const at = fromPath('/flaky').map((r) => r.at);
    // Schedule 0s, 200ms, 400ms with ±20 % jitter (plus polling latency).
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(150);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(300);
    expect(new Set(fromPath('/flaky').map((r) => r.headers['webhook-id']))).toEqual(new Set([m.body.id]));
    const attempts = await waitUntil(async () => {
      const a = await t.api.get(`/v1/consumers/${consumer}/messages/${m.body.id}/attempts`);
      return a.body.data.length === 3 ? a.body.data : undefined;
    });
    expect(attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([200, 503, 503]);
    expect(attempts[1].responseBody).toBe('busy');
  });

  it('marks a delivery failed after the last attempt, and resend sends it again', async () => {
    const { consumer, endpoint } = await consumerWithEndpoint({}, '/down');
    let up = false;
    const previous = rx.reply;
    rx.reply = (r, i) => (r.path === '/down' ? { status: up ? 204 : 500 } : previous(r, i));
    const m = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'x.y', payload: {} });
    const failed = await waitUntil(async () => {
      const d = (await t.api.get(`/v1/consumers/${consumer}/messages/${m.body.id}`)).body.deliveries[0];
      return d?.state === 'failed' ? d : undefined;
    });
    expect(failed.attempts).toBe(3);
    up = true;
    const resent = await t.api.post(`/v1/consumers/${consumer}/messages/${m.body.id}/endpoints/${endpoint}/resend`);
    expect(resent.status).toBe(202);
    await waitUntil(
      async () =>
        (await t.api.get(`/v1/consumers/${consumer}/messages/${m.body.id}`)).body.deliveries[0]?.state === 'succeeded' || undefined,
    );
    expect(fromPath('/down')).toHaveLength(4);
    rx.reply = previous;
  });

  it('recovers every failed delivery since a time', async () => {
    const { consumer, endpoint } = await consumerWithEndpoint({}, '/recover');
    let up = false;
    const previous = rx.reply;
    rx.reply = (r, i) => (r.path === '/recover' ? { status: up ? 200 : 502 } : previous(r, i));
    const since = new Date(Date.now() - 1000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'a.b', payload: { i } })).body.id);
    await waitUntil(async () => {
      const states = await Promise.all(
        ids.map(async (id) => (await t.api.get(`/v1/consumers/${consumer}/messages/${id}`)).body.deliveries[0]?.state),
      );
      return states.every((s) => s === 'failed') || undefined;
    });
    up = true;
    const r = await t.api.post(`/v1/consumers/${consumer}/endpoints/${endpoint}/recover`, { since });
    expect(r.status).toBe(202);
    expect(r.body.recovered).toBe(3);
    // Each delivery ends succeeded after its fourth attempt: three failures, then the recovered one.
    for (const id of ids) {
      const [d] = await settledDeliveries(consumer, id);
      expect(d).toMatchObject({ endpointId: endpoint, state: 'succeeded', attempts: 4 });
    }
    expect(fromPath('/recover')).toHaveLength(12);
    for (const id of ids) expect(fromPath('/recover').filter((x) => x.headers['webhook-id'] === id)).toHaveLength(4);
    rx.reply = previous;
  });

  it('disables an endpoint that answers 410 Gone', async () => {
    const { consumer, endpoint } = await consumerWithEndpoint({}, '/gone');
    const previous = rx.reply;
    rx.reply = (r, i) => (r.path === '/gone' ? { status: 410 } : previous(r, i));
    const m = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'a.b', payload: {} });
    const ep = await waitUntil(async () => {
      const e = (await t.api.get(`/v1/consumers/${consumer}/endpoints/${endpoint}`)).body;
      return e.disabled ? e : undefined;
    });
    expect(ep.disabledReason).toMatch(/410/);
    // The 410 delivery failed at once, with no retry left queued …
    const [first] = await settledDeliveries(consumer, m.body.id);
    expect(first).toMatchObject({ state: 'failed', attempts: 1 });
    // … and a disabled endpoint gets nothing at publish: a new message is kept as a skipped delivery, never sent (until replayed).
    const next = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'a.b', payload: {} });
    expect(next.status).toBe(202);
    expect((await t.api.get(`/v1/consumers/${consumer}/messages/${next.body.id}`)).body.deliveries).toMatchObject([
      { endpointId: endpoint, state: 'skipped', attempts: 0 },
    ]);
    expect(fromPath('/gone')).toHaveLength(1);
    rx.reply = previous;
  });

  it('never follows redirects', async () => {
    const target = await startReceiver();
    try {
      const { consumer } = await consumerWithEndpoint({}, '/redirect');
      const previous = rx.reply;
      rx.reply = (r, i) => (r.path === '/redirect' ? { status: 307, headers: { location: `${target.url}/stolen` } } : previous(r, i));
      const m = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'a.b', payload: {} });
      const a = await waitUntil(async () => (await t.api.get(`/v1/consumers/${consumer}/messages/${m.body.id}/attempts`)).body.data[0]);
      expect(a).toMatchObject({ outcome: 'failed', statusCode: 307 });
      await waitUntil(() => fromPath('/redirect').length >= 3 || undefined);
      expect(target.received).toHaveLength(0);
      expect(target.connections).toBe(0);
      rx.reply = previous;
    } finally {
      await target.close();
    }
  });

  it('sends custom headers and signs with both secrets during a rotation', async () => {
    const { consumer, endpoint, secret: oldSecret } = await consumerWithEndpoint({ headers: { 'X-Tenant-Ref': 'abc' } }, '/rotate');
    const rotated = await t.api.post(`/v1/consumers/${consumer}/endpoints/${endpoint}/secret/rotate`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(oldSecret);
    await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'a.b', payload: { r: 1 } });
    const [r] = await waitUntil(() => (fromPath('/rotate').length ? fromPath('/rotate') : undefined));
    expect(r!.headers['x-tenant-ref']).toBe('abc');
    const headers = {
      'webhook-id': r!.headers['webhook-id'] as string,
      'webhook-timestamp': r!.headers['webhook-timestamp'] as string,
      'webhook-signature': r!.headers['webhook-signature'] as string,
    };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(r!.body, headers)).not.toThrow();
    expect(() => new Webhook(rotated.body.secret).verify(r!.body, headers)).not.toThrow();
  });
});
