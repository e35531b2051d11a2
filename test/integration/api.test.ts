import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { client } from '../helpers/client.ts';

let gw: TestGateway;
let t: TestTenant;

beforeAll(async () => {
  gw = await startTestGateway();
  t = await createTenant(gw);
});
afterAll(async () => {
  await gw?.stop();
});

describe('tenants (operator)', () => {
  it('creates a tenant whose key works once, and lists tenants', async () => {
    const r = await gw.operator.post('/v1/tenants', { name: 'Initech' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: 'Initech' });
    expect(r.body.id).toMatch(/^ten_/);
    expect(r.body.apiKey).toMatch(/^tl_/);
    expect((await client(gw.url, r.body.apiKey).get('/v1/consumers')).status).toBe(200);
    const list = await gw.operator.get('/v1/tenants?limit=100');
    expect(list.body.data.map((x: { id: string }) => x.id)).toContain(r.body.id);
    expect(JSON.stringify(list.body)).not.toContain('tl_'); // keys are never listed
  });
});

describe('consumers', () => {
  it('creates, reads by id and by uid, updates and deletes', async () => {
    const c = await t.api.post('/v1/consumers', { name: 'Globex', uid: 'globex-1', metadata: { plan: 'pro' } });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ name: 'Globex', uid: 'globex-1', metadata: { plan: 'pro' } });
    expect((await t.api.get(`/v1/consumers/${c.body.id}`)).body.id).toBe(c.body.id);
    expect((await t.api.get('/v1/consumers/globex-1')).body.id).toBe(c.body.id);
    const dup = await t.api.post('/v1/consumers', { name: 'Other', uid: 'globex-1' });
    expect(dup.status).toBe(409);
    const p = await t.api.patch('/v1/consumers/globex-1', { name: 'Globex Corp', uid: 'globex-2' });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ name: 'Globex Corp', uid: 'globex-2', metadata: { plan: 'pro' } });
    expect((await t.api.get('/v1/consumers/globex-1')).status).toBe(404);
    expect((await t.api.delete('/v1/consumers/globex-2')).status).toBe(204);
    expect((await t.api.get(`/v1/consumers/${c.body.id}`)).status).toBe(404);
  });

  it('paginates with a cursor, newest first, without gaps or repeats', async () => {
    const tenant = await createTenant(gw, 'Pager');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await tenant.api.post('/v1/consumers', { name: `c${i}` })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Array<{ id: string }>; nextCursor: string | null } } = await tenant.api.get(
        `/v1/consumers?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.data.map((x) => x.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });
});

describe('endpoints', () => {
  it('never shows the secret except on its own route, and patches only what is sent', async () => {
    const c = (await t.api.post('/v1/consumers', { name: 'E' })).body.id;
    const e = await t.api.post(`/v1/consumers/${c}/endpoints`, {
      url: 'http://127.0.0.1:9/hook',
      description: 'billing',
      eventTypes: ['invoice.paid'],
      headers: { 'X-Custom': 'v' },
    });
    expect(e.status).toBe(201);
    expect(JSON.stringify(e.body)).not.toContain('whsec_');
    expect(e.body).toMatchObject({
      description: 'billing',
      eventTypes: ['invoice.paid'],
      channels: null,
      headers: { 'x-custom': 'v' },
      disabled: false,
    });
    const list = await t.api.get(`/v1/consumers/${c}/endpoints`);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    const s = await t.api.get(`/v1/consumers/${c}/endpoints/${e.body.id}/secret`);
    expect(s.body.secret).toMatch(/^whsec_/);
    const p = await t.api.patch(`/v1/consumers/${c}/endpoints/${e.body.id}`, { disabled: true });
    expect(p.body).toMatchObject({
      disabled: true,
      disabledReason: 'disabled by the tenant',
      description: 'billing',
      eventTypes: ['invoice.paid'],
    });
    const p2 = await t.api.patch(`/v1/consumers/${c}/endpoints/${e.body.id}`, { disabled: false, eventTypes: null });
    expect(p2.body).toMatchObject({ disabled: false, disabledReason: null, eventTypes: null });
    const given = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const e2 = await t.api.post(`/v1/consumers/${c}/endpoints`, { url: 'https://example.com/hook', secret: given });
    expect((await t.api.get(`/v1/consumers/${c}/endpoints/${e2.body.id}/secret`)).body.secret).toBe(given);
    expect((await t.api.delete(`/v1/consumers/${c}/endpoints/${e.body.id}`)).status).toBe(204);
    expect((await t.api.get(`/v1/consumers/${c}/endpoints/${e.body.id}`)).status).toBe(404);
  });

  it('refuses endpoint URLs the egress guard would never dial', async () => {
    const strict = await startTestGateway({ env: { TRAMLINE_EGRESS_ALLOW: '' } });
    try {
      const tenant = await createTenant(strict);
      const c = (await tenant.api.post('/v1/consumers', { name: 'S' })).body.id;
      for (const url of ['http://127.0.0.1/x', 'http://169.254.169.254/latest', 'http://[::1]/', 'http://10.0.0.1/', 'http://localhost/']) {
        const r = await tenant.api.post(`/v1/consumers/${c}/endpoints`, { url });
        expect(r.status, url).toBe(422);
        expect(r.body.errors[0].field).toBe('body.url');
      }
      expect((await tenant.api.post(`/v1/consumers/${c}/endpoints`, { url: 'https://hooks.example.com/x' })).status).toBe(201);
    } finally {
      await strict.stop();
    }
  });
});

describe('event types', () => {
  it('registers, refuses duplicates and lists by name', async () => {
    expect((await t.api.post('/v1/event-types', { name: 'invoice.paid', description: 'An invoice was paid' })).status).toBe(201);
    expect((await t.api.post('/v1/event-types', { name: 'invoice.created', schema: { type: 'object' } })).status).toBe(201);
    expect((await t.api.post('/v1/event-types', { name: 'invoice.paid' })).status).toBe(409);
    const list = await t.api.get('/v1/event-types');
    expect(list.body.data.map((e: { name: string }) => e.name)).toEqual(['invoice.created', 'invoice.paid']);
    expect(list.body.data[0].schema).toEqual({ type: 'object' });
  });
});

describe('messages', () => {
  it('publishes, deduplicates by eventId and Idempotency-Key, filters the log', async () => {
    const c = (await t.api.post('/v1/consumers', { name: 'M' })).body.id;
    const first = await t.api.post(`/v1/consumers/${c}/messages`, {
      eventType: 'order.created',
      eventId: 'ord-1',
      payload: { a: 1 },
      channels: ['eu'],
    });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ eventId: 'ord-1', eventType: 'order.created', payload: { a: 1 }, channels: ['eu'] });
    const again = await t.api.post(`/v1/consumers/${c}/messages`, { eventType: 'order.created', eventId: 'ord-1', payload: { a: 2 } });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toMatchObject({ id: first.body.id, payload: { a: 1 } });
    const k1 = await t.api.post(`/v1/consumers/${c}/messages`, { eventType: 'order.paid', payload: {} }, { 'idempotency-key': 'key-9' });
    const k2 = await t.api.post(`/v1/consumers/${c}/messages`, { eventType: 'order.paid', payload: {} }, { 'idempotency-key': 'key-9' });
    expect([k1.status, k2.status]).toEqual([202, 200]);
    expect(k2.body.id).toBe(k1.body.id);
    const clash = await t.api.post(
      `/v1/consumers/${c}/messages`,
      { eventType: 'x.y', eventId: 'a', payload: {} },
      { 'idempotency-key': 'b' },
    );
    expect(clash.status).toBe(400);

    const all = await t.api.get(`/v1/consumers/${c}/messages`);
    expect(all.body.data.map((m: { id: string }) => m.id)).toEqual([k1.body.id, first.body.id]);
    expect((await t.api.get(`/v1/consumers/${c}/messages?eventType=order.paid`)).body.data).toHaveLength(1);
    expect((await t.api.get(`/v1/consumers/${c}/messages?channel=eu`)).body.data.map((m: { id: string }) => m.id)).toEqual([first.body.id]);
    expect(
      (await t.api.get(`/v1/consumers/${c}/messages?after=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body.data,
    ).toHaveLength(0);
    expect((await t.api.get(`/v1/consumers/${c}/messages/ord-1`)).body.id).toBe(first.body.id); // by eventId too
  });

  it('keeps the payload exactly as published, unicode and all', async () => {
    const c = (await t.api.post('/v1/consumers', { name: 'U' })).body.id;
    const payload = {
      s: 'emoji 🚋 and “quotes” and \\ and \n',
      n: 1.5e300,
      neg: -0,
      arr: [null, true, { deep: [1, [2, [3]]] }],
      empty: {},
    };
    const r = await t.api.post(`/v1/consumers/${c}/messages`, { eventType: 'u.v', payload });
    const got = await t.api.get(`/v1/consumers/${c}/messages/${r.body.id}`);
    expect(got.body.payload).toEqual(JSON.parse(JSON.stringify(payload)));
  });
});

