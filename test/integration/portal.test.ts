/**
 * Portal sessions: short-lived tokens scoped to one consumer of one tenant.
 *  - issue: 201 { url, token, expiresAt }, lifetime bounds, admin scope only;
 *  - the token manages its consumer's endpoints and reads its messages (by id and by uid);
 *  - another consumer of the same tenant (by id or uid) and another tenant's consumer: 404 on every
 *    portal route, nothing changed;
 *  - every other route of the OpenAPI document (tenant-wide): 403, so no new route escapes;
 *  - expired, tampered or foreign-key tokens: 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type Client, type Response } from '../helpers/client.ts';
import { createTenant, startTestGateway, TEST_MASTER_KEY, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { derivePortalKey, signPortalToken } from '../../src/domain/portal-tokens.ts';
import { waitUntil } from '../helpers/wait.ts';

interface OpenApi {
  paths: Record<string, Record<string, unknown>>;
}
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** The routes a portal token may call; every other route must answer 403. */
const PORTAL_ROUTES = new Set([
  'GET /v1/event-types',
  'GET /v1/event-types/{eventType}',
  'GET /v1/consumers/{consumer}',
  'POST /v1/consumers/{consumer}/endpoints',
  'GET /v1/consumers/{consumer}/endpoints',
  'GET /v1/consumers/{consumer}/endpoints/{endpoint}',
  'PATCH /v1/consumers/{consumer}/endpoints/{endpoint}',
  'DELETE /v1/consumers/{consumer}/endpoints/{endpoint}',
  'GET /v1/consumers/{consumer}/endpoints/{endpoint}/secret',
  'POST /v1/consumers/{consumer}/endpoints/{endpoint}/secret/rotate',
  'GET /v1/consumers/{consumer}/endpoints/{endpoint}/attempts',
  'POST /v1/consumers/{consumer}/endpoints/{endpoint}/recover',
  'GET /v1/consumers/{consumer}/messages',
  'GET /v1/consumers/{consumer}/messages/{message}',
  'GET /v1/consumers/{consumer}/messages/{message}/attempts',
  'POST /v1/consumers/{consumer}/messages/{message}/endpoints/{endpoint}/resend',
  'GET /v1/portal/theme',
]);

interface Target {
  consumer: { id: string; uid: string };
  endpoint: { id: string };
  message: { id: string };
}

let gw: TestGateway;
let rx: Receiver;
let A: TestTenant;
let B: TestTenant;
let mine: Target; // tenant A, the portal's consumer
let sibling: Target; // tenant A, another consumer
let foreign: Target; // tenant B

function ok<T = any>(r: Response<T>, status: number, what: string): T {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

function expectProblem(r: Response, status: number, what = ''): void {
  expect(r.status, `${what} status (${JSON.stringify(r.body)})`).toBe(status);
  expect(r.headers.get('content-type') ?? '', `${what} content-type`).toMatch(/^application\/problem\+json/);
  expect(r.body, what).toMatchObject({ type: expect.any(String), title: expect.any(String), status });
}

/** A consumer with an endpoint and a delivered message. */
async function target(t: TestTenant, uid: string): Promise<Target> {
  const consumer = ok(await t.api.post('/v1/consumers', { name: uid, uid }), 201, 'consumer');
  const endpoint = ok(await t.api.post(`/v1/consumers/${consumer.id}/endpoints`, { url: `${rx.url}/${uid}` }), 201, 'endpoint');
  const message = ok(
    await t.api.post(`/v1/consumers/${consumer.id}/messages`, { eventType: 'invoice.paid', payload: { uid } }),
    202,
    'message',
  );
  await waitUntil(async () => {
    const d = (await t.api.get(`/v1/consumers/${consumer.id}/messages/${message.id}`)).body;
    return d.deliveries?.[0]?.state === 'succeeded' ? d : undefined;
  });
  return { consumer: { id: consumer.id, uid }, endpoint: { id: endpoint.id }, message: { id: message.id } };
}

async function session(
  t: TestTenant,
  consumer: string,
  body: unknown = {},
): Promise<{ url: string; token: string; expiresAt: string; api: Client }> {
  const s = ok(await t.api.post(`/v1/consumers/${consumer}/portal-sessions`, body), 201, 'portal session');
  return { ...s, api: client(gw.url, s.token) };
}

const substitute = (path: string, t: Target, by: 'id' | 'uid' = 'id'): string =>
  path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const ids: Record<string, string> = {
      consumer: by === 'id' ? t.consumer.id : t.consumer.uid,
      endpoint: t.endpoint.id,
      message: t.message.id,
      // The catalog is the tenant's: the one both tenants registered in the setup.
      eventType: 'invoice.paid',
    };
    if (!(name in ids)) throw new Error(`the portal test has no id for {${name}} in ${path}: add one`);
    return ids[name]!;
  });

