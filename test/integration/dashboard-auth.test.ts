/**
 * Dashboard sign-in (issue 9): users, sessions in cookies, CSRF, roles, invitations, isolation.
 * Runs on both engines, against the real gateway over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type Response } from '../helpers/client.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { browser, PASSWORD, sessionCookieOf, signIn, userOf } from '../helpers/dashboard.ts';

let gw: TestGateway;
let A: TestTenant;
let B: TestTenant;

beforeAll(async () => {
  gw = await startTestGateway();
  A = await createTenant(gw, 'Acme');
  B = await createTenant(gw, 'Globex');
});
afterAll(async () => {
  await gw?.stop();
});

function expectProblem(r: Response, status: number, what = ''): void {
  expect(r.status, `${what} status (${JSON.stringify(r.body)})`).toBe(status);
  expect(r.headers.get('content-type') ?? '', `${what} content-type`).toMatch(/^application\/problem\+json/);
  expect(r.body, what).toMatchObject({ type: expect.stringMatching(/^https:\/\/tramline\.dev\/problems\//), status });
}

describe('the operator creates a tenant’s first owner', () => {
  it('POST /v1/tenants/{tenant}/users: 201 without the password; validation, unknown tenant, duplicates', async () => {
    const r = await gw.operator.post(`/v1/tenants/${A.id}/users`, { email: 'Owner@Acme.test', password: PASSWORD });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ id: expect.stringMatching(/^usr_/), email: 'owner@acme.test', role: 'owner', status: 'active' });
    expect(JSON.stringify(r.body)).not.toContain(PASSWORD);
    expect(JSON.stringify(r.body)).not.toContain('argon2');

    expectProblem(await gw.operator.post(`/v1/tenants/${A.id}/users`, { email: 'owner@acme.test', password: PASSWORD }), 409, 'duplicate');
    expectProblem(
      await gw.operator.post(`/v1/tenants/${A.id}/users`, { email: 'short@acme.test', password: 'too-short' }),
      400,
      'short password',
    );
    expectProblem(await gw.operator.post(`/v1/tenants/${A.id}/users`, { email: 'not-an-email', password: PASSWORD }), 400, 'bad email');
    expectProblem(
      await gw.operator.post(`/v1/tenants/${A.id}/users`, { email: 'x@acme.test', password: PASSWORD, admin: true }),
      400,
      'unknown field',
    );
    expectProblem(
      await gw.operator.post('/v1/tenants/ten_01jz0000000000000000000000/users', { email: 'x@acme.test', password: PASSWORD }),
      404,
      'unknown tenant',
    );
    expectProblem(await A.api.post(`/v1/tenants/${A.id}/users`, { email: 'x@acme.test', password: PASSWORD }), 401, 'a tenant key');

    const stored = await gw.testDb.db.owner((q) =>
      q.query<{ password_hash: string }>(`SELECT password_hash FROM users WHERE email = 'owner@acme.test'`),
    );
    expect(stored.rows[0]!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});

describe('sign-in, session, sign-out', () => {
  it('signs in: 200 { user, tenant, csrfToken } and an HttpOnly SameSite=Lax cookie on Path=/', async () => {
    const r = await client(gw.url).post('/v1/auth/sign-in', { email: 'owner@acme.test', password: PASSWORD });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({
      user: { email: 'owner@acme.test', role: 'owner' },
      tenant: { id: A.id, name: 'Acme' },
      csrfToken: expect.any(String),
    });
    const set = r.headers.getSetCookie().find((c) => c.startsWith('tramline_session='))!;
    expect(set).toMatch(/; HttpOnly/i);
    expect(set).toMatch(/; SameSite=Lax/i);
    expect(set).toMatch(/; Path=\//);
    expect(set).not.toMatch(/; Secure/i); // plain http here; https requests get Secure
    expect(r.headers.get('cache-control')).toBe('no-store');

    const b = browser(gw.url, sessionCookieOf(r)!, r.body.csrfToken);
    const s = await b.api.get('/v1/auth/session');
    expect(s.status).toBe(200);
    expect(s.body).toEqual(r.body);
    // The email is case-insensitive.
    expect((await client(gw.url).post('/v1/auth/sign-in', { email: ' OWNER@acme.TEST ', password: PASSWORD })).status).toBe(400); // not an email with spaces
    expect((await client(gw.url).post('/v1/auth/sign-in', { email: 'OWNER@acme.TEST', password: PASSWORD })).status).toBe(200);
  });

  it('a wrong password and an unknown email get the same 401', async () => {
    const wrong = await client(gw.url).post('/v1/auth/sign-in', { email: 'owner@acme.test', password: 'not the password at all' });
    const unknown = await client(gw.url).post('/v1/auth/sign-in', { email: 'nobody@acme.test', password: 'not the password at all' });
    expectProblem(wrong, 401, 'wrong password');
    expectProblem(unknown, 401, 'unknown email');
    expect(wrong.body.detail).toBe(unknown.body.detail);
    expect(wrong.headers.getSetCookie()).toEqual([]);
  });

  it('the session cookie authenticates the ordinary API; a change needs x-csrf-token (403 without, or with a wrong one)', async () => {
    const b = await signIn(gw.url, 'owner@acme.test', PASSWORD);
    expect((await b.api.get('/v1/consumers')).status).toBe(200);
    const made = await b.api.post('/v1/consumers', { name: 'made in the dashboard' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expectProblem(await b.noCsrf.post('/v1/consumers', { name: 'forged' }), 403, 'no csrf');
    expectProblem(await b.noCsrf.post('/v1/consumers', { name: 'forged' }, { 'x-csrf-token': 'x'.repeat(43) }), 403, 'wrong csrf');
    expectProblem(await b.noCsrf.delete(`/v1/consumers/${made.body.id}`), 403, 'no csrf delete');
    // Another session's token does not fit this one.
    const other = await signIn(gw.url, 'owner@acme.test', PASSWORD);
    expectProblem(await b.noCsrf.post('/v1/consumers', { name: 'forged' }, { 'x-csrf-token': other.csrf }), 403, 'csrf of another session');
    const names = (await A.api.get('/v1/consumers')).body.data.map((c: { name: string }) => c.name);
    expect(names).toContain('made in the dashboard');
    expect(names).not.toContain('forged');
    // A key is unaffected by CSRF, even with a cookie alongside.
    expect((await A.api.post('/v1/consumers', { name: 'by key' }, { cookie: `tramline_session=${b.cookie}` })).status).toBe(201);
    // The change is audited as the user.
    const audit = await A.api.get('/v1/audit-log');
    expect(
      audit.body.data.some((e: { actor: string; action: string }) => e.action === 'consumer.create' && e.actor.startsWith('user:usr_')),
    ).toBe(true);
  });

  it('signs out: the cookie is cleared and stops working', async () => {
    const b = await signIn(gw.url, 'owner@acme.test', PASSWORD);
    expectProblem(await b.noCsrf.post('/v1/auth/sign-out'), 403, 'sign-out without csrf');
    const out = await b.api.post('/v1/auth/sign-out');
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().find((c) => c.startsWith('tramline_session='))).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
    expectProblem(await b.api.get('/v1/auth/session'), 401, 'after sign-out');
    expectProblem(await b.api.get('/v1/consumers'), 401, 'API after sign-out');
    expectProblem(await client(gw.url).get('/v1/auth/session'), 401, 'no cookie');
    expectProblem(await client(gw.url).get('/v1/auth/session', { cookie: 'tramline_session=tls_forged' }), 401, 'forged cookie');
    expectProblem(await A.api.get('/v1/auth/session'), 403, 'a key on a session route');
  });
});

describe('sessions can be listed and revoked', () => {
  it('lists the user’s own sessions with the current one marked; revoking one ends it at once', async () => {
    const laptop = await signIn(gw.url, 'owner@acme.test', PASSWORD);
    const phone = await signIn(gw.url, 'owner@acme.test', PASSWORD);
    const list = await laptop.api.get('/v1/auth/sessions');
    expect(list.status).toBe(200);
    const current = list.body.data.filter((s: { current: boolean }) => s.current);
    expect(current).toHaveLength(1);
    expect(list.body.data.length).toBeGreaterThanOrEqual(2);
    expect(list.body.data[0]).toMatchObject({
      id: expect.stringMatching(/^ses_/),
      ip: expect.any(String),
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
    });
    const phoneId = (await phone.api.get('/v1/auth/sessions')).body.data.find((s: { current: boolean }) => s.current).id;
    expectProblem(await laptop.noCsrf.delete(`/v1/auth/sessions/${phoneId}`), 403, 'revoke without csrf');
    expect((await laptop.api.delete(`/v1/auth/sessions/${phoneId}`)).status).toBe(204);
    expectProblem(await phone.api.get('/v1/consumers'), 401, 'revoked session');
    expect((await laptop.api.get('/v1/consumers')).status).toBe(200);
    expectProblem(await laptop.api.delete(`/v1/auth/sessions/${phoneId}`), 404, 'already revoked');
  });
});

describe('roles', () => {
  it('a viewer reads but changes nothing (403); a developer changes but cannot manage users or keys', async () => {
    const viewer = await userOf(gw, A, 'viewer@acme.test', 'viewer');
    const dev = await userOf(gw, A, 'dev@acme.test', 'developer');
    const owner = await signIn(gw.url, 'owner@acme.test', PASSWORD);

    expect((await viewer.api.get('/v1/consumers')).status).toBe(200);
    expectProblem(await viewer.api.post('/v1/consumers', { name: 'by viewer' }), 403, 'viewer creates');
    expectProblem(await viewer.api.get('/v1/users'), 403, 'viewer lists users');
    expectProblem(await viewer.api.get('/v1/api-keys'), 403, 'viewer lists keys');

    const c = await dev.api.post('/v1/consumers', { name: 'by developer' });
    expect(c.status).toBe(201);
    expectProblem(await viewer.api.delete(`/v1/consumers/${c.body.id}`), 403, 'viewer deletes');
    expect((await dev.api.post(`/v1/consumers/${c.body.id}/messages`, { eventType: 'x.y', payload: {} })).status).toBe(202);
    expectProblem(await dev.api.get('/v1/users'), 403, 'developer lists users');
    expectProblem(await dev.api.post('/v1/users', { email: 'new@acme.test', role: 'owner' }), 403, 'developer invites');
    expectProblem(await dev.api.get('/v1/api-keys'), 403, 'developer lists keys');
    expectProblem(await dev.api.post('/v1/api-keys', { name: 'k', scopes: ['admin'] }), 403, 'developer creates a key');

    expect((await owner.api.get('/v1/api-keys')).status).toBe(200);
    const users = await owner.api.get('/v1/users');
    expect(users.status).toBe(200);
    expect(users.body.data.map((u: { email: string }) => u.email).sort()).toEqual(['dev@acme.test', 'owner@acme.test', 'viewer@acme.test']);

    // A role change applies to the next request of a live session.
    expect((await owner.api.patch(`/v1/users/${viewer.id}`, { role: 'developer' })).body).toMatchObject({ role: 'developer' });
    expect((await viewer.api.post('/v1/consumers', { name: 'by promoted viewer' })).status).toBe(201);
    expect((await owner.api.patch(`/v1/users/${viewer.id}`, { role: 'viewer' })).status).toBe(200);
    expectProblem(await viewer.api.post('/v1/consumers', { name: 'demoted again' }), 403, 'demoted');
  });

  it('the last owner can be neither demoted nor deleted; deleting a user ends its sessions', async () => {
    const owner = await signIn(gw.url, 'owner@acme.test', PASSWORD);
    const me = (await owner.api.get('/v1/auth/session')).body.user.id;
    expectProblem(await owner.api.patch(`/v1/users/${me}`, { role: 'developer' }), 409, 'demote last owner');
    expectProblem(await owner.api.delete(`/v1/users/${me}`), 409, 'delete last owner');
    const temp = await userOf(gw, A, 'temp@acme.test', 'developer');
    expect((await owner.api.delete(`/v1/users/${temp.id}`)).status).toBe(204);
    expectProblem(await temp.api.get('/v1/consumers'), 401, 'deleted user’s session');
    expectProblem(await owner.api.delete(`/v1/users/${temp.id}`), 404, 'deleted twice');
    expectProblem(await owner.api.patch(`/v1/users/${me}`, { role: 'root' }), 400, 'unknown role');
  });
});

describe('invitations', () => {
  it('an owner invites; the invitee sets a password once and is signed in', async () => {
    const owner = await signIn(gw.url, 'owner@acme.test', PASSWORD);
    const inv = await owner.api.post('/v1/users', { email: 'New@Acme.test', role: 'developer' });
    expect(inv.status, JSON.stringify(inv.body)).toBe(201);
    expect(inv.body).toMatchObject({
      user: { email: 'new@acme.test', role: 'developer', status: 'invited' },
      inviteToken: expect.stringMatching(/^tli_/),
    });
    expect(inv.body.inviteUrl).toBe(`/app/accept-invite#token=${inv.body.inviteToken}`);
    // Invited, not yet able to sign in.
    expectProblem(await client(gw.url).post('/v1/auth/sign-in', { email: 'new@acme.test', password: PASSWORD }), 401, 'before accepting');
    expectProblem(
      await client(gw.url).post('/v1/auth/accept-invite', { token: inv.body.inviteToken, password: 'short' }),
      400,
      'short password',
    );

    const acc = await client(gw.url).post('/v1/auth/accept-invite', { token: inv.body.inviteToken, password: 'a new long password' });
    expect(acc.status, JSON.stringify(acc.body)).toBe(200);
    expect(acc.body).toMatchObject({ user: { email: 'new@acme.test', status: 'active', role: 'developer' }, tenant: { id: A.id } });
    const b = browser(gw.url, sessionCookieOf(acc)!, acc.body.csrfToken);
    expect((await b.api.get('/v1/consumers')).status).toBe(200);
    // Once only.
    expectProblem(
      await client(gw.url).post('/v1/auth/accept-invite', { token: inv.body.inviteToken, password: 'another long password' }),
      400,
      'reused',
    );
    expectProblem(
      await client(gw.url).post('/v1/auth/accept-invite', { token: 'tli_forged', password: 'another long password' }),
      400,
      'forged',
    );
    expect((await client(gw.url).post('/v1/auth/sign-in', { email: 'new@acme.test', password: 'a new long password' })).status).toBe(200);
    // An active user cannot be invited again.
    expectProblem(await owner.api.post('/v1/users', { email: 'new@acme.test', role: 'viewer' }), 409, 'already a user');
  });
});

describe('isolation between tenants', () => {
  it('one email in two tenants: the password chooses, or `tenant`; each session sees its own tenant only', async () => {
    await gw.operator.post(`/v1/tenants/${B.id}/users`, { email: 'owner@acme.test', password: 'the globex password' });
    const inB = await signIn(gw.url, 'owner@acme.test', 'the globex password');
    expect((await inB.api.get('/v1/auth/session')).body.tenant.id).toBe(B.id);
    const inA = await signIn(gw.url, 'owner@acme.test', PASSWORD);
    expect((await inA.api.get('/v1/auth/session')).body.tenant.id).toBe(A.id);

    const bUsers = (await inB.api.get('/v1/users')).body.data;
    expect(bUsers.map((u: { email: string }) => u.email)).toEqual(['owner@acme.test']);
    const aUsers = (await inA.api.get('/v1/users')).body.data as { id: string }[];
    expect(bUsers.some((u: { id: string }) => aUsers.some((a) => a.id === u.id))).toBe(false);
    // A's users and sessions are 404 from B.
    expectProblem(await inB.api.patch(`/v1/users/${aUsers[0]!.id}`, { role: 'viewer' }), 404, 'A’s user from B');
    expectProblem(await inB.api.delete(`/v1/users/${aUsers[0]!.id}`), 404, 'A’s user from B');
    const aSession = (await inA.api.get('/v1/auth/sessions')).body.data.find((s: { current: boolean }) => s.current).id;
    expectProblem(await inB.api.delete(`/v1/auth/sessions/${aSession}`), 404, 'A’s session from B');
    expect((await inA.api.get('/v1/consumers')).status).toBe(200);
    expect((await inB.api.get('/v1/consumers')).body.data).toEqual([]);
    // B's key lists B's users only.
    expect((await B.api.get('/v1/users')).body.data).toHaveLength(1);

    // Same password in both: ambiguous without `tenant` (409 naming both), chosen with it.
    await gw.operator.post(`/v1/tenants/${B.id}/users`, { email: 'both@acme.test', password: PASSWORD });
    await gw.operator.post(`/v1/tenants/${A.id}/users`, { email: 'both@acme.test', password: PASSWORD });
    const amb = await client(gw.url).post('/v1/auth/sign-in', { email: 'both@acme.test', password: PASSWORD });
    expectProblem(amb, 409, 'ambiguous');
    expect(amb.body.tenants.map((t: { id: string }) => t.id).sort()).toEqual([A.id, B.id].sort());
    const chosen = await signIn(gw.url, 'both@acme.test', PASSWORD, { tenant: B.id });
    expect((await chosen.api.get('/v1/auth/session')).body.tenant.id).toBe(B.id);
  });

  it('under the tenant role, users and sessions of another tenant are invisible (RLS)', async () => {
    for (const table of ['users', 'sessions']) {
      const seen = await gw.testDb.db.tenant(A.id, (q) =>
        q.query<{ others: number }>(`SELECT count(*) FILTER (WHERE tenant_id <> $1)::int AS others FROM ${table}`, [A.id]),
      );
      const truth = await gw.testDb.db.owner((q) =>
        q.query<{ others: number }>(`SELECT count(*) FILTER (WHERE tenant_id <> $1)::int AS others FROM ${table}`, [A.id]),
      );
      expect(truth.rows[0]!.others, table).toBeGreaterThan(0);
      expect(seen.rows[0]!.others, table).toBe(0);
    }
    await expect(gw.testDb.db.tenant(A.id, (q) => q.query('SELECT * FROM sign_in_throttle'))).rejects.toThrow(/permission denied/);
  });
});
