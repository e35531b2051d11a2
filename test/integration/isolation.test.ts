/**
 * Tenant isolation, proven three ways:
 *  - the catalog: every tenant table has row-level security enabled AND forced, and the runtime
 *    roles can neither bypass it nor are superusers;
 *  - the database alone: a query that forgets its tenant filter sees, and may write, only its tenant;
 *  - the API: every /v1 route of the OpenAPI document, called with one tenant's key and the other
 *    tenant's ids, answers 404 (never 403, never the data), in both directions; a new route that
 *    the matrix does not know how to call fails the test instead of escaping it.
 * Plus scopes and authentication: read / publish / revoked keys, no key, operator vs tenant tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type Client, type Response } from '../helpers/client.ts';
import { createTenant, OPERATOR_TOKEN, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { waitUntil } from '../helpers/wait.ts';

let gw: TestGateway;
let rx: Receiver;
let A: Seed;
let B: Seed;

interface OpenApi {
  paths: Record<string, Record<string, unknown>>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** What one tenant holds; `tokens` are strings that must never show up in another tenant's responses. */
interface Seed {
  label: string;
  tenant: TestTenant;
  consumer: { id: string; uid: string; name: string };
  consumer2: { id: string; uid: string };
  endpoint: { id: string; url: string; secret: string };
  message: { id: string; eventId: string };
  eventTypeName: string;
  adminKeyId: string;
  extraKey: { id: string; key: string };
  /** A dashboard user (issue 9), created by the operator. */
  user: { id: string; email: string };
  /** A bulk replay of the endpoint (issue 13) that matches nothing, so it sends nothing. */
  replay: { id: string };
  tokens: string[];
}