describe('api keys', () => {
  it('issues scoped keys, lists them without secrets, and revokes', async () => {
    const k = await t.api.post('/v1/api-keys', { name: 'ci', scopes: ['publish'] });
    expect(k.status).toBe(201);
    expect(k.body.apiKey).toMatch(/^tl_/);
    const list = await t.api.get('/v1/api-keys');
    expect(list.body.data.some((x: { id: string }) => x.id === k.body.id)).toBe(true);
    expect(JSON.stringify(list.body)).not.toContain(k.body.apiKey);
    expect((await t.api.delete(`/v1/api-keys/${k.body.id}`)).status).toBe(204);
    expect((await client(gw.url, k.body.apiKey).post('/v1/consumers/x/messages', { eventType: 'a.b', payload: {} })).status).toBe(401);
  });
});

describe('documents', () => {
  it('serves OpenAPI 3.1 covering every route, and the docs page', async () => {
    const doc = await client(gw.url).get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.body.paths);
    for (const p of [
      '/v1/tenants',
      '/v1/consumers/{consumer}/messages',
      '/v1/consumers/{consumer}/endpoints/{endpoint}/secret/rotate',
      '/readyz',
    ]) {
      expect(paths).toContain(p);
    }
    const publish = doc.body.paths['/v1/consumers/{consumer}/messages'].post;
    expect(publish.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['eventType', 'payload']));
    const docs = await fetch(`${gw.url}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('<title>Tramline API</title>');
  });

  it('answers liveness and readiness', async () => {
    expect((await client(gw.url).get('/healthz')).status).toBe(200);
    const ready = await client(gw.url).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database).toBe('ok');
  });
});
