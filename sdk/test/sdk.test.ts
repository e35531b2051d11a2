import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN, startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { startReceiver, type Receiver } from '../../test/helpers/receiver.ts';
import { waitUntil } from '../../test/helpers/wait.ts';
import {
  AuthenticationError,
  NotFoundError,
  PermissionDeniedError,
  Tramline,
  TramlineError,
  ValidationError,
  identifyGateway,
  verifyWebhook,
  type Consumer,
} from '../src/index.ts';

/**
 * The SDK against a real gateway (API and worker, embedded PGlite) on port 0 and a real receiver:
 * every resource method once, errors as typed problems, pagination, idempotent publishes, and the
 * webhooks it delivers verified with verifyWebhook and with the standardwebhooks library.
 */
let gw: TestGateway;
let receiver: Receiver;
let tramline: Tramline;
let apiKey: string;

beforeAll(async () => {
  gw = await startTestGateway();
  receiver = await startReceiver(() => ({ status: 204 }));
  const operator = new Tramline({ apiKey: OPERATOR_TOKEN, baseUrl: gw.url });
  const tenant = await operator.tenants.create({ name: 'SDK Corp' });
  expect(tenant.id).toMatch(/^ten_/);
  apiKey = tenant.apiKey;
  tramline = new Tramline({ apiKey, baseUrl: gw.url, retryBaseDelayMs: 20 });
});

afterAll(async () => {
  await receiver?.close();
  await gw?.stop();
});

describe('consumers', () => {
  it('creates, reads by id and uid, updates, lists across pages and deletes', async () => {
    const created = await tramline.consumers.create({ name: 'Globex', uid: 'globex', metadata: { plan: 'pro' } });
    expect(created).toMatchObject({ name: 'Globex', uid: 'globex', metadata: { plan: 'pro' } });
    expect(created.id).toMatch(/^con_/);
    expect((await tramline.consumers.get('globex')).id).toBe(created.id);
    expect((await tramline.consumers.get(created.id)).uid).toBe('globex');

    const updated = await tramline.consumers.update('globex', { name: 'Globex Inc.' });
    expect(updated.name).toBe('Globex Inc.');

    for (let i = 0; i < 4; i++) await tramline.consumers.create({ name: `Customer ${i}`, uid: `customer-${i}` });
    // One page, then the next by hand.
    const first = await tramline.consumers.list({ limit: 2 }).page();
    expect(first.data).toHaveLength(2);
    expect(first.hasMore).toBe(true);
    const second = await first.next();
    expect(second?.data).toHaveLength(2);
    // Every item across pages, two per request.
    const all: Consumer[] = [];
    for await (const c of tramline.consumers.list({ limit: 2 })) all.push(c);
    expect(all.map((c) => c.uid).sort()).toEqual(['customer-0', 'customer-1', 'customer-2', 'customer-3', 'globex']);
    expect(new Set(all.map((c) => c.id)).size).toBe(5);
    // Starting from a cursor skips what came before it.
    const rest = await tramline.consumers.list({ limit: 2, cursor: first.nextCursor! }).toArray();
    expect(rest).toHaveLength(3);

    await tramline.consumers.delete('customer-3');
    const err = await tramline.consumers.get('customer-3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toBeInstanceOf(TramlineError);
    expect(err).toMatchObject({ status: 404, code: 'not-found', type: 'https://tramline.dev/problems/not-found' });
  });

  it('turns a refused request into a ValidationError naming the field', async () => {
    const err = (await tramline.consumers.create({ name: '' }).catch((e: unknown) => e)) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.status).toBe(400);
    expect(err.code).toBe('validation');
    expect(err.title).toBeTruthy();
    expect(err.errors.map((e) => e.field)).toContain('body.name');
  });

  it('turns a bad key into an AuthenticationError', async () => {
    const stranger = new Tramline({ apiKey: 'tl_not_a_real_key', baseUrl: gw.url });
    const err = await stranger.consumers.list().page().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ status: 401 });
  });
});

