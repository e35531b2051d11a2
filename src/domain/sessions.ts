import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../store/ids.ts';
import * as sessions from '../store/sessions.ts';
import * as users from '../store/users.ts';
import * as throttle from '../store/sign-in-throttle.ts';
import type { DomainDeps } from './deps.ts';
import { verifyDummy, verifyPassword } from './passwords.ts';
import { normalizeEmail, roleScopes, type Role } from './users.ts';
import type { Scope } from './api-keys.ts';

/**
 * Dashboard sessions.
 *
 * The cookie carries a random secret (`tls_` + 256 bits); the database keeps its SHA-256 only, so a
 * leaked table cannot be replayed. A session lives 7 days at most and ends after 24 hours unused;
 * it is revoked by sign-out, by the user (sessions list), or by deleting the user.
 *
 * CSRF: the token is HMAC-SHA256(cookie secret, "tramline csrf v1"). The server recomputes it from
 * the cookie on every state-changing request and compares it with the `x-csrf-token` header; a page
 * of another origin can neither read the cookie nor the token (the API sends no CORS credentials),
 * so it cannot forge the header. Nothing more is stored, and the token changes with the session.
 */
export const SESSION_PREFIX = 'tls_';
export const SESSION_TTL_MS = 7 * 24 * 3600_000;
export const SESSION_IDLE_MS = 24 * 3600_000;
/** last_seen_at is written at most this often per session (a busy dashboard must not write on every request). */
const TOUCH_EVERY_MS = 60_000;

