import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { waitUntil } from '../helpers/wait.ts';

/** Issue 13 items 5 and 6: nothing lost while an endpoint is disabled; payload filters (CEL) and their dry run. */
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

const fromPath = (path: string) => rx.received.filter((r) => r.path === path);
const idsAt = (path: string) => new Set(fromPath(path).map((r) => r.headers['webhook-id'] as string));

async function consumerWith(path: string, body: Record<string, unknown> = {}) {
  const c = await t.api.post('/v1/consumers', { name: path });
  expect(c.status).toBe(201);
  const e = await t.api.post(`/v1/consumers/${c.body.id}/endpoints`, { url: rx.url + path, ...body });
  expect(e.status, JSON.stringify(e.body)).toBe(201);
  return { consumer: c.body.id as string, endpoint: e.body.id as string };
}

async function publish(consumer: string, payload: unknown, eventType = 'invoice.paid'): Promise<string> {
  const r = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType, payload });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.id as string;
}

describe('messages published while an endpoint is disabled', () => {
  it('are kept as skipped deliveries and replayed on re-enable, none missing', async () => {
    const { consumer, endpoint } = await consumerWith('/paused', { disabled: true });
    const ep = `/v1/consumers/${consumer}/endpoints/${endpoint}`;
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await publish(consumer, { n: i }));

    const detail = await t.api.get(`/v1/consumers/${consumer}/messages/${ids[0]}`);
    expect(detail.body.deliveries).toMatchObject([{ endpointId: endpoint, state: 'skipped', attempts: 0 }]);
    expect((await t.api.get(ep)).body).toMatchObject({ disabled: true, skippedDeliveries: 30 });
    // Replaying while still disabled is refused: nothing would be sent.
    expect((await t.api.post(`${ep}/replay-skipped`)).status).toBe(409);

    const enabled = await t.api.patch(ep, { disabled: false, replaySkipped: true });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ disabled: false, skippedDeliveries: 0, replayedDeliveries: 30 });
    await waitUntil(() => idsAt('/paused').size >= 30 || undefined, 60_000, '30 replayed deliveries');
    expect(idsAt('/paused')).toEqual(new Set(ids));
  });

  it('are answered as a count on re-enable, and sent by replay-skipped or recover', async () => {
    const { consumer, endpoint } = await consumerWith('/paused-later', { disabled: true });
    const ep = `/v1/consumers/${consumer}/endpoints/${endpoint}`;
    const ids = [await publish(consumer, { n: 1 }), await publish(consumer, { n: 2 })];
    const enabled = await t.api.patch(ep, { disabled: false });
    expect(enabled.body).toMatchObject({ disabled: false, skippedDeliveries: 2 });
    expect(enabled.body.replayedDeliveries).toBeUndefined();
    expect((await t.api.post(`${ep}/replay-skipped`)).body).toEqual({ replayed: 2 });
    await waitUntil(() => idsAt('/paused-later').size >= 2 || undefined, 60_000);
    expect(idsAt('/paused-later')).toEqual(new Set(ids));

    // Disabled again: recover brings back what was skipped since a time.
    expect((await t.api.patch(ep, { disabled: true })).status).toBe(200);
    const since = new Date(Date.now() - 1000).toISOString();
    const third = await publish(consumer, { n: 3 });
    expect((await t.api.patch(ep, { disabled: false })).body.skippedDeliveries).toBe(1);
    expect((await t.api.post(`${ep}/recover`, { since })).body).toEqual({ recovered: 1 });
    await waitUntil(() => idsAt('/paused-later').has(third) || undefined, 60_000);
  });
});

describe('payload filters', () => {
  it('deliver only what the expression lets through', async () => {
    const { consumer, endpoint } = await consumerWith('/big-eur', { filter: 'payload.amount > 1000 && payload.currency == "EUR"' });
    expect((await t.api.get(`/v1/consumers/${consumer}/endpoints/${endpoint}`)).body.filter).toBe(
      'payload.amount > 1000 && payload.currency == "EUR"',
    );
    const other = await t.api.post(`/v1/consumers/${consumer}/endpoints`, { url: `${rx.url}/all-of-them` });
    const big = await publish(consumer, { amount: 5000, currency: 'EUR' });
    const small = await publish(consumer, { amount: 10, currency: 'EUR' });
    const usd = await publish(consumer, { amount: 5000, currency: 'USD' });
    const noAmount = await publish(consumer, { currency: 'EUR' });
    await waitUntil(() => idsAt('/all-of-them').size >= 4 || undefined, 60_000);
    await waitUntil(() => idsAt('/big-eur').size >= 1 || undefined, 60_000);
    expect(idsAt('/big-eur')).toEqual(new Set([big]));
    // A message the filter refused has no delivery to that endpoint at all (only to the other one).
    const d = await t.api.get(`/v1/consumers/${consumer}/messages/${small}`);
    expect(d.body.deliveries.map((x: { endpointId: string }) => x.endpointId)).toEqual([other.body.id]);
    expect([usd, noAmount].every((id) => !idsAt('/big-eur').has(id))).toBe(true);

    // Dry run over the latest messages: which would have matched.
    const dry = await t.api.post(`/v1/consumers/${consumer}/filter-test`, { filter: 'payload.currency == "USD"', limit: 10 });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ evaluated: 4, matched: 1 });
    expect(dry.body.data.filter((x: { matched: boolean }) => x.matched).map((x: { messageId: string }) => x.messageId)).toEqual([usd]);
  });

  it('are checked when saved: 400 naming body.filter with the position of the error', async () => {
    const { consumer, endpoint } = await consumerWith('/filter-bad');
    const bad = await t.api.patch(`/v1/consumers/${consumer}/endpoints/${endpoint}`, { filter: 'payload.amount >' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(bad.body).toMatchObject({ type: 'https://tramline.dev/problems/validation', position: { line: 1, column: 17, offset: 16 } });
    expect(bad.body.errors[0].field).toBe('body.filter');
    const regex = await t.api.post(`/v1/consumers/${consumer}/endpoints`, { url: `${rx.url}/x`, filter: 'payload.s.matches("(a+)+$")' });
    expect(regex.status).toBe(400);
    expect(regex.body.errors[0]).toMatchObject({ field: 'body.filter' });
    const quadratic = await t.api.post(`/v1/consumers/${consumer}/filter-test`, { filter: 'payload.items.exists(i, i in payload.items)' });
    expect(quadratic.status).toBe(400);
    expect(quadratic.body.position).toMatchObject({ offset: 29 });
    // null removes the filter.
    const cleared = await t.api.patch(`/v1/consumers/${consumer}/endpoints/${endpoint}`, { filter: null });
    expect(cleared.body.filter).toBeNull();
  });

  it('apply to disabled endpoints too: only matching messages are kept as skipped', async () => {
    const { consumer, endpoint } = await consumerWith('/filtered-paused', { disabled: true, filter: 'payload.keep == true' });
    await publish(consumer, { keep: false });
    const kept = await publish(consumer, { keep: true });
    const r = await t.api.patch(`/v1/consumers/${consumer}/endpoints/${endpoint}`, { disabled: false, replaySkipped: true });
    expect(r.body.replayedDeliveries).toBe(1);
    await waitUntil(() => idsAt('/filtered-paused').size >= 1 || undefined, 60_000);
    expect(idsAt('/filtered-paused')).toEqual(new Set([kept]));
  });
});
