/**
 * Repeated failed sign-ins: per account (5 failures → 429 with Retry-After, doubling) and per client
 * address (20 failures), checked before any password. Its own file (and database): the address lock
 * would hold every other sign-in of the file. Both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type Response } from '../helpers/client.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { PASSWORD } from '../helpers/dashboard.ts';

let gw: TestGateway;
let A: TestTenant;

beforeAll(async () => {
  gw = await startTestGateway();
  A = await createTenant(gw, 'Lock');
  for (const email of ['victim@lock.test', 'bystander@lock.test']) {
    const r = await gw.operator.post(`/v1/tenants/${A.id}/users`, { email, password: PASSWORD });
    expect(r.status).toBe(201);
  }
});
afterAll(async () => {
  await gw?.stop();
});

const signIn = (email: string, password: string): Promise<Response> => client(gw.url).post('/v1/auth/sign-in', { email, password });

function expectLocked(r: Response, min: number, max: number): void {
  expect(r.status, JSON.stringify(r.body)).toBe(429);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const retry = Number(r.headers.get('retry-after'));
  expect(retry).toBeGreaterThanOrEqual(min);
  expect(retry).toBeLessThanOrEqual(max);
  expect(r.body.retryAfter).toBe(retry);
}

/** Ends the locks (as time passing would), keeping the counts. */
const unlock = (): Promise<unknown> =>
  gw.testDb.db.owner((q) => q.query(`UPDATE sign_in_throttle SET locked_until = now() - interval '1 second'`));

describe('lock-out of an account', () => {
  it('the 5th failure locks the account for 30 s: even the right password answers 429 with Retry-After', async () => {
    for (let i = 1; i <= 5; i++) expect((await signIn('victim@lock.test', `wrong password ${i}`)).status, `failure ${i}`).toBe(401);
    expectLocked(await signIn('victim@lock.test', PASSWORD), 25, 30);
    expectLocked(await signIn('VICTIM@lock.test', PASSWORD), 25, 30);
    // Another account from the same address is not locked.
    expect((await signIn('bystander@lock.test', PASSWORD)).status).toBe(200);
    // An unknown email locks the same way (no account enumeration).
    for (let i = 1; i <= 5; i++) expect((await signIn('ghost@lock.test', `wrong ${i}`)).status).toBe(401);
    expectLocked(await signIn('ghost@lock.test', 'anything at all'), 25, 30);
  });

  it('each further failure doubles the lock; a success clears the count', async () => {
    await unlock();
    expect((await signIn('victim@lock.test', 'wrong again')).status).toBe(401);
    expectLocked(await signIn('victim@lock.test', PASSWORD), 55, 60);
    await unlock();
    expect((await signIn('victim@lock.test', PASSWORD)).status).toBe(200);
    const left = await gw.testDb.db.owner((q) =>
      q.query<{ n: number }>(`SELECT count(*)::int AS n FROM sign_in_throttle WHERE key LIKE 'account:%' AND failures >= 5`),
    );
    expect(left.rows[0]!.n).toBe(1); // the ghost's; the victim's count is gone
    // Counts are stored under hashes: no email or address in clear.
    const keys = await gw.testDb.db.owner((q) => q.query<{ key: string }>('SELECT key FROM sign_in_throttle'));
    for (const { key } of keys.rows) expect(key).not.toMatch(/@|127\.0\.0\.1/);
  });
});

describe('lock-out of an address', () => {
  it('20 failures from one address lock it for every account', async () => {
    const failures = await gw.testDb.db.owner((q) =>
      q.query<{ failures: number }>(`SELECT failures FROM sign_in_throttle WHERE key LIKE 'ip:%'`),
    );
    let count = failures.rows[0]!.failures; // 11 so far (6 victim, 5 ghost)
    expect(count).toBe(11);
    for (let i = 0; count < 20; i++, count++) expect((await signIn(`spray${i}@lock.test`, 'password spraying')).status).toBe(401);
    expectLocked(await signIn('bystander@lock.test', PASSWORD), 25, 30);
    expectLocked(await signIn('new@lock.test', 'anything at all'), 25, 30);
  });
});