const send = (api: Client, method: string, path: string, body?: unknown): Promise<Response> =>
  method === 'GET'
    ? api.get(path)
    : method === 'DELETE'
      ? api.delete(path)
      : api.raw(method, path, JSON.stringify(body ?? {}), { 'content-type': 'application/json' });

const sinceIso = (): string => new Date(Date.now() - 3_600_000).toISOString();
const validBody = (key: string): unknown =>
  ({
    'POST /v1/consumers/{consumer}/endpoints': { url: 'http://127.0.0.1:9/portal' },
    'PATCH /v1/consumers/{consumer}/endpoints/{endpoint}': { description: 'changed through the portal' },
    'POST /v1/consumers/{consumer}/endpoints/{endpoint}/recover': { since: sinceIso() },
  })[key] ?? {};

beforeAll(async () => {
  gw = await startTestGateway();
  rx = await startReceiver();
  A = await createTenant(gw, 'Alpha');
  B = await createTenant(gw, 'Bravo');
  for (const t of [A, B]) ok(await t.api.post('/v1/event-types', { name: 'invoice.paid' }), 201, 'event type');
  mine = await target(A, 'alpha-mine');
  sibling = await target(A, 'alpha-sibling');
  foreign = await target(B, 'bravo-foreign');
});
afterAll(async () => {
  await gw?.stop();
  await rx?.close();
});

