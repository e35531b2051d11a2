import { client, type Client, type Response } from './client.ts';
import type { TestGateway, TestTenant } from './gateway.ts';

/** A browser's view of the dashboard API: the session cookie on every request, the CSRF header on changes. */
export interface Browser {
  /** The cookie jar's session value ('' once cleared). */
  cookie: string;
  csrf: string;
  /** With the cookie and the CSRF header. */
  api: Client;
  /** With the cookie only (what a forged cross-site request would carry). */
  noCsrf: Client;
}

export function sessionCookieOf(r: Response): string | null {
  const set = r.headers.getSetCookie().find((c) => c.startsWith('tramline_session='));
  return set ? set.slice('tramline_session='.length).split(';')[0]! : null;
}

export function browser(url: string, cookie: string, csrf: string): Browser {
  const b: Browser = {
    cookie,
    csrf,
    api: withHeaders(url, () => ({ cookie: `tramline_session=${b.cookie}`, 'x-csrf-token': b.csrf })),
    noCsrf: withHeaders(url, () => ({ cookie: `tramline_session=${b.cookie}` })),
  };
  return b;
}

function withHeaders(url: string, extra: () => Record<string, string>): Client {
  const c = client(url);
  return {
    get: (p, h) => c.get(p, { ...extra(), ...h }),
    post: (p, body, h) => c.post(p, body, { ...extra(), ...h }),
    patch: (p, body, h) => c.patch(p, body, { ...extra(), ...h }),
    delete: (p, h) => c.delete(p, { ...extra(), ...h }),
    raw: (m, p, body, h) => c.raw(m, p, body, { ...extra(), ...h }),
  };
}

export async function signIn(url: string, email: string, password: string, extra: Record<string, unknown> = {}): Promise<Browser> {
  const r = await client(url).post('/v1/auth/sign-in', { email, password, ...extra });
  if (r.status !== 200) throw new Error(`sign-in answered ${r.status}: ${JSON.stringify(r.body)}`);
  const cookie = sessionCookieOf(r);
  if (!cookie) throw new Error('sign-in set no session cookie');
  return browser(url, cookie, (r.body as { csrfToken: string }).csrfToken);
}

export const PASSWORD = 'correct horse battery staple';

/** Creates a user with the operator token (owner unless `role` says otherwise) and signs it in. */
export async function userOf(
  gw: TestGateway,
  t: TestTenant,
  email: string,
  role: 'owner' | 'developer' | 'viewer' = 'owner',
): Promise<Browser & { id: string }> {
  const r = await gw.operator.post(`/v1/tenants/${t.id}/users`, { email, password: PASSWORD, role });
  if (r.status !== 201) throw new Error(`user creation answered ${r.status}: ${JSON.stringify(r.body)}`);
  const b = await signIn(gw.url, email, PASSWORD, { tenant: t.id });
  return Object.assign(b, { id: (r.body as { id: string }).id });
}
