/**
 * Least exposure per caller (issue 16, items 3 and 4), against the real gateway over HTTP on both engines:
 * custom header values only for admin callers, masked for everyone else without a round trip ever
 * destroying them; an idempotent replay never hands the original payload to a key that may not read it;
 * and the one answer a publish key gets for every consumer it cannot publish to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_MASK } from '../../src/domain/header-masks.ts';
import { client, type Client, type Response } from '../helpers/client.ts';
import { userOf } from '../helpers/dashboard.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { waitUntil } from '../helpers/wait.ts';

const CREDENTIAL = 'Bearer receiver-credential-7f3a';
const HEADERS = { Authorization: CREDENTIAL, 'X-Team': 'payments' };
const MASKED = { authorization: HEADER_MASK, 'x-team': HEADER_MASK };

let gw: TestGateway;
let acme: TestTenant;
let other: TestTenant;
let receiver: Receiver;
/** Every kind of caller of acme, by what it is. */
const callers: Record<'admin' | 'read' | 'publish' | 'publishRead' | 'owner' | 'developer' | 'viewer' | 'portal', Client> = {} as never;

function ok<T = any>(r: Response<T>, status: number, what: string): T {
  expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(status);
  return r.body;
}

async function keyWith(scopes: string[]): Promise<Client> {
  const r = ok(await acme.api.post('/v1/api-keys', { name: scopes.join('+'), scopes }), 201, `key ${scopes}`);
  return client(gw.url, r.apiKey);
}

beforeAll(async () => {
  gw = await startTestGateway();
  acme = await createTenant(gw, 'Acme');
  other = await createTenant(gw, 'Other');
  receiver = await startReceiver();
  ok(await acme.api.post('/v1/consumers', { name: 'Globex', uid: 'globex' }), 201, 'consumer');
  ok(await other.api.post('/v1/consumers', { name: 'Initech', uid: 'initech' }), 201, 'other tenant’s consumer');
  callers.admin = acme.api;
  callers.read = await keyWith(['read']);
  callers.publish = await keyWith(['publish']);
  callers.publishRead = await keyWith(['publish', 'read']);
  callers.owner = (await userOf(gw, acme, 'owner@acme.test', 'owner')).api;
  callers.developer = (await userOf(gw, acme, 'dev@acme.test', 'developer')).api;
  callers.viewer = (await userOf(gw, acme, 'viewer@acme.test', 'viewer')).api;
  const portal = ok(await acme.api.post('/v1/consumers/globex/portal-sessions', {}), 201, 'portal session');
  callers.portal = client(gw.url, portal.token);
});
afterAll(async () => {
  await receiver?.close();
  await gw?.stop();
});

