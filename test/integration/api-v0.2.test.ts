import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import type { Response } from '../helpers/client.ts';

/** The 0.2.0 cleanup of the API (docs/api-changes-0.2.0.md), on both engines. */
let gw: TestGateway;
let t: TestTenant;
let consumer: string;
let endpoint: string;

beforeAll(async () => {
  gw = await startTestGateway();
  t = await createTenant(gw, 'Cleanup');
  consumer = (await t.api.post('/v1/consumers', { name: 'Globex', uid: 'globex' })).body.id;
  endpoint = (await t.api.post(`/v1/consumers/${consumer}/endpoints`, { url: 'http://127.0.0.1:9/hook' })).body.id;
});
afterAll(() => gw?.stop());

const problem = (r: Response, status: number, field?: string, message?: string | RegExp): void => {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body.type).toMatch(/^https:\/\/tramline\.dev\/problems\/[a-z-]+$/);
  if (field) {
    const e = (r.body.errors as Array<{ field: string; message: string }>).find((x) => x.field === field);
    expect(e, `${field} in ${JSON.stringify(r.body.errors)}`).toBeDefined();
    if (message) expect(e!.message).toMatch(message);
    expect(r.body.detail).toContain(`${field}: `);
  }
};

describe('names', () => {
  it('calls the secret of a new key apiKey, and revokes by /v1/api-keys/{apiKey}', async () => {
    const k = await t.api.post('/v1/api-keys', { name: 'ci', scopes: ['read'] });
    expect(k.status).toBe(201);
    expect(k.body.apiKey).toMatch(/^tl_/);
    expect(k.body.key).toBeUndefined();
    expect((await t.api.delete(`/v1/api-keys/${k.body.id}`)).status).toBe(204);
  });

  it('says createdAt in the audit log', async () => {
    const entry = (await t.api.get('/v1/audit-log?limit=1')).body.data[0];
    expect(Date.parse(entry.createdAt)).toBeGreaterThan(0);
    expect(entry.at).toBeUndefined();
  });
});

describe('strict bodies and messages that name the field', () => {
  it('refuses an unknown field, naming it', async () => {
    problem(await t.api.post('/v1/consumers', { name: 'x', nmae: 'typo' }), 400, 'body.nmae', /unknown field/);
    problem(await t.api.patch(`/v1/consumers/${consumer}/endpoints/${endpoint}`, { urll: 'x' }), 400, 'body.urll');
    problem(await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'a.b', payload: {}, extra: 1 }), 400, 'body.extra');
  });

  it('says what a missing or mistyped field needed', async () => {
    const r = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'a.b' });
    problem(r, 400, 'body.payload', /^required \(any JSON value\)$/);
    expect(r.body.detail).toBe('body.payload: required (any JSON value)');
    problem(await t.api.post('/v1/consumers', {}), 400, 'body.name', /^required \(expected string\)$/);
    problem(await t.api.post('/v1/consumers', { name: 42 }), 400, 'body.name', /expected string, got number/);
  });

  it('accepts any JSON value as a payload, null included', async () => {
    for (const payload of [null, 0, 'text', [1, 'a'], { deep: { er: [true] } }]) {
      const r = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'a.b', payload });
      expect(r.status, JSON.stringify(payload)).toBe(202);
      expect(r.body.payload).toEqual(payload);
    }
  });

  it('never lets a uid look like a consumer id', async () => {
    problem(await t.api.post('/v1/consumers', { name: 'x', uid: 'con_01kb2x3y4z5a6b7c8d9e0f1g2h' }), 400, 'body.uid', /con_/);
    problem(await t.api.patch(`/v1/consumers/${consumer}`, { uid: 'con_x' }), 400, 'body.uid');
  });
});

describe('dates and cursors', () => {
  const msgs = () => `/v1/consumers/${consumer}/messages`;
  it('answers 400 "must be an ISO 8601 date-time" for anything but an RFC 3339 date-time of years 0001 to 9999', async () => {
    for (const bad of [
      'yesterday',
      '1',
      '2026-02-30T00:00:00Z',
      '-200000-01-01T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '2026-11-26',
      '2026-11-26T10:00:00',
    ]) {
      problem(await t.api.get(`${msgs()}?before=${encodeURIComponent(bad)}`), 400, 'querystring.before', /^must be an ISO 8601 date-time$/);
      problem(await t.api.get(`${msgs()}?after=${encodeURIComponent(bad)}`), 400, 'querystring.after', /ISO 8601/);
      problem(
        await t.api.post(`/v1/consumers/${consumer}/endpoints/${endpoint}/recover`, { since: bad }),
        400,
        'body.since',
        /^must be an ISO 8601 date-time$/,
      );
    }
    problem(await t.api.post(`/v1/consumers/${consumer}/endpoints/${endpoint}/recover`, { since: 1 }), 400, 'body.since', /ISO 8601/);
    expect((await t.api.get(`${msgs()}?after=${encodeURIComponent('2024-02-29T23:59:59.999+02:00')}`)).status).toBe(200);
    expect((await t.api.post(`/v1/consumers/${consumer}/endpoints/${endpoint}/recover`, { since: '2026-01-01T00:00:00Z' })).status).toBe(
      202,
    );
  });

  it('refuses a cursor that no page returned', async () => {
    for (const [path, bad] of [
      ['/v1/consumers', 'garbage'],
      ['/v1/consumers', 'ep_01kb2x3y4z5a6b7c8d9e0f1g2h'],
      [msgs(), 'con_01kb2x3y4z5a6b7c8d9e0f1g2h'],
      ['/v1/event-types', 'a b'],
      ['/v1/api-keys', 'x'],
      ['/v1/audit-log', 'x'],
    ] as const) {
      problem(await t.api.get(`${path}?cursor=${encodeURIComponent(bad)}`), 400, 'querystring.cursor', /cursor/);
    }
    // A real cursor still pages.
    await t.api.post('/v1/consumers', { name: 'second' });
    const first = await t.api.get('/v1/consumers?limit=1');
    expect(first.body.nextCursor).toMatch(/^con_/);
    expect((await t.api.get(`/v1/consumers?limit=1&cursor=${first.body.nextCursor}`)).status).toBe(200);
  });
});