function ok<T>(r: Response<T>, status: number, what: string): T {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A tenant with one of everything: event type, two consumers, an endpoint, a delivered message, an extra key. */
async function seed(tenant: TestTenant, label: string): Promise<Seed> {
  const api = tenant.api;
  const eventTypeName = `${label}.only`;
  ok(await api.post('/v1/event-types', { name: eventTypeName, description: `${label}-EVENT-DESC` }), 201, 'event type');
  const consumer = ok(
    await api.post('/v1/consumers', { name: `${label} consumer`, uid: `${label}-uid-1`, metadata: { mark: `${label}-META-MARK` } }),
    201,
    'consumer',
  );
  const consumer2 = ok(await api.post('/v1/consumers', { name: `${label} second`, uid: `${label}-uid-2` }), 201, 'consumer 2');
  const url = `${rx.url}/${label}-hook`;
  const endpoint = ok(await api.post(`/v1/consumers/${consumer.id}/endpoints`, { url, description: `${label}-EP-DESC` }), 201, 'endpoint');
  const secret = ok(await api.get(`/v1/consumers/${consumer.id}/endpoints/${endpoint.id}/secret`), 200, 'secret').secret as string;
  const message = ok(
    await api.post(`/v1/consumers/${consumer.id}/messages`, {
      eventType: eventTypeName,
      eventId: `${label}-event-1`,
      payload: { mark: `${label}-PAYLOAD-MARK` },
    }),
    202,
    'message',
  );
  const detail = await waitUntil(async () => {
    const d = (await api.get(`/v1/consumers/${consumer.id}/messages/${message.id}`)).body;
    return d.deliveries?.[0]?.state === 'succeeded' ? d : undefined;
  });
  const attempts = ok(await api.get(`/v1/consumers/${consumer.id}/messages/${message.id}/attempts`), 200, 'attempts').data;
  expect(attempts).toHaveLength(1);
  const extra = ok(await api.post('/v1/api-keys', { name: `${label}-extra-key`, scopes: ['read'] }), 201, 'extra key');
  const keys = ok(await api.get('/v1/api-keys'), 200, 'keys').data as Array<{ id: string; prefix: string }>;
  const adminKeyId = keys.find((k) => k.id !== extra.id)!.id;
  const user = ok(
    await gw.operator.post(`/v1/tenants/${tenant.id}/users`, { email: `${label}@users.test`, password: 'a long enough password' }),
    201,
    'user',
  );
  const replay = ok(await api.post(`/v1/consumers/${consumer.id}/endpoints/${endpoint.id}/replays`, { status: ['none'] }), 202, 'replay');
  return {
    label,
    tenant,
    replay: { id: replay.id },
    consumer: { id: consumer.id, uid: consumer.uid, name: consumer.name },
    consumer2: { id: consumer2.id, uid: consumer2.uid },
    endpoint: { id: endpoint.id, url, secret },
    message: { id: message.id, eventId: message.eventId },
    eventTypeName,
    adminKeyId,
    extraKey: { id: extra.id, key: extra.apiKey },
    user: { id: user.id, email: user.email },
    tokens: [
      user.id,
      user.email,
      tenant.id,
      consumer.id,
      consumer.uid,
      consumer2.id,
      `${label}-META-MARK`,
      endpoint.id,
      `${label}-hook`,
      `${label}-EP-DESC`,
      secret,
      message.id,
      message.eventId,
      `${label}-PAYLOAD-MARK`,
      `${label}-EVENT-DESC`,
      detail.deliveries[0].id,
      attempts[0].id,
      adminKeyId,
      extra.id,
      extra.key,
      `${label}-extra-key`,
      ...keys.map((k) => k.prefix),
    ],
  };
}

beforeAll(async () => {
  gw = await startTestGateway();
  rx = await startReceiver();
  A = await seed(await createTenant(gw, 'Alpha'), 'tenant-alpha');
  B = await seed(await createTenant(gw, 'Bravo'), 'tenant-bravo');
});
afterAll(async () => {
  await gw?.stop();
  await rx?.close();
});

function expectProblem(r: Response, status: number, what = ''): void {
  expect(r.status, `${what} status (${JSON.stringify(r.body)})`).toBe(status);
  expect(r.headers.get('content-type') ?? '', `${what} content-type`).toMatch(/^application\/problem\+json/);
  expect(r.body, what).toMatchObject({ type: expect.any(String), title: expect.any(String), status });
}

describe('row-level security in the catalog', () => {
  it('every table with a tenant_id (and tenants itself) has RLS enabled and forced', async () => {
    const rows = await gw.testDb.db.owner((q) =>
      q.query<{ table: string; rls: boolean; forced: boolean }>(
        `SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
            AND (c.relname = 'tenants' OR EXISTS (
                  SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
          ORDER BY 1`,
      ),
    );
    const checked = rows.rows.map((r) => r.table);
    const exceptions = rows.rows.filter((r) => !r.rls || !r.forced).map((r) => r.table);
    expect(exceptions).toEqual([]);
    expect(checked).toContain('tenants');
    expect(checked).toEqual(
      expect.arrayContaining(['api_keys', 'event_types', 'consumers', 'endpoints', 'messages', 'deliveries', 'attempts']),
    );
    expect(checked.length).toBeGreaterThanOrEqual(7);

    // The policies that apply to the request role filter on the transaction's tenant; none applies to PUBLIC.
    const policies = await gw.testDb.db.owner((q) =>
      q.query<{ table: string; policy: string; roles: string[] | string; qual: string | null }>(
        `SELECT tablename AS table, policyname AS policy, roles::text[] AS roles, qual FROM pg_policies WHERE schemaname = 'public'`,
      ),
    );
    const rolesOf = (r: string[] | string): string[] => (Array.isArray(r) ? r : r.replace(/[{}]/g, '').split(','));
    expect(policies.rows.filter((p) => rolesOf(p.roles).includes('public'))).toEqual([]);
    const appPolicies = policies.rows.filter((p) => rolesOf(p.roles).includes('tramline_app'));
    expect(new Set(appPolicies.map((p) => p.table))).toEqual(new Set(checked));
    expect(appPolicies.filter((p) => !(p.qual ?? '').includes('tramline.tenant_id'))).toEqual([]);
  });

  it('the runtime roles are not superusers and cannot bypass RLS', async () => {
    const r = await gw.testDb.db.owner((q) =>
      q.query<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean }>(
        `SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname IN ('tramline_app', 'tramline_system') ORDER BY rolname`,
      ),
    );
    expect(r.rows).toEqual([
      { rolname: 'tramline_app', rolsuper: false, rolbypassrls: false },
      { rolname: 'tramline_system', rolsuper: false, rolbypassrls: false },
    ]);
    // An owner bypasses its table's policies unless forced: the runtime roles own nothing.
    const owned = await gw.testDb.db.owner((q) =>
      q.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname IN ('tramline_app', 'tramline_system')`,
      ),
    );
    expect(owned.rows[0]!.n).toBe(0);
  });
});

describe('a query that forgets the tenant sees nothing of others', () => {
  it('reads: each tenant table shows only the rows of the transaction’s tenant', async () => {
    const db = gw.testDb.db;
    const onlyA = await db.tenant(A.tenant.id, (q) => q.query<{ n: number }>('SELECT count(*)::int AS n FROM messages'));
    expect(onlyA.rows[0]!.n).toBe(1); // A published exactly one message
    const all = await db.owner((q) => q.query<{ n: number }>('SELECT count(*)::int AS n FROM messages'));
    expect(all.rows[0]!.n).toBeGreaterThanOrEqual(2); // …and B one more, which A's query does not see

    for (const table of ['api_keys', 'event_types', 'consumers', 'endpoints', 'messages', 'deliveries', 'attempts']) {
      const seen = await db.tenant(A.tenant.id, (q) =>
        q.query<{ mine: number; others: number }>(
          `SELECT count(*) FILTER (WHERE tenant_id = $1)::int AS mine, count(*) FILTER (WHERE tenant_id <> $1)::int AS others FROM ${table}`,
          [A.tenant.id],
        ),
      );
      const truth = await db.owner((q) =>
        q.query<{ mine: number; others: number }>(
          `SELECT count(*) FILTER (WHERE tenant_id = $1)::int AS mine, count(*) FILTER (WHERE tenant_id <> $1)::int AS others FROM ${table}`,
          [A.tenant.id],
        ),
      );
      expect(truth.rows[0]!.others, `${table}: B holds rows`).toBeGreaterThan(0);
      expect(seen.rows[0], table).toEqual({ mine: truth.rows[0]!.mine, others: 0 });
    }
    const tenants = await db.tenant(A.tenant.id, (q) => q.query<{ id: string }>('SELECT id FROM tenants'));
    expect(tenants.rows).toEqual([{ id: A.tenant.id }]);
    // No tenant set at all: nothing.
    const none = await db.tenant('ten_nobody', (q) => q.query<{ n: number }>('SELECT count(*)::int AS n FROM consumers'));
    expect(none.rows[0]!.n).toBe(0);
  });

  it('writes: a row of B cannot be inserted, updated or deleted from A’s transaction', async () => {
    const db = gw.testDb.db;
    await expect(
      db.tenant(A.tenant.id, (q) =>
        q.query(`INSERT INTO consumers (id, tenant_id, name) VALUES ('con_intruder', $1, 'intruder')`, [B.tenant.id]),
      ),
    ).rejects.toThrow(/row-level security/);
    await expect(
      db.tenant(A.tenant.id, (q) =>
        q.query(
          `INSERT INTO messages (id, tenant_id, consumer_id, event_type, event_id, payload) VALUES ('msg_intruder', $1, $2, 'a.b', 'x', '{}')`,
          [B.tenant.id, B.consumer.id],
        ),
      ),
    ).rejects.toThrow(/row-level security/);
    // Moving one of A's rows to B is refused too (WITH CHECK).
    await expect(
      db.tenant(A.tenant.id, (q) => q.query(`UPDATE consumers SET tenant_id = $1 WHERE id = $2`, [B.tenant.id, A.consumer2.id])),
    ).rejects.toThrow(/row-level security/);
    const upd = await db.tenant(A.tenant.id, (q) => q.query(`UPDATE consumers SET name = 'pwned' WHERE tenant_id = $1`, [B.tenant.id]));
    expect(upd.rowCount).toBe(0);
    const del = await db.tenant(A.tenant.id, (q) => q.query(`DELETE FROM messages WHERE tenant_id = $1`, [B.tenant.id]));
    expect(del.rowCount).toBe(0);
    const b = await B.tenant.api.get(`/v1/consumers/${B.consumer.id}`);
    expect(b.status).toBe(200);
    expect(b.body.name).toBe(B.consumer.name);
    const intruders = await db.owner((q) => q.query<{ n: number }>(`SELECT count(*)::int AS n FROM consumers WHERE id = 'con_intruder'`));
    expect(intruders.rows[0]!.n).toBe(0);
  });
});

/** Tenant-wide reads that answer one document, not a list. */
const NOT_LISTS = new Set(['/v1/stats', '/v1/settings', '/v1/portal/theme']);

describe('the API matrix: every /v1 route, with one tenant’s key and the other’s ids', () => {
  it('answers 404 for ids of the other tenant and never shows its rows, in both directions', async () => {
    const spec = (await client(gw.url).get<OpenApi>('/openapi.json')).body;
    const routes: Array<{ method: string; path: string }> = [];
    for (const [path, ops] of Object.entries(spec.paths)) {
      if (!path.startsWith('/v1/') || path === '/v1/tenants') continue; // operator routes: covered by the scope tests
      // The operator's user creation, and the dashboard's own session routes (a browser's cookie, not a key): dashboard-auth.test.ts.
      if (path.startsWith('/v1/tenants/') || path.startsWith('/v1/auth/')) continue;
      for (const m of METHODS) if (ops[m]) routes.push({ method: m.toUpperCase(), path });
    }
    // Destructive calls last, so a broken policy would still be seen by every other check first.
    routes.sort((x, y) => Number(x.method === 'DELETE') - Number(y.method === 'DELETE'));
    expect(routes.length).toBeGreaterThanOrEqual(20);

    const sinceIso = new Date(Date.now() - 3_600_000).toISOString();
    /** Bodies that pass validation, so a 404 cannot be a 400 in disguise. */
    const bodyFor = (method: string, path: string, victim: Seed): unknown => {
      const key = `${method} ${path}`;
      const bodies: Record<string, unknown> = {
        'POST /v1/api-keys': { name: 'matrix key', scopes: ['read'] },
        // The victim's names are free in the attacker's tenant: uniqueness is per tenant, and nothing leaks through a 409.
        // Names are the tenant's own: the attacker registers a name of its own, so {eventType} below is the victim's only.
        'POST /v1/event-types': { name: `${victim.eventTypeName}.copy`, description: 'attacker copy' },
        'PATCH /v1/event-types/{eventType}': { description: 'pwned' },
        'POST /v1/event-types/{eventType}/archive': undefined,
        'POST /v1/event-types/{eventType}/unarchive': undefined,
        'POST /v1/consumers': { name: 'attacker copy', uid: victim.consumer2.uid },
        'PATCH /v1/consumers/{consumer}': { name: 'pwned' },
        'POST /v1/consumers/{consumer}/portal-sessions': {},
        'POST /v1/consumers/{consumer}/endpoints': { url: 'http://127.0.0.1:9/x' },
        'PATCH /v1/consumers/{consumer}/endpoints/{endpoint}': { url: 'http://127.0.0.1:9/x', disabled: true },
        'POST /v1/consumers/{consumer}/endpoints/{endpoint}/secret/rotate': {},
        'POST /v1/consumers/{consumer}/endpoints/{endpoint}/recover': { since: sinceIso },
        'POST /v1/consumers/{consumer}/endpoints/{endpoint}/replay-skipped': undefined,
        'POST /v1/consumers/{consumer}/endpoints/{endpoint}/replays': { status: ['none'] },
        'POST /v1/consumers/{consumer}/filter-test': { filter: 'true' },
        'POST /v1/event-types/{eventType}/schemas/check': { schema: { type: 'object' } },
        'POST /v1/consumers/{consumer}/messages': { eventType: 'a.b', payload: {} },
        'POST /v1/consumers/{consumer}/messages/{message}/endpoints/{endpoint}/resend': {},
        'POST /v1/users': { email: 'matrix-invite@attacker.test', role: 'viewer' },
        'PATCH /v1/users/{user}': { role: 'viewer' },
        'POST /v1/users/{user}/password-reset': undefined,
        'PATCH /v1/settings': { branding: { name: 'attacker settings' } },
      };
      if (key in bodies) return bodies[key];
      if (method === 'GET' || method === 'DELETE') return undefined;
      throw new Error(`the isolation matrix does not know a valid body for ${key}: add one`);
    };
    const substitute = (path: string, victim: Seed): string =>
      path.replace(/\{(\w+)\}/g, (_, name: string) => {
        const ids: Record<string, string> = {
          consumer: victim.consumer.id,
          endpoint: victim.endpoint.id,
          message: victim.message.id,
          apiKey: victim.extraKey.id,
          eventType: victim.eventTypeName,
          user: victim.user.id,
          replay: victim.replay.id,
        };
        if (!(name in ids)) throw new Error(`the isolation matrix has no id for path parameter {${name}} in ${path}: add one`);
        return ids[name]!;
      });
    const send = (api: Client, method: string, path: string, body: unknown): Promise<Response> =>
      method === 'GET'
        ? api.get(path)
        : method === 'DELETE'
          ? api.delete(path)
          : method === 'PATCH'
            ? api.patch(path, body)
            : api.post(path, body);

    // Controls: with its own key, the victim's ids answer 200 on every read route, so the 404s below are isolation.
    for (const victim of [A, B]) {
      for (const r of routes.filter((x) => x.method === 'GET' && x.path.includes('{'))) {
        const res = await victim.tenant.api.get(substitute(r.path, victim));
        expect(res.status, `control GET ${r.path}`).toBe(200);
      }
    }

    let checked = 0;
    let leaked = 0;
    const leaks: string[] = [];
    const createdBySelf = new Map<string, string[]>([
      [A.label, []],
      [B.label, []],
    ]);
    for (const [attacker, victim] of [
      [B, A],
      [A, B],
    ] as const) {
      for (const r of routes) {
        const path = substitute(r.path, victim);
        const res = await send(attacker.tenant.api, r.method, path, bodyFor(r.method, r.path, victim));
        const what = `${attacker.label} → ${r.method} ${r.path}`;
        const text = JSON.stringify(res.body) ?? '';
        const hits = victim.tokens.filter((t) => text.includes(t));
        if (hits.length > 0) {
          leaked += hits.length;
          leaks.push(`${what}: ${hits.join(', ')}`);
        }
        if (path !== r.path) {
          // The route takes an id of the victim: 404, as if it did not exist.
          expectProblem(res, 404, what);
        } else if (r.method === 'GET' && NOT_LISTS.has(r.path)) {
          // The tenant's own figures and settings (checked for leaks above).
          expect(res.status, what).toBe(200);
        } else if (r.method === 'PATCH' && r.path === '/v1/settings') {
          expect(res.status, `${what} (${text})`).toBe(200);
        } else if (r.method === 'GET') {
          expect(res.status, what).toBe(200);
          expect(Array.isArray(res.body.data), what).toBe(true);
          expect(res.body.data.length, `${what}: the attacker's own rows are listed`).toBeGreaterThan(0);
        } else if (r.method === 'POST') {
          expect(res.status, `${what} (${text})`).toBe(201);
          if (res.body.id) createdBySelf.get(attacker.label)!.push(res.body.id);
          if (r.path === '/v1/consumers') expect(res.body.id).not.toBe(victim.consumer2.id);
        } else {
          throw new Error(`the isolation matrix does not know what ${r.method} ${r.path} without ids should do: add it`);
        }
        checked++;
      }
    }
    expect(leaks).toEqual([]);
    expect(leaked).toBe(0);
    expect(checked).toBe(routes.length * 2);
    console.log(`isolation matrix: ${routes.length} routes × 2 tenants = ${checked} checks, rows leaked = ${leaked}`);

    // Nothing of either tenant changed through the other's key.
    for (const t of [A, B]) {
      const api = t.tenant.api;
      const c = await api.get(`/v1/consumers/${t.consumer.id}`);
      expect(c.status).toBe(200);
      expect(c.body).toMatchObject({
        id: t.consumer.id,
        uid: t.consumer.uid,
        name: t.consumer.name,
        metadata: { mark: `${t.label}-META-MARK` },
      });
      const e = await api.get(`/v1/consumers/${t.consumer.id}/endpoints/${t.endpoint.id}`);
      expect(e.status).toBe(200);
      expect(e.body).toMatchObject({ url: t.endpoint.url, disabled: false });
      const eps = await api.get(`/v1/consumers/${t.consumer.id}/endpoints`);
      expect(eps.body.data.map((x: { id: string }) => x.id)).toEqual([t.endpoint.id]);
      expect((await api.get(`/v1/consumers/${t.consumer.id}/endpoints/${t.endpoint.id}/secret`)).body.secret).toBe(t.endpoint.secret);
      for (const consumer of [t.consumer.id, t.consumer2.id]) {
        const msgs = await api.get(`/v1/consumers/${consumer}/messages`);
        expect(msgs.body.data.map((m: { id: string }) => m.id)).toEqual(consumer === t.consumer.id ? [t.message.id] : []);
      }
      const m = await api.get(`/v1/consumers/${t.consumer.id}/messages/${t.message.id}`);
      expect(m.body.deliveries).toHaveLength(1);
      expect(m.body.deliveries[0]).toMatchObject({ state: 'succeeded', attempts: 1 });
      const consumers = (await api.get('/v1/consumers')).body.data.map((x: { id: string }) => x.id).sort();
      const mine = createdBySelf.get(t.label)!;
      expect(consumers).toEqual([t.consumer.id, t.consumer2.id, ...mine.filter((id) => id.startsWith('con_'))].sort());
      const keys = (await api.get('/v1/api-keys')).body.data as Array<{ id: string; revokedAt: string | null }>;
      expect(keys.find((k) => k.id === t.extraKey.id)?.revokedAt).toBeNull();
      expect((await client(gw.url, t.extraKey.key).get('/v1/consumers')).status).toBe(200);
    }
    expect(rx.received.filter((r) => r.path === `/${A.label}-hook`)).toHaveLength(1);
    expect(rx.received.filter((r) => r.path === `/${B.label}-hook`)).toHaveLength(1);
  });

  it('addressing the other tenant’s consumer by its uid answers 404', async () => {
    const uid = A.consumer.uid;
    expect((await A.tenant.api.get(`/v1/consumers/${uid}`)).body.id).toBe(A.consumer.id);
    expectProblem(await B.tenant.api.get(`/v1/consumers/${uid}`), 404, 'GET by uid');
    expectProblem(await B.tenant.api.patch(`/v1/consumers/${uid}`, { name: 'pwned' }), 404, 'PATCH by uid');
    expectProblem(await B.tenant.api.get(`/v1/consumers/${uid}/messages`), 404, 'messages by uid');
    expectProblem(await B.tenant.api.post(`/v1/consumers/${uid}/messages`, { eventType: 'a.b', payload: {} }), 404, 'publish by uid');
    expectProblem(await B.tenant.api.get(`/v1/consumers/${uid}/messages/${A.message.eventId}`), 404, 'message by eventId');
    expectProblem(await B.tenant.api.delete(`/v1/consumers/${uid}`), 404, 'DELETE by uid');
    expect((await A.tenant.api.get(`/v1/consumers/${uid}`)).body.name).toBe(A.consumer.name);
  });
});

