import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';

/** Issue 13 item 7: event types' JSON Schema (2020-12) enforced at publish, versioned, breaking changes reported. */
let gw: TestGateway;
let t: TestTenant;
let consumer: string;

beforeAll(async () => {
  gw = await startTestGateway();
  t = await createTenant(gw);
  consumer = (await t.api.post('/v1/consumers', { name: 'Schemas' })).body.id;
});
afterAll(async () => {
  await gw?.stop();
});

const INVOICE = {
  type: 'object',
  required: ['invoiceId', 'amount'],
  properties: {
    invoiceId: { type: 'string', minLength: 1 },
    amount: { type: 'integer', minimum: 0 },
    lines: { type: 'array', items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } } },
    email: { type: 'string', format: 'email' },
  },
};
const publish = (eventType: string, payload: unknown) => t.api.post(`/v1/consumers/${consumer}/messages`, { eventType, payload });

describe('event type schemas', () => {
  it('refuse a publish that breaks the schema: 422 with the path and reason of each error', async () => {
    const created = await t.api.post('/v1/event-types', { name: 'invoice.paid', schema: INVOICE });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ schemaVersion: 1, compatibility: { breaking: false, reasons: [], previousVersion: null } });

    expect((await publish('invoice.paid', { invoiceId: 'inv_1', amount: 42, lines: [{ sku: 'A' }] })).status).toBe(202);
    const bad = await publish('invoice.paid', { amount: -1, lines: [{ qty: 1 }], email: 'not-an-email' });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(bad.body).toMatchObject({ type: 'https://tramline.dev/problems/schema-mismatch', eventType: 'invoice.paid', schemaVersion: 1 });
    const fields = Object.fromEntries((bad.body.errors as Array<{ field: string; message: string }>).map((e) => [e.field, e.message]));
    expect(fields).toMatchObject({
      'body.payload.invoiceId': "must have required property 'invoiceId'",
      'body.payload.amount': 'must be >= 0',
      'body.payload.lines.0.sku': "must have required property 'sku'",
      'body.payload.email': 'must match format "email"',
    });
    // Nothing was committed for the refused publish.
    const list = await t.api.get(`/v1/consumers/${consumer}/messages?eventType=invoice.paid`);
    expect(list.body.data).toHaveLength(1);
  });

  it('version every change and report one that breaks, with reasons', async () => {
    const widened = await t.api.patch('/v1/event-types/invoice.paid', {
      schema: {
        ...INVOICE,
        required: ['invoiceId', 'amount', 'currency'],
        properties: { ...INVOICE.properties, amount: { type: 'string' }, currency: { type: 'string' } },
      },
    });
    expect(widened.status).toBe(200);
    expect(widened.body.schemaVersion).toBe(2);
    expect(widened.body.compatibility.breaking).toBe(true);
    expect(widened.body.compatibility.previousVersion).toBe(1);
    expect(widened.body.compatibility.reasons).toEqual(
      expect.arrayContaining(['currency: now required', expect.stringMatching(/^amount: type narrowed to string/)]),
    );
    // Enforced at once: the old shape is refused, the new one accepted.
    expect((await publish('invoice.paid', { invoiceId: 'inv_2', amount: 42 })).status).toBe(422);
    expect((await publish('invoice.paid', { invoiceId: 'inv_2', amount: '42', currency: 'EUR' })).status).toBe(202);

    const optional = await t.api.post('/v1/event-types/invoice.paid/schemas/check', {
      schema: {
        ...INVOICE,
        required: ['invoiceId', 'amount', 'currency'],
        properties: { ...INVOICE.properties, amount: { type: 'string' }, currency: { type: 'string' }, note: { type: 'string' } },
      },
    });
    expect(optional.body).toEqual({ breaking: false, reasons: [], previousVersion: 2 });

    const versions = await t.api.get('/v1/event-types/invoice.paid/schemas');
    expect(versions.body.data.map((v: { version: number; breaking: boolean }) => [v.version, v.breaking])).toEqual([
      [2, true],
      [1, false],
    ]);
  });

  it('refuse an invalid schema when saved (400 naming body.schema)', async () => {
    const r = await t.api.post('/v1/event-types', { name: 'bad.schema', schema: { type: 'objekt' } });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].field).toMatch(/^body\.schema/);
    const redos = await t.api.post('/v1/event-types', { name: 'bad.pattern', schema: { type: 'string', pattern: '^(a+)+$' } });
    expect(redos.status).toBe(400);
    expect(redos.body.errors[0].field).toBe('body.schema.pattern');
  });

  it('require declared types when the tenant asks: 422 undeclared-event-type', async () => {
    expect((await publish('anything.goes', { x: 1 })).status).toBe(202);
    const on = await t.api.patch('/v1/settings', { requireDeclaredEventTypes: true });
    expect(on.body.requireDeclaredEventTypes).toBe(true);
    const refused = await publish('anything.goes', { x: 1 });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ type: 'https://tramline.dev/problems/undeclared-event-type' });
    expect(refused.body.errors[0].field).toBe('body.eventType');
    expect((await t.api.post('/v1/event-types', { name: 'anything.goes' })).status).toBe(201);
    expect((await publish('anything.goes', { x: 1 })).status).toBe(202);
    await t.api.patch('/v1/settings', { requireDeclaredEventTypes: false });
  });
});