describe('optional bodies', () => {
  it('rotates a secret and opens a portal session without a body', async () => {
    const rotate = await t.api.raw('POST', `/v1/consumers/${consumer}/endpoints/${endpoint}/secret/rotate`);
    expect(rotate.status, JSON.stringify(rotate.body)).toBe(200);
    expect(rotate.body.secret).toMatch(/^whsec_/);
    const session = await t.api.raw('POST', `/v1/consumers/${consumer}/portal-sessions`);
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    expect(session.body.token).toMatch(/^tlp_/);
  });
});

describe('event types', () => {
  it('are created, read, updated, archived, unarchived and deleted', async () => {
    expect((await t.api.post('/v1/event-types', { name: 'invoice.paid', description: 'Paid' })).status).toBe(201);
    const got = await t.api.get('/v1/event-types/invoice.paid');
    expect(got.body).toMatchObject({ name: 'invoice.paid', description: 'Paid', schema: null, archived: false });

    const schema = { type: 'object', properties: { id: { type: 'string' } } };
    const patched = await t.api.patch('/v1/event-types/invoice.paid', { description: 'An invoice was paid', schema });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ description: 'An invoice was paid', schema });
    expect((await t.api.patch('/v1/event-types/invoice.paid', { description: 'Paid again' })).body.schema).toEqual(schema);
    expect((await t.api.patch('/v1/event-types/invoice.paid', { schema: null })).body).toMatchObject({
      description: 'Paid again',
      schema: null,
    });
    problem(await t.api.patch('/v1/event-types/invoice.paid', { name: 'renamed' }), 400, 'body.name');

    const archived = await t.api.post('/v1/event-types/invoice.paid/archive');
    expect(archived.status).toBe(200);
    expect(archived.body.archived).toBe(true);
    const names = async (q = '') => ((await t.api.get(`/v1/event-types${q}`)).body.data as Array<{ name: string }>).map((e) => e.name);
    expect(await names()).not.toContain('invoice.paid');
    expect(await names('?includeArchived=true')).toContain('invoice.paid');
    // Publishing to an archived type still works.
    expect((await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'invoice.paid', payload: {} })).status).toBe(202);
    expect((await t.api.post('/v1/event-types/invoice.paid/unarchive')).body.archived).toBe(false);
    expect(await names()).toContain('invoice.paid');

    expect((await t.api.delete('/v1/event-types/invoice.paid')).status).toBe(204);
    problem(await t.api.get('/v1/event-types/invoice.paid'), 404);
    problem(await t.api.delete('/v1/event-types/invoice.paid'), 404);
    problem(await t.api.post('/v1/event-types/invoice.paid/archive'), 404);
    // The name is free again.
    expect((await t.api.post('/v1/event-types', { name: 'invoice.paid' })).status).toBe(201);

    const actions = ((await t.api.get('/v1/audit-log?limit=250')).body.data as Array<{ action: string; target: string }>).map(
      (e) => e.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining(['event_type.update', 'event_type.archive', 'event_type.unarchive', 'event_type.delete']),
    );
  });

  it('are the tenant’s own', async () => {
    const other = await createTenant(gw, 'Other');
    expect((await t.api.post('/v1/event-types', { name: 'mine.only' })).status).toBe(201);
    problem(await other.api.get('/v1/event-types/mine.only'), 404);
    problem(await other.api.patch('/v1/event-types/mine.only', { description: 'x' }), 404);
    problem(await other.api.delete('/v1/event-types/mine.only'), 404);
    expect((await t.api.get('/v1/event-types/mine.only')).status).toBe(200);
  });
});

describe('the version', () => {
  it('is 0.2.0 in the identity and the document', async () => {
    expect((await t.api.get('/.well-known/tramline')).body.version).toBe('0.2.0');
    expect((await t.api.get('/openapi.json')).body.info.version).toBe('0.2.0');
  });
});