describe('scopes and authentication', () => {
  let C: Seed;
  beforeAll(async () => {
    C = await seed(await createTenant(gw, 'Charlie'), 'tenant-charlie');
  });

  const keyWith = async (scopes: string[]): Promise<{ id: string; api: Client }> => {
    const r = await C.tenant.api.post('/v1/api-keys', { name: scopes.join('+'), scopes });
    expect(r.status).toBe(201);
    expect(r.body.scopes).toEqual(scopes);
    return { id: r.body.id, api: client(gw.url, r.body.apiKey) };
  };

  it('a read key reads, and gets 403 on every write', async () => {
    const read = await keyWith(['read']);
    const ids = (p: string) =>
      p
        .replace('{consumer}', C.consumer.id)
        .replace('{endpoint}', C.endpoint.id)
        .replace('{message}', C.message.id)
        .replace('{apiKey}', C.extraKey.id)
        .replace('{eventType}', C.eventTypeName)
        .replace('{replay}', C.replay.id);
    const spec = (await client(gw.url).get<OpenApi>('/openapi.json')).body;
    const adminOnlyReads = new Set(['/v1/api-keys', '/v1/audit-log', '/v1/consumers/{consumer}/endpoints/{endpoint}/secret', '/v1/users']);
    let reads = 0;
    let writes = 0;
    for (const [path, ops] of Object.entries(spec.paths)) {
      if (!path.startsWith('/v1/') || path === '/v1/tenants') continue;
      if (path.startsWith('/v1/tenants/') || path.startsWith('/v1/auth/')) continue; // operator; browser sessions
      for (const m of METHODS) {
        if (!ops[m]) continue;
        const url = ids(path);
        if (m === 'get') {
          const r = await read.api.get(url);
          if (adminOnlyReads.has(path)) expectProblem(r, 403, `read key GET ${path}`);
          else expect(r.status, `read key GET ${path}`).toBe(200);
          reads++;
        } else {
          const body =
            m === 'delete' ? undefined : m === 'post' && path.endsWith('/messages') ? { eventType: 'a.b', payload: {} } : { name: 'x' };
          const r =
            m === 'delete'
              ? await read.api.delete(url)
              : await read.api.raw(m.toUpperCase(), url, JSON.stringify(body), { 'content-type': 'application/json' });
          expectProblem(r, 403, `read key ${m.toUpperCase()} ${path}`);
          writes++;
        }
      }
    }
    expect(reads).toBeGreaterThanOrEqual(10);
    expect(writes).toBeGreaterThanOrEqual(10);
    // Nothing the read key tried was done.
    expect((await C.tenant.api.get(`/v1/consumers/${C.consumer.id}`)).body.name).toBe(C.consumer.name);
    expect((await C.tenant.api.get(`/v1/consumers/${C.consumer.id}/messages`)).body.data).toHaveLength(1);
  });

  it('a publish key publishes, and gets 403 on endpoint creation', async () => {
    const pub = await keyWith(['publish']);
    const m = await pub.api.post(`/v1/consumers/${C.consumer2.id}/messages`, { eventType: 'a.b', payload: { by: 'publish key' } });
    expect(m.status).toBe(202);
    expect(m.body.id).toMatch(/^msg_/);
    expectProblem(
      await pub.api.post(`/v1/consumers/${C.consumer2.id}/endpoints`, { url: 'http://127.0.0.1:9/x' }),
      403,
      'publish key creates endpoint',
    );
    expectProblem(await pub.api.post('/v1/consumers', { name: 'x' }), 403, 'publish key creates consumer');
    expectProblem(await pub.api.post('/v1/api-keys', { scopes: ['admin'] }), 403, 'publish key escalates');
    expect((await C.tenant.api.get(`/v1/consumers/${C.consumer2.id}/endpoints`)).body.data).toEqual([]);
    expect((await C.tenant.api.get(`/v1/consumers/${C.consumer2.id}/messages`)).body.data.map((x: { id: string }) => x.id)).toEqual([
      m.body.id,
    ]);
  });

  it('a revoked key answers 401 on its next request', async () => {
    const k = await keyWith(['read']);
    expect((await k.api.get('/v1/consumers')).status).toBe(200);
    const del = await C.tenant.api.delete(`/v1/api-keys/${k.id}`);
    expect(del.status).toBe(204);
    expectProblem(await k.api.get('/v1/consumers'), 401, 'revoked key');
    const listed = (await C.tenant.api.get('/v1/api-keys')).body.data.find((x: { id: string }) => x.id === k.id);
    expect(listed.revokedAt).not.toBeNull();
    // Revoking again is idempotent; another tenant's key id is not found.
    expect((await C.tenant.api.delete(`/v1/api-keys/${k.id}`)).status).toBe(204);
    expectProblem(await C.tenant.api.delete(`/v1/api-keys/${A.adminKeyId}`), 404, 'revoke another tenant’s key');
    expect((await A.tenant.api.get('/v1/consumers')).status).toBe(200);
  });

  it('no key, a bad key, or the wrong kind of token answers 401', async () => {
    const anon = client(gw.url);
    expectProblem(await anon.get('/v1/consumers'), 401, 'no key');
    expectProblem(await anon.post(`/v1/consumers/${C.consumer.id}/messages`, { eventType: 'a.b', payload: {} }), 401, 'no key publish');
    expectProblem(await client(gw.url, 'tl_not-a-real-key').get('/v1/consumers'), 401, 'unknown key');
    expectProblem(await anon.get('/v1/consumers', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), 401, 'basic auth');
    expectProblem(await anon.get('/v1/consumers', { authorization: `Bearer ${C.tenant.key} extra` }), 401, 'bearer with junk');
    // A tenant key (even admin) is not the operator token.
    expectProblem(await C.tenant.api.get('/v1/tenants'), 401, 'tenant key lists tenants');
    expectProblem(await C.tenant.api.post('/v1/tenants', { name: 'Evil' }), 401, 'tenant key creates tenant');
    // The operator token is not a tenant key.
    const operator = client(gw.url, OPERATOR_TOKEN);
    expectProblem(await operator.get('/v1/consumers'), 401, 'operator on tenant route');
    expectProblem(
      await operator.post(`/v1/consumers/${C.consumer.id}/messages`, { eventType: 'a.b', payload: {} }),
      401,
      'operator publishes',
    );
    expect((await operator.get('/v1/tenants')).status).toBe(200);
    expect((await C.tenant.api.get(`/v1/consumers/${C.consumer.id}/messages`)).body.data).toHaveLength(1);
  });
});