describe('endpoints, messages and webhooks', () => {
  it('publishes, delivers a webhook both verifiers accept, and shows its deliveries and attempts', async () => {
    await tramline.consumers.create({ name: 'Initech', uid: 'initech' });
    const ep = await tramline.endpoints.create('initech', { url: `${receiver.url}/hooks`, eventTypes: ['invoice.paid'] });
    expect(ep.id).toMatch(/^ep_/);
    expect((await tramline.endpoints.get('initech', ep.id)).url).toBe(`${receiver.url}/hooks`);
    expect((await tramline.endpoints.list('initech').toArray()).map((e) => e.id)).toEqual([ep.id]);
    const { secret } = await tramline.endpoints.getSecret('initech', ep.id);
    expect(secret).toMatch(/^whsec_/);

    const before = receiver.received.length;
    const msg = await tramline.messages.publish('initech', { eventType: 'invoice.paid', payload: { invoice: 'inv_1', amount: 4200 } });
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.eventType).toBe('invoice.paid');
    const [hook] = (await receiver.waitFor(before + 1)).slice(before);

    const event = await verifyWebhook<{ invoice: string; amount: number }>(secret, hook!.headers as Record<string, string>, hook!.body);
    expect(event.type).toBe('invoice.paid');
    expect(event.data).toEqual({ invoice: 'inv_1', amount: 4200 });
    expect(new Webhook(secret).verify(hook!.body, hook!.headers as Record<string, string>)).toMatchObject({ data: { invoice: 'inv_1' } });
    // A body changed by one byte fails.
    await expect(verifyWebhook(secret, hook!.headers as Record<string, string>, hook!.body.replace('4200', '4201'))).rejects.toMatchObject({
      reason: 'no-matching-signature',
    });

    const detail = await waitUntil(async () => {
      const m = await tramline.messages.get('initech', msg.id);
      return m.deliveries[0]?.state === 'succeeded' ? m : undefined;
    });
    expect(detail.deliveries).toHaveLength(1);
    expect((await tramline.messages.get('initech', msg.eventId)).id).toBe(msg.id);
    const attempts = await tramline.messages.attempts('initech', msg.id).toArray();
    expect(attempts[0]).toMatchObject({ outcome: 'succeeded', statusCode: 204, endpointId: ep.id });
    expect((await tramline.endpoints.attempts('initech', ep.id).toArray()).map((a) => a.messageId)).toContain(msg.id);
    const listed = await tramline.messages.list('initech', { eventType: 'invoice.paid', after: new Date(Date.now() - 60_000) }).toArray();
    expect(listed.map((m) => m.id)).toContain(msg.id);

    // Resend: a second delivery of the same message id.
    const delivery = await tramline.messages.resend('initech', msg.id, ep.id);
    expect(delivery.endpointId).toBe(ep.id);
    const again = (await receiver.waitFor(before + 2))[before + 1]!;
    expect(again.headers['webhook-id']).toBe(hook!.headers['webhook-id']);

    // Rotation: a new secret; the next delivery verifies with it.
    const rotated = await tramline.endpoints.rotateSecret('initech', ep.id);
    expect(rotated.secret).not.toBe(secret);
    await tramline.messages.publish('initech', { eventType: 'invoice.paid', payload: { invoice: 'inv_2' } });
    const third = (await receiver.waitFor(before + 3))[before + 2]!;
    await expect(verifyWebhook(rotated.secret, third.headers as Record<string, string>, third.body)).resolves.toMatchObject({ data: { invoice: 'inv_2' } });

    const recovered = await tramline.endpoints.recover('initech', ep.id, { since: new Date(Date.now() - 3600_000) });
    expect(recovered.recovered).toBe(0);
    const updated = await tramline.endpoints.update('initech', ep.id, { description: 'billing' });
    expect(updated.description).toBe('billing');
    await tramline.endpoints.delete('initech', ep.id);
    await expect(tramline.endpoints.get('initech', ep.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('publishes idempotently: a repeated eventId or key gives back the original message', async () => {
    await tramline.consumers.create({ name: 'Hooli', uid: 'hooli' });
    const a = await tramline.messages.publish('hooli', { eventType: 'user.created', eventId: 'evt_1', payload: { n: 1 } });
    const b = await tramline.messages.publish('hooli', { eventType: 'user.created', eventId: 'evt_1', payload: { n: 1 } });
    expect(b.id).toBe(a.id);
    const c = await tramline.messages.publish('hooli', { eventType: 'user.created', payload: { n: 2 } }, { idempotencyKey: 'key-2' });
    const d = await tramline.messages.publish('hooli', { eventType: 'user.created', payload: { n: 2 } }, { idempotencyKey: 'key-2' });
    expect(d.id).toBe(c.id);
  });

  it('keeps one Idempotency-Key across its retries: an answer lost after the commit publishes once', async () => {
    await tramline.consumers.create({ name: 'Umbrella', uid: 'umbrella' });
    const keys: string[] = [];
    let dropped = 0;
    // The gateway commits the publish, then the answer is lost (as if the connection broke): the client retries.
    const lossy = new Tramline({
      apiKey,
      baseUrl: gw.url,
      retryBaseDelayMs: 10,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (init?.method === 'POST') {
          keys.push(new Headers(init.headers).get('idempotency-key') ?? '');
          if (dropped++ === 0) throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
        }
        return res;
      },
    });
    const msg = await lossy.messages.publish('umbrella', { eventType: 'order.shipped', payload: { order: 7 } });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^idem_/);
    expect(keys[1]).toBe(keys[0]);
    const all = await tramline.messages.list('umbrella').toArray();
    expect(all.map((m) => m.id)).toEqual([msg.id]);
  });
});

describe('event types, API keys, portal sessions and the audit log', () => {
  it('registers, reads, updates, archives, unarchives and deletes event types', async () => {
    const et = await tramline.eventTypes.create({ name: 'invoice.paid', description: 'An invoice was paid' });
    expect(et).toMatchObject({ name: 'invoice.paid', archived: false });
    await tramline.eventTypes.create({ name: 'invoice.voided' });
    expect((await tramline.eventTypes.get('invoice.paid')).description).toBe('An invoice was paid');
    expect((await tramline.eventTypes.update('invoice.paid', { description: 'Paid in full' })).description).toBe('Paid in full');
    expect((await tramline.eventTypes.archive('invoice.voided')).archived).toBe(true);
    expect((await tramline.eventTypes.list().toArray()).map((e) => e.name)).toEqual(['invoice.paid']);
    expect((await tramline.eventTypes.list({ includeArchived: true }).toArray()).map((e) => e.name).sort()).toEqual(['invoice.paid', 'invoice.voided']);
    expect((await tramline.eventTypes.unarchive('invoice.voided')).archived).toBe(false);
    await tramline.eventTypes.delete('invoice.voided');
    await expect(tramline.eventTypes.get('invoice.voided')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates a scoped key that may read but not publish, then revokes it', async () => {
    const created = await tramline.apiKeys.create({ name: 'reader', scopes: ['read'] });
    const secret = created.apiKey;
    expect(secret).toMatch(/^tl_/);
    const reader = new Tramline({ apiKey: secret, baseUrl: gw.url });
    await reader.consumers.list().page();
    const err = await reader.messages.publish('hooli', { eventType: 'x', payload: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect((await tramline.apiKeys.list().toArray()).map((k) => k.id)).toContain(created.id);
    await tramline.apiKeys.revoke(created.id);
    await expect(reader.consumers.list().page()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('creates a portal session and reads the audit log', async () => {
    const session = await tramline.portalSessions.create('hooli');
    expect(session.token).toMatch(/^tlp_/);
    expect(session.url).toContain(session.token);
    const entries = await tramline.auditLog.list({ limit: 5 }).page();
    expect(entries.data.length).toBeGreaterThan(0);
    expect(entries.data[0]!.actor).toBeTruthy();
    expect(Date.parse(entries.data[0]!.createdAt)).toBeGreaterThan(Date.now() - 600_000);
  });

  it('identifies the gateway without a credential', async () => {
    await expect(identifyGateway(gw.url)).resolves.toMatchObject({ service: 'tramline' });
  });
});