describe('endpoints’ custom header values', () => {
  let ep: string;
  beforeAll(async () => {
    const created = ok(
      await acme.api.post('/v1/consumers/globex/endpoints', { url: `${receiver.url}/h`, headers: HEADERS }),
      201,
      'create',
    );
    expect(created.headers).toEqual({ authorization: CREDENTIAL, 'x-team': 'payments' });
    ep = created.id;
  });

  it('are shown to admin keys and owner or developer sessions, masked for read keys, viewers and portal tokens', async () => {
    for (const who of ['admin', 'owner', 'developer'] as const) {
      const one = ok(await callers[who].get(`/v1/consumers/globex/endpoints/${ep}`), 200, `${who} get`);
      expect(one.headers, who).toEqual({ authorization: CREDENTIAL, 'x-team': 'payments' });
      const list = ok(await callers[who].get('/v1/consumers/globex/endpoints'), 200, `${who} list`);
      expect(list.data.find((e: { id: string }) => e.id === ep).headers, who).toEqual({ authorization: CREDENTIAL, 'x-team': 'payments' });
    }
    for (const who of ['read', 'viewer', 'portal'] as const) {
      const one = ok(await callers[who].get(`/v1/consumers/globex/endpoints/${ep}`), 200, `${who} get`);
      expect(one.headers, who).toEqual(MASKED);
      const list = ok(await callers[who].get('/v1/consumers/globex/endpoints'), 200, `${who} list`);
      expect(list.data.find((e: { id: string }) => e.id === ep).headers, who).toEqual(MASKED);
      expect(JSON.stringify([one, list]), who).not.toContain('receiver-credential');
      expect(JSON.stringify([one, list]), who).not.toContain('payments');
    }
    expect((await callers.publish.get(`/v1/consumers/globex/endpoints/${ep}`)).status).toBe(403);
  });

  it('are masked in a portal user’s own create and update answers', async () => {
    const created = ok(
      await callers.portal.post('/v1/consumers/globex/endpoints', { url: `${receiver.url}/p`, headers: { 'X-Api-Key': 'portal-secret' } }),
      201,
      'portal create',
    );
    expect(created.headers).toEqual({ 'x-api-key': HEADER_MASK });
    const patched = ok(
      await callers.portal.patch(`/v1/consumers/globex/endpoints/${created.id}`, { headers: { 'X-Api-Key': 'portal-secret-2' } }),
      200,
      'portal patch',
    );
    expect(patched.headers).toEqual({ 'x-api-key': HEADER_MASK });
    const stored = ok(await acme.api.get(`/v1/consumers/globex/endpoints/${created.id}`), 200, 'admin get');
    expect(stored.headers).toEqual({ 'x-api-key': 'portal-secret-2' });
  });

  it('survive a PATCH that sends back the masked values as read, and the receiver still gets the real ones', async () => {
    const read = ok(await callers.portal.get(`/v1/consumers/globex/endpoints/${ep}`), 200, 'portal get');
    const patched = ok(
      await callers.portal.patch(`/v1/consumers/globex/endpoints/${ep}`, {
        description: 'edited in the portal',
        headers: { ...read.headers, 'X-New': 'added' },
      }),
      200,
      'round trip',
    );
    expect(patched.headers).toEqual({ ...MASKED, 'x-new': HEADER_MASK });
    // An admin key sending the mask back keeps the value too.
    ok(
      await acme.api.patch(`/v1/consumers/globex/endpoints/${ep}`, { headers: { ...MASKED, 'x-new': HEADER_MASK } }),
      200,
      'admin round trip',
    );
    const stored = ok(await acme.api.get(`/v1/consumers/globex/endpoints/${ep}`), 200, 'admin get');
    expect(stored).toMatchObject({
      description: 'edited in the portal',
      headers: { authorization: CREDENTIAL, 'x-team': 'payments', 'x-new': 'added' },
    });

    ok(await acme.api.post('/v1/consumers/globex/messages', { eventType: 'header.check', payload: {} }), 202, 'publish');
    const delivered = await waitUntil(() => receiver.received.find((r) => r.path === '/h'), 15_000, 'a delivery to /h');
    expect(delivered.headers).toMatchObject({ authorization: CREDENTIAL, 'x-team': 'payments', 'x-new': 'added' });
  });

  it('refuse the mask where it stands for no stored value, naming the header', async () => {
    const created = await acme.api.post('/v1/consumers/globex/endpoints', {
      url: `${receiver.url}/m`,
      headers: { Authorization: HEADER_MASK },
    });
    expect(created.status).toBe(400);
    expect(created.body).toMatchObject({ errors: [{ field: 'body.headers.authorization' }] });
    const patched = await callers.portal.patch(`/v1/consumers/globex/endpoints/${ep}`, {
      headers: { ...MASKED, 'X-Unknown': HEADER_MASK },
    });
    expect(patched.status).toBe(400);
    expect(patched.body).toMatchObject({ errors: [{ field: 'body.headers.x-unknown' }] });
    // Nothing changed: the refused PATCH is all or nothing.
    const stored = ok(await acme.api.get(`/v1/consumers/globex/endpoints/${ep}`), 200, 'admin get');
    expect(stored.headers).toEqual({ authorization: CREDENTIAL, 'x-team': 'payments', 'x-new': 'added' });
    // Leaving a header out still removes it.
    const dropped = ok(
      await acme.api.patch(`/v1/consumers/globex/endpoints/${ep}`, { headers: { authorization: HEADER_MASK } }),
      200,
      'drop',
    );
    expect(dropped.headers).toEqual({ authorization: CREDENTIAL });
  });

  it('are described in the OpenAPI document', async () => {
    const doc = ok(await client(gw.url).get('/openapi.json'), 200, 'openapi');
    const get = doc.paths['/v1/consumers/{consumer}/endpoints/{endpoint}'];
    expect(get.get.description).toContain(HEADER_MASK);
    expect(get.patch.description).toContain(HEADER_MASK);
  });
});

