/**
 * Self-service password reset (issue 9): a one-time link issued by an owner, an admin key or the operator;
 * stored hashed, expiring, single use; setting the password ends every session of the user. Both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type Response } from '../helpers/client.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { PASSWORD, signIn, userOf } from '../helpers/dashboard.ts';
import { runTramline } from '../helpers/process.ts';

let gw: TestGateway;
let A: TestTenant;
let B: TestTenant;
const NEW_PASSWORD = 'a brand new password for ada';

beforeAll(async () => {
  gw = await startTestGateway();
  A = await createTenant(gw, 'Acme');
  B = await createTenant(gw, 'Globex');
});
afterAll(() => gw?.stop());

function expectProblem(r: Response, status: number, field?: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get('content-type') ?? '').toMatch(/^application\/problem\+json/);
  if (field) expect((r.body.errors as Array<{ field: string }>).map((e) => e.field)).toContain(field);
}

const reset = (token: string, password = NEW_PASSWORD) => client(gw.url).post('/v1/auth/reset-password', { token, password });
const signInStatus = async (email: string, password: string, tenant: string) =>
  (await client(gw.url).post('/v1/auth/sign-in', { email, password, tenant })).status;

describe('password reset', () => {
  it('an owner issues a link; the user sets a new password with it once; every session of the user ends', async () => {
    const owner = await userOf(gw, A, 'owner@acme.test');
    const ada = await userOf(gw, A, 'ada@acme.test', 'developer');
    const adaOnPhone = await signIn(gw.url, 'ada@acme.test', PASSWORD, { tenant: A.id });
    expect((await ada.api.get('/v1/auth/session')).status).toBe(200);

    const issued = await owner.api.post(`/v1/users/${ada.id}/password-reset`, {});
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    expect(issued.body.resetToken).toMatch(/^tlr_[A-Za-z0-9_-]{43}$/);
    expect(issued.body.resetUrl).toMatch(new RegExp(`/app/reset-password#token=${issued.body.resetToken}$`));
    expect(issued.body.user).toMatchObject({ id: ada.id, email: 'ada@acme.test' });
    const ttl = Date.parse(issued.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(50 * 60_000);
    expect(ttl).toBeLessThanOrEqual(3600_000);

    // Stored as a hash only.
    const rows = await gw.testDb.db.owner((q) =>
      q.query<{ token_hash: string }>('SELECT token_hash FROM password_resets WHERE user_id = $1', [ada.id]),
    );
    expect(rows.rows).toHaveLength(1);
    expect(JSON.stringify(rows.rows)).not.toContain(issued.body.resetToken);
    expect(JSON.stringify(rows.rows)).not.toContain(issued.body.resetToken.slice(4));

    expectProblem(await reset(issued.body.resetToken, 'short'), 400, 'body.password');
    const done = await reset(issued.body.resetToken);
    expect(done.status, JSON.stringify(done.body)).toBe(204);
    // Every session of the user is over; the owner's is not.
    expect((await ada.api.get('/v1/auth/session')).status).toBe(401);
    expect((await adaOnPhone.api.get('/v1/auth/session')).status).toBe(401);
    expect((await owner.api.get('/v1/auth/session')).status).toBe(200);
    expect(await signInStatus('ada@acme.test', PASSWORD, A.id)).toBe(401);
    expect(await signInStatus('ada@acme.test', NEW_PASSWORD, A.id)).toBe(200);
    // Once only.
    expectProblem(await reset(issued.body.resetToken, 'yet another password 123'), 400, 'body.token');
    expect(await signInStatus('ada@acme.test', 'yet another password 123', A.id)).toBe(401);

    const audit = (await A.api.get('/v1/audit-log?limit=50')).body.data as Array<{ action: string; actor: string; target: string }>;
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'user.password_reset.issue', actor: `user:${owner.id}`, target: ada.id }),
    );
    expect(audit).toContainEqual(expect.objectContaining({ action: 'user.reset_password', actor: `user:${ada.id}`, target: ada.id }));
  });

  it('refuses an expired link, an unknown one, and one replaced by a newer link', async () => {
    const bob = await userOf(gw, A, 'bob@acme.test', 'viewer');
    const first = (await A.api.post(`/v1/users/${bob.id}/password-reset`, {})).body.resetToken as string;
    const second = (await A.api.post(`/v1/users/${bob.id}/password-reset`, {})).body.resetToken as string;
    expectProblem(await reset(first), 400, 'body.token');

    await gw.testDb.db.owner((q) =>
      q.query(`UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [bob.id]),
    );
    expectProblem(await reset(second), 400, 'body.token');
    expectProblem(await reset(`tlr_${'x'.repeat(43)}`), 400, 'body.token');
    expectProblem(await reset('tli_not-a-reset'), 400, 'body.token');
    expectProblem(
      await client(gw.url).post('/v1/auth/reset-password', { token: second, password: NEW_PASSWORD, extra: 1 }),
      400,
      'body.extra',
    );
    expect(await signInStatus('bob@acme.test', PASSWORD, A.id)).toBe(200);
  });

  it('only owners and admin keys issue links, for active users of their own tenant', async () => {
    const dev = await userOf(gw, A, 'dev@acme.test', 'developer');
    const viewer = await userOf(gw, A, 'viewer@acme.test', 'viewer');
    expectProblem(await dev.api.post(`/v1/users/${viewer.id}/password-reset`, {}), 403);
    expectProblem(await viewer.api.post(`/v1/users/${viewer.id}/password-reset`, {}), 403);
    const readKey = (await A.api.post('/v1/api-keys', { name: 'ro', scopes: ['read'] })).body.apiKey as string;
    expectProblem(await client(gw.url, readKey).post(`/v1/users/${viewer.id}/password-reset`, {}), 403);
    // Another tenant's user is not found (row-level security), and an invited user gets an invitation instead.
    expectProblem(await B.api.post(`/v1/users/${viewer.id}/password-reset`, {}), 404);
    const invited = await A.api.post('/v1/users', { email: 'new@acme.test', role: 'viewer' });
    expectProblem(await A.api.post(`/v1/users/${invited.body.user.id}/password-reset`, {}), 409);
  });

  it('the operator issues a link by email; it also lifts the lock-out of failed sign-ins', async () => {
    await gw.operator.post(`/v1/tenants/${B.id}/users`, { email: 'cy@globex.test', password: PASSWORD });
    for (let i = 0; i < 5; i++) expect(await signInStatus('cy@globex.test', 'wrong password!!', B.id)).toBe(401);
    expect(await signInStatus('cy@globex.test', PASSWORD, B.id)).toBe(429);

    const issued = await gw.operator.post(`/v1/tenants/${B.id}/password-resets`, { email: 'CY@globex.test' });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    expectProblem(await gw.operator.post(`/v1/tenants/${B.id}/password-resets`, { email: 'nobody@globex.test' }), 404);
    expectProblem(await gw.operator.post(`/v1/tenants/${B.id}/password-resets`, { email: 'not an email' }), 400, 'body.email');
    expectProblem(await B.api.post(`/v1/tenants/${B.id}/password-resets`, { email: 'cy@globex.test' }), 401);

    expect((await reset(issued.body.resetToken)).status).toBe(204);
    expect(await signInStatus('cy@globex.test', NEW_PASSWORD, B.id)).toBe(200);
    const audit = (await B.api.get('/v1/audit-log?limit=50')).body.data as Array<{ action: string; actor: string }>;
    expect(audit).toContainEqual(expect.objectContaining({ action: 'user.password_reset.issue', actor: 'operator' }));
  });

  // The CLI opens the database itself: a Postgres server it can reach. (The PGlite suite's database lives
  // in this test process, where no other process can open it.)
  it('`tramline users reset-password` prints a link that works', async (ctx) => {
    if (!gw.testDb.url) return ctx.skip('the PGlite test database is in this process; the CLI cannot open it');
    await gw.operator.post(`/v1/tenants/${B.id}/users`, { email: 'dee@globex.test', password: PASSWORD });
    const run = await runTramline(
      ['users', 'reset-password', '--tenant', B.id, '--email', 'dee@globex.test'],
      { DATABASE_URL: gw.testDb.url },
      60_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const token = /#token=(tlr_[A-Za-z0-9_-]+)$/m.exec(run.stdout)?.[1];
    expect(run.stdout).toMatch(/^Password reset for dee@globex\.test \(usr_\w+\), valid once until \S+:$/m);
    expect((await reset(token!)).status).toBe(204);
    expect(await signInStatus('dee@globex.test', NEW_PASSWORD, B.id)).toBe(200);
  });
});