export const hashToken = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
export const csrfTokenOf = (sessionSecret: string): string =>
  createHmac('sha256', sessionSecret).update('tramline csrf v1').digest('base64url');

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(sessionSecret: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(csrfTokenOf(sessionSecret)).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

// --- Throttling of failed sign-ins ---------------------------------------------

/**
 * Failures are counted per account (the email, whether or not it exists, so the answer says nothing
 * about existence) and per client address; a count restarts after an hour without failures.
 * From the 5th failure of an account (20th of an address) the key is locked for 30 s, doubling with
 * each further failure up to 15 minutes: sign-in then answers 429 with Retry-After, before any
 * password is checked. A success clears the account's count, not the address's (one valid account
 * must not reset an attacker's budget for the others).
 */
export const THROTTLE = {
  windowMs: 3600_000,
  accountThreshold: 5,
  ipThreshold: 20,
  baseLockMs: 30_000,
  maxLockMs: 15 * 60_000,
} as const;

export const lockMs = (failures: number, threshold: number): number =>
  failures < threshold ? 0 : Math.min(THROTTLE.maxLockMs, THROTTLE.baseLockMs * 2 ** Math.min(20, failures - threshold));

export const throttleKey = (kind: 'account' | 'ip', value: string): string =>
  `${kind}:${createHash('sha256').update(value).digest('base64url')}`;

// --- Sign-in ---------------------------------------------------------------------

export interface SignInInput {
  email: string;
  password: string;
  /** Needed only when the email has accounts in several tenants. */
  tenant?: string | undefined;
  ip: string | null;
  userAgent: string | null;
}

export interface SignedIn {
  /** The cookie value: shown to this browser only, never stored. */
  secret: string;
  csrfToken: string;
  session: sessions.Session;
  user: users.User;
  tenant: { id: string; name: string };
}

/** How many accounts of one email a sign-in checks at most (each check costs one argon2 verification). */
const MAX_ACCOUNTS_PER_EMAIL = 5;

export async function signIn(deps: DomainDeps, input: SignInInput): Promise<SignedIn> {
  const email = normalizeEmail(input.email);
  const now = deps.clock();
  const accountKey = throttleKey('account', email);
  const ipKey = input.ip ? throttleKey('ip', input.ip) : null;
  const keys = ipKey ? [accountKey, ipKey] : [accountKey];
  const locked = await deps.db.system((q) => throttle.lockedUntil(q, keys, now));
  if (locked) {
    const retryAfter = Math.max(1, Math.ceil((locked.getTime() - now.getTime()) / 1000));
    throw new AppError('RATE_LIMITED', `Too many failed sign-ins; retry in ${retryAfter} s`, { extra: { retryAfter } });
  }

  const all = await deps.db.system((q) => users.findCredentialsByEmail(q, email, MAX_ACCOUNTS_PER_EMAIL));
  const candidates = input.tenant ? all.filter((c) => c.tenantId === input.tenant) : all;
  const matches: users.Credentials[] = [];
  if (candidates.length === 0) await verifyDummy(input.password);
  for (const c of candidates) if (await verifyPassword(c.passwordHash, input.password)) matches.push(c);

  if (matches.length === 0) {
    await deps.db.system(async (q) => {
      await throttle.recordFailure(q, accountKey, now, THROTTLE.windowMs, (n) => lockMs(n, THROTTLE.accountThreshold));
      if (ipKey) await throttle.recordFailure(q, ipKey, now, THROTTLE.windowMs, (n) => lockMs(n, THROTTLE.ipThreshold));
    });
    throw new AppError('UNAUTHORIZED', 'The email or password is wrong');
  }
  if (matches.length > 1) {
    // Only someone who knows the password learns the tenants it opens.
    throw new AppError('CONFLICT', 'This email and password open several tenants: send `tenant` with one of their ids', {
      extra: { tenants: matches.map((m) => ({ id: m.tenantId, name: m.tenantName })) },
    });
  }
  const match = matches[0]!;
  await deps.db.system((q) => throttle.clearFailures(q, accountKey));
  return startSession(deps, match.tenantId, match.userId, { ip: input.ip, userAgent: input.userAgent });
}

/** Opens a session for a user already authenticated (sign-in, accepted invitation). */
export async function startSession(
  deps: DomainDeps,
  tenantId: string,
  userId: string,
  from: { ip: string | null; userAgent: string | null },
): Promise<SignedIn> {
  const secret = SESSION_PREFIX + randomBytes(32).toString('base64url');
  const now = deps.clock();
  return deps.db.tenant(tenantId, async (q) => {
    const session = await sessions.insertSession(q, {
      id: newId('ses'),
      tenantId,
      userId,
      tokenHash: hashToken(secret),
      ip: from.ip,
      userAgent: from.userAgent?.slice(0, 512) ?? null,
      now,
      expiresAt: new Date(now.getTime() + SESSION_TTL_MS),
    });
    await users.markSignedIn(q, userId);
    const user = (await users.getUser(q, userId))!;
    const tenant = await tenantName(q, tenantId);
    return { secret, csrfToken: csrfTokenOf(secret), session, user, tenant };
  });
}

async function tenantName(q: import('../store/db.ts').Queryable, tenantId: string): Promise<{ id: string; name: string }> {
  const r = await q.query<{ id: string; name: string }>('SELECT id, name FROM tenants WHERE id = $1', [tenantId]);
  return r.rows[0] ?? { id: tenantId, name: '' };
}

// --- Authenticating a request by its cookie ----------------------------------------

export interface SessionPrincipal {
  tenantId: string;
  userId: string;
  sessionId: string;
  role: Role;
  scopes: readonly Scope[];
}

export async function authenticateSession(deps: DomainDeps, secret: string): Promise<SessionPrincipal | null> {
  if (!secret.startsWith(SESSION_PREFIX) || secret.length > 100) return null;
  const now = deps.clock();
  const found = await deps.db.system((q) => sessions.findLiveSession(q, hashToken(secret), now, SESSION_IDLE_MS));
  if (!found) return null;
  if (now.getTime() - found.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await deps.db.tenant(found.tenantId, (q) => sessions.touchSession(q, found.sessionId, now));
  }
  return { tenantId: found.tenantId, userId: found.userId, sessionId: found.sessionId, role: found.role, scopes: roleScopes(found.role) };
}

/** The signed-in user's view of its session (GET /v1/auth/session). */
export async function describeSession(
  deps: DomainDeps,
  p: { tenantId: string; userId: string },
  secret: string,
): Promise<Omit<SignedIn, 'secret' | 'session'>> {
  return deps.db.tenant(p.tenantId, async (q) => {
    const user = await users.getUser(q, p.userId);
    if (!user) throw new AppError('UNAUTHORIZED', 'The session has ended');
    return { user, tenant: await tenantName(q, p.tenantId), csrfToken: csrfTokenOf(secret) };
  });
}

export const listSessions = (deps: DomainDeps, p: { tenantId: string; userId: string }): Promise<sessions.Session[]> =>
  deps.db.tenant(p.tenantId, (q) => sessions.listUserSessions(q, p.userId, deps.clock()));

export async function revokeSession(deps: DomainDeps, p: { tenantId: string; userId: string }, sessionId: string): Promise<void> {
  const done = await deps.db.tenant(p.tenantId, (q) => sessions.revokeSession(q, sessionId, p.userId));
  if (!done) throw notFound('Session');
}