describe('an idempotent replay', () => {
  const SECRET_PAYLOAD = { card: 'secret-4242', amount: 1200 };
  let original: { id: string; eventId: string; eventType: string; createdAt: string };
  let bare: { id: string };
  beforeAll(async () => {
    original = ok(
      await acme.api.post('/v1/consumers/globex/messages', { eventType: 'invoice.paid', eventId: 'inv-1.paid', payload: SECRET_PAYLOAD }),
      202,
      'original',
    );
    // Without an eventId the message's own id is its eventId: `Idempotency-Key: msg_…` replays it.
    bare = ok(await acme.api.post('/v1/consumers/globex/messages', { eventType: 'invoice.paid', payload: SECRET_PAYLOAD }), 202, 'bare');
  });

  it('answers a publish-only key the original’s id and metadata, never its payload', async () => {
    const byEventId = await callers.publish.post('/v1/consumers/globex/messages', { eventType: 'x.y', eventId: 'inv-1.paid', payload: {} });
    const byKey = await callers.publish.post(
      '/v1/consumers/globex/messages',
      { eventType: 'x.y', payload: {} },
      { 'idempotency-key': bare.id },
    );
    for (const [r, id] of [
      [byEventId, original.id],
      [byKey, bare.id],
    ] as const) {
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
      expect(r.body).toMatchObject({ id, eventType: 'invoice.paid', createdAt: expect.any(String) });
      expect(r.body).not.toHaveProperty('payload');
      expect(JSON.stringify(r.body)).not.toContain('secret-4242');
    }
    expect(byEventId.body).toMatchObject({ eventId: 'inv-1.paid' });
  });

  it('answers the payload to keys and sessions that may read it', async () => {
    for (const who of ['admin', 'publishRead', 'owner', 'developer'] as const) {
      const r = await callers[who].post('/v1/consumers/globex/messages', { eventType: 'x.y', eventId: 'inv-1.paid', payload: {} });
      expect(r.status, who).toBe(200);
      expect(r.body, who).toMatchObject({ id: original.id, payload: SECRET_PAYLOAD });
    }
  });

  it('leaves a new publish’s 202 as it was: the publisher’s own payload echoed', async () => {
    const r = ok(await callers.publish.post('/v1/consumers/globex/messages', { eventType: 'x.y', payload: { mine: 1 } }), 202, 'new');
    expect(r).toMatchObject({ id: expect.stringMatching(/^msg_/), payload: { mine: 1 } });
  });
});

describe('publishing to a consumer that is not there', () => {
  it('answers a publish key one 404 problem, the same whatever the reason and whoever asks', async () => {
    const gone = ok(await acme.api.post('/v1/consumers', { name: 'Gone', uid: 'gone' }), 201, 'to delete');
    ok(await acme.api.delete(`/v1/consumers/${gone.id}`), 204, 'delete');
    const foreign = ok(await other.api.get('/v1/consumers/initech'), 200, 'foreign consumer');
    const refs = { 'never existed': 'customer-404', deleted: 'gone', 'deleted, by id': gone.id, 'another tenant’s, by uid': 'initech' };
    const answers = [];
    for (const [why, ref] of [...Object.entries(refs), ['another tenant’s, by id', foreign.id]]) {
      for (const who of ['publish', 'admin'] as const) {
        const r = await callers[who].post(`/v1/consumers/${ref}/messages`, { eventType: 'x.y', payload: { probe: true } });
        expect(r.status, `${why}, ${who}`).toBe(404);
        expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        // The answer never echoes the reference it was given.
        expect(JSON.stringify(r.body), `${why}, ${who}`).not.toContain(ref);
        answers.push(r.body);
      }
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ status: 404, type: 'https://tramline.dev/problems/not-found' });
  });
});