describe('issuing a portal session', () => {
  it('answers 201 { url, token, expiresAt } for a consumer by id or uid, one hour by default', async () => {
    const before = Date.now();
    const s = await session(A, mine.consumer.id);
    expect(Object.keys(s).sort()).toEqual(['api', 'expiresAt', 'token', 'url']);
    expect(s.token).toMatch(/^tlp_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(s.url).toBe(`/portal/${A.id}#token=${s.token}`);
    const exp = Date.parse(s.expiresAt);
    expect(exp).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3_600_000);
    expect(exp).toBeLessThanOrEqual(Date.now() + 3_600_000);
    // The token names the consumer by id even when the session was asked for by uid.
    const byUid = await session(A, mine.consumer.uid, { expiresIn: 60 });
    const claims = JSON.parse(Buffer.from(byUid.token.slice(4).split('.')[0]!, 'base64url').toString());
    expect(claims).toEqual({ t: A.id, c: mine.consumer.id, exp: Date.parse(byUid.expiresAt) / 1000 });
    expect(Date.parse(byUid.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    // Without a body at all: the default.
    const bare = ok(await A.api.raw('POST', `/v1/consumers/${mine.consumer.id}/portal-sessions`), 201, 'no body');
    expect(Date.parse(bare.expiresAt) - Date.now()).toBeGreaterThan(3_500_000);
  });

  it('refuses lifetimes outside 60..86400 s (400), unknown consumers (404) and other tenants’ consumers (404)', async () => {
    for (const expiresIn of [59, 86_401, 0, -1, 1.5, '3600']) {
      expectProblem(await A.api.post(`/v1/consumers/${mine.consumer.id}/portal-sessions`, { expiresIn }), 400, `expiresIn ${expiresIn}`);
    }
    ok(await A.api.post(`/v1/consumers/${mine.consumer.id}/portal-sessions`, { expiresIn: 86_400 }), 201, 'max');
    expectProblem(await A.api.post('/v1/consumers/con_nobody/portal-sessions', {}), 404, 'unknown consumer');
    expectProblem(await A.api.post(`/v1/consumers/${foreign.consumer.id}/portal-sessions`, {}), 404, 'foreign consumer by id');
    expectProblem(await A.api.post(`/v1/consumers/${foreign.consumer.uid}/portal-sessions`, {}), 404, 'foreign consumer by uid');
  });

  it('needs the admin scope: read and publish keys get 403', async () => {
    for (const scopes of [['read'], ['publish'], ['read', 'publish']]) {
      const key = ok(await A.api.post('/v1/api-keys', { name: scopes.join('+'), scopes }), 201, 'key');
      expectProblem(await client(gw.url, key.apiKey).post(`/v1/consumers/${mine.consumer.id}/portal-sessions`, {}), 403, `${scopes} key`);
    }
    expectProblem(await client(gw.url).post(`/v1/consumers/${mine.consumer.id}/portal-sessions`, {}), 401, 'no key');
  });
});

describe('what a portal token may do', () => {
  it('reads its consumer, manages its endpoints and reads its messages, by id and by uid', async () => {
    const { api } = await session(A, mine.consumer.id);
    for (const ref of [mine.consumer.id, mine.consumer.uid]) {
      expect(ok(await api.get(`/v1/consumers/${ref}`), 200, 'consumer').id).toBe(mine.consumer.id);
      const eps = ok(await api.get(`/v1/consumers/${ref}/endpoints`), 200, 'endpoints');
      expect(eps.data.map((e: { id: string }) => e.id)).toContain(mine.endpoint.id);
      const msgs = ok(await api.get(`/v1/consumers/${ref}/messages`), 200, 'messages');
      expect(msgs.data.map((m: { id: string }) => m.id)).toEqual([mine.message.id]);
      const detail = ok(await api.get(`/v1/consumers/${ref}/messages/${mine.message.id}`), 200, 'message');
      expect(detail.deliveries[0]).toMatchObject({ state: 'succeeded' });
      expect(ok(await api.get(`/v1/consumers/${ref}/messages/${mine.message.id}/attempts`), 200, 'attempts').data).toHaveLength(1);
    }
    const created = ok(
      await api.post(`/v1/consumers/${mine.consumer.uid}/endpoints`, { url: 'http://127.0.0.1:9/made-by-portal' }),
      201,
      'create',
    );
    const listed = ok(await A.api.get(`/v1/consumers/${mine.consumer.id}/endpoints`), 200, 'tenant view').data.map(
      (e: { id: string }) => e.id,
    );
    expect(listed).toContain(created.id);
    expect(ok(await api.get(`/v1/consumers/${mine.consumer.id}/endpoints/${created.id}/secret`), 200, 'secret').secret).toMatch(/^whsec_/);
    expect(ok(await api.get('/v1/event-types'), 200, 'event types').data.map((e: { name: string }) => e.name)).toEqual(['invoice.paid']);
    expect((await api.delete(`/v1/consumers/${mine.consumer.id}/endpoints/${created.id}`)).status).toBe(204);
  });

  it('every portal route answers for its own consumer (none refused), and each is in the OpenAPI document', async () => {
    const { api } = await session(A, mine.consumer.id);
    const spec = (await client(gw.url).get<OpenApi>('/openapi.json')).body;
    const listed = new Set(
      Object.entries(spec.paths).flatMap(([p, ops]) => METHODS.filter((m) => ops[m]).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    const routes = [...PORTAL_ROUTES].sort((x, y) => Number(x.startsWith('DELETE')) - Number(y.startsWith('DELETE')));
    // A scratch endpoint, so the destructive calls leave the seeded one alone.
    const scratch = ok(await api.post(`/v1/consumers/${mine.consumer.id}/endpoints`, { url: `${rx.url}/scratch` }), 201, 'scratch');
    const own: Target = { ...mine, endpoint: { id: scratch.id } };
    for (const key of routes) {
      expect(listed.has(key), `${key} is in the OpenAPI document`).toBe(true);
      const [method, path] = key.split(' ') as [string, string];
      // resend needs a delivery to that endpoint: the seeded endpoint's.
      const t = key.endsWith('/resend') ? mine : own;
      const r = await send(api, method, substitute(path, t), validBody(key));
      expect(r.status, `${key} → ${JSON.stringify(r.body)}`).toBeLessThan(300);
    }
  });
});

describe('what a portal token may not do', () => {
  it('another consumer of its tenant (by id or uid) and another tenant’s consumer: 404 on every portal route', async () => {
    const { api } = await session(A, mine.consumer.id);
    let checked = 0;
    for (const key of PORTAL_ROUTES) {
      const [method, path] = key.split(' ') as [string, string];
      if (!path.includes('{consumer}')) continue;
      for (const [victim, by, label] of [
        [sibling, 'id', 'sibling by id'],
        [sibling, 'uid', 'sibling by uid'],
        [foreign, 'id', 'other tenant by id'],
        [foreign, 'uid', 'other tenant by uid'],
      ] as const) {
        const r = await send(api, method, substitute(path, victim, by), validBody(key));
        expectProblem(r, 404, `${label}: ${key}`);
        const text = JSON.stringify(r.body);
        for (const secret of [victim.endpoint.id, victim.message.id]) expect(text).not.toContain(secret);
        checked++;
      }
    }
    expect(checked).toBe((PORTAL_ROUTES.size - 3) * 4); // three routes have no {consumer}: event types (list, one), the theme
    // Nothing of theirs changed.
    for (const [t, v] of [
      [A, sibling],
      [B, foreign],
    ] as const) {
      const e = ok(await t.api.get(`/v1/consumers/${v.consumer.id}/endpoints/${v.endpoint.id}`), 200, 'victim endpoint');
      expect(e.description ?? '').not.toBe('changed through the portal');
      expect(ok(await t.api.get(`/v1/consumers/${v.consumer.id}/endpoints`), 200, 'victim endpoints').data).toHaveLength(1);
    }
  });

  it('every other route of the OpenAPI document (tenant-wide) answers 403', async () => {
    const { api } = await session(A, mine.consumer.id);
    const spec = (await client(gw.url).get<OpenApi>('/openapi.json')).body;
    const refused: string[] = [];
    for (const [path, ops] of Object.entries(spec.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const m of METHODS) {
        const key = `${m.toUpperCase()} ${path}`;
        // Public routes (security: [], e.g. the dashboard's sign-in) check no credential at all.
        if (!ops[m] || PORTAL_ROUTES.has(key) || (ops[m] as { security?: unknown[] }).security?.length === 0) continue;
        const url = path.replace(
          /\{(\w+)\}/g,
          (_, name: string) => ({ consumer: mine.consumer.id, endpoint: mine.endpoint.id, message: mine.message.id })[name] ?? 'x_1',
        );
        expectProblem(
          await send(api, m.toUpperCase(), url, { name: 'x', eventType: 'invoice.paid', payload: {}, scopes: ['admin'] }),
          403,
          key,
        );
        refused.push(key);
      }
    }
    for (const must of [
      'GET /v1/consumers',
      'POST /v1/consumers',
      'PATCH /v1/consumers/{consumer}',
      'DELETE /v1/consumers/{consumer}',
      'POST /v1/consumers/{consumer}/messages',
      'POST /v1/consumers/{consumer}/portal-sessions',
      'POST /v1/api-keys',
      'GET /v1/api-keys',
      'DELETE /v1/api-keys/{apiKey}',
      'POST /v1/event-types',
      'GET /v1/tenants',
      'POST /v1/tenants',
    ]) {
      expect(refused, must).toContain(must);
    }
    console.log(`portal matrix: ${PORTAL_ROUTES.size} portal routes, ${refused.length} tenant-wide routes answered 403`);
    // Nothing was done: no consumer, key or message was created, the consumer is untouched.
    expect(ok(await A.api.get('/v1/consumers'), 200, 'consumers').data).toHaveLength(2);
    expect(ok(await A.api.get(`/v1/consumers/${mine.consumer.id}/messages`), 200, 'messages').data).toHaveLength(1);
    expect(ok(await A.api.get(`/v1/consumers/${mine.consumer.id}`), 200, 'consumer').name).toBe(mine.consumer.uid);
  });

  it('an expired, tampered, foreign-key or malformed token answers 401, on portal and tenant-wide routes alike', async () => {
    const key = derivePortalKey(Buffer.from(TEST_MASTER_KEY, 'base64'));
    const now = Math.floor(Date.now() / 1000);
    const good = signPortalToken(key, { t: A.id, c: mine.consumer.id, exp: now + 600 });
    // The control: the test derives the gateway's key, so a token it signs is accepted.
    expect((await client(gw.url, good).get(`/v1/consumers/${mine.consumer.id}`)).status).toBe(200);

    const expired = signPortalToken(key, { t: A.id, c: mine.consumer.id, exp: now - 1 });
    const issued = (await session(A, mine.consumer.id, { expiresIn: 60 })).token;
    const [body, sig] = issued.slice(4).split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const reencode = (c: unknown): string => Buffer.from(JSON.stringify(c)).toString('base64url');
    const flipped = sig.slice(0, -2) + (sig.at(-2) === 'A' ? 'B' : 'A') + sig.at(-1);
    const bad: Record<string, string> = {
      expired,
      'exp pushed back by the holder': `tlp_${reencode({ ...claims, exp: claims.exp + 86_400 })}.${sig}`,
      'consumer swapped': `tlp_${reencode({ ...claims, c: sibling.consumer.id })}.${sig}`,
      'tenant swapped': `tlp_${reencode({ ...claims, t: B.id, c: foreign.consumer.id })}.${sig}`,
      'signature tampered': `tlp_${body}.${flipped}`,
      'signature truncated': `tlp_${body}.${sig.slice(0, 20)}`,
      'signature missing': `tlp_${body}`,
      'another key': signPortalToken(derivePortalKey(Buffer.alloc(32, 1)), { t: A.id, c: mine.consumer.id, exp: now + 600 }),
      'prefix only': 'tlp_',
    };
    for (const [what, token] of Object.entries(bad)) {
      const api = client(gw.url, token);
      expectProblem(await api.get(`/v1/consumers/${mine.consumer.id}/messages`), 401, `${what}: portal route`);
      expectProblem(await api.get('/v1/consumers'), 401, `${what}: tenant-wide route`);
      expectProblem(await api.get(`/v1/consumers/${sibling.consumer.id}`), 401, `${what}: other consumer`);
    }
    // The genuine token still works.
    expect((await client(gw.url, issued).get(`/v1/consumers/${mine.consumer.id}`)).status).toBe(200);
  });
});
