// A message's status (from its deliveries) in the list, the detail and the `status` filter, on both engines.
// Delivery states are set in the database: the derivation and the filter are under test here, not the worker
// (an API-only gateway, so nothing moves them meanwhile).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';

let gw: TestGateway;
let t: TestTenant;
let consumer: string;
const ids: Record<string, string> = {};

/** For each message: the states its two deliveries are set to (none: no endpoint subscribed). */
const CASES: Record<string, { states: [string, string] | null; status: string }> = {
  allOk: { states: ['succeeded', 'succeeded'], status: 'succeeded' },
  oneFailed: { states: ['succeeded', 'failed'], status: 'failed' },
  allFailed: { states: ['failed', 'failed'], status: 'failed' },
  oneWaiting: { states: ['succeeded', 'pending'], status: 'pending' },
  oneSending: { states: ['failed', 'sending'], status: 'pending' },
  noEndpoint: { states: null, status: 'none' },
};

beforeAll(async () => {
  gw = await startTestGateway({ role: 'api' });
  t = await createTenant(gw, 'Statuses');
  consumer = (await t.api.post('/v1/consumers', { name: 'Globex' })).body.id;
  const endpoints: string[] = [];
  for (const n of [1, 2]) {
    const e = await t.api.post(`/v1/consumers/${consumer}/endpoints`, { url: `http://127.0.0.1:9/hook${n}`, eventTypes: ['order.paid'] });
    expect(e.status).toBe(201);
    endpoints.push(e.body.id);
  }
  for (const [name, c] of Object.entries(CASES)) {
    const m = await t.api.post(`/v1/consumers/${consumer}/messages`, {
      eventType: c.states ? 'order.paid' : 'order.other',
      eventId: name,
      payload: {},
    });
    expect(m.status).toBe(202);
    ids[name] = m.body.id;
    if (!c.states) continue;
    await gw.testDb.db.system(async (q) => {
      for (const [i, state] of c.states!.entries())
        await q.query('UPDATE deliveries SET state = $1 WHERE message_id = $2 AND endpoint_id = $3', [state, m.body.id, endpoints[i]]);
    });
  }
});
afterAll(() => gw?.stop());

const list = async (query: string): Promise<Array<{ id: string; status: string }>> => {
  const r = await t.api.get(`/v1/consumers/${consumer}/messages?${query}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data;
};
const namesOf = (rows: Array<{ id: string }>): string[] => rows.map((r) => Object.keys(ids).find((k) => ids[k] === r.id)!).sort();

describe('message status', () => {
  it('is in every listed message and in the detail, and the two agree', async () => {
    const all = await list('limit=100');
    expect(all).toHaveLength(Object.keys(CASES).length);
    for (const [name, c] of Object.entries(CASES)) {
      expect(all.find((m) => m.id === ids[name])?.status, name).toBe(c.status);
      const detail = await t.api.get(`/v1/consumers/${consumer}/messages/${ids[name]}`);
      expect(detail.body.status, name).toBe(c.status);
    }
  });

  it('filters by status, alone, with other filters and across pages', async () => {
    expect(namesOf(await list('status=succeeded'))).toEqual(['allOk']);
    expect(namesOf(await list('status=failed'))).toEqual(['allFailed', 'oneFailed']);
    expect(namesOf(await list('status=pending'))).toEqual(['oneSending', 'oneWaiting']);
    expect(namesOf(await list('status=none'))).toEqual(['noEndpoint']);
    expect(await list('status=none&eventType=order.paid')).toEqual([]);
    expect(namesOf(await list('status=failed&eventType=order.paid'))).toEqual(['allFailed', 'oneFailed']);

    const first = await t.api.get(`/v1/consumers/${consumer}/messages?status=failed&limit=1`);
    expect(first.body.data).toHaveLength(1);
    expect(first.body.nextCursor).toBe(first.body.data[0].id);
    const second = await t.api.get(`/v1/consumers/${consumer}/messages?status=failed&limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    expect(namesOf([...first.body.data, ...second.body.data])).toEqual(['allFailed', 'oneFailed']);
  });

  it('answers 400 naming the field for a status it does not know', async () => {
    for (const bad of ['delivered', 'FAILED', '', 'pending,failed']) {
      const r = await t.api.get(`/v1/consumers/${consumer}/messages?status=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const e = (r.body.errors as Array<{ field: string; message: string }>).find((x) => x.field === 'querystring.status');
      expect(e, JSON.stringify(r.body)).toBeDefined();
      expect(e!.message).toMatch(/pending.*succeeded.*failed.*none/);
    }
  });

  it('is in the OpenAPI document, as a query parameter and in the answers', async () => {
    const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as any;
    const op = doc.paths['/v1/consumers/{consumer}/messages'].get;
    const param = op.parameters.find((p: { name: string; in: string }) => p.name === 'status' && p.in === 'query');
    expect(param.schema.enum).toEqual(['pending', 'succeeded', 'failed', 'none']);
    const item = op.responses['200'].content['application/json'].schema;
    expect(JSON.stringify(item)).toContain('status');
  });
});
