import { timingSafeEqual, createHash } from 'node:crypto';
import type {} from '@fastify/cookie'; // request.cookies (the plugin is registered in app.ts, before this hook)
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, notFound } from '../../errors.ts';
import { hasScope, type KeyAuthenticator, type Principal, type Scope } from '../../domain/api-keys.ts';
import { getConsumer } from '../../domain/consumers.ts';
import { PORTAL_TOKEN_PREFIX, verifyPortalToken } from '../../domain/portal-tokens.ts';
import type { ApiDeps } from '../types.ts';
import { bindLog } from './log-context.ts';
import { authenticateSession, csrfMatches } from '../../domain/sessions.ts';
import { canManageAccess } from '../../domain/users.ts';

/** The dashboard's session cookie (see src/api/routes/sessions.ts and docs/dashboard-api.md). */
export const SESSION_COOKIE = 'tramline_session';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * What a route needs: the operator token, a tenant key (or dashboard session) with a scope, a
 * dashboard session itself (sign-out, the session's own routes), or nothing (health, docs).
 */
export type Access = 'operator' | Scope | 'session' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /**
     * A portal token (one consumer of a tenant) may call this route too, whatever `access` says; its
     * `:consumer` must then be the token's consumer (404 otherwise). Routes without it answer 403 to portal tokens.
     */
    portal?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** The session cookie's secret, when a dashboard session authenticated the request. */
    sessionSecret: string | null;
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** What checking a portal token needs: its signing key, and the store to resolve a consumer's uid. */
export type PortalAuth = Pick<ApiDeps, 'db' | 'clock' | 'egressAllow' | 'cipher' | 'portal'>;

export function registerAuth(app: FastifyInstance, keys: KeyAuthenticator, operatorToken: string | undefined, portal: PortalAuth): void {
  const operatorDigest = operatorToken ? digest(operatorToken) : null;
  app.decorateRequest('principal', null);
  app.decorateRequest('sessionSecret', null);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    const token = bearer(request);
    if (!token) {
      // No key: a dashboard session cookie, for tenant routes (never the operator's).
      const cookie = access === 'operator' ? undefined : sessionCookie(request);
      if (cookie && access !== 'operator') return authenticateCookie(request, cookie, access, portal);
      throw new AppError('UNAUTHORIZED', access === 'session' ? 'Sign in first' : 'Send Authorization: Bearer <key>');
    }
    if (access === 'session') throw new AppError('FORBIDDEN', 'This route belongs to a dashboard session (cookie), not to a key');
    if (token.startsWith(PORTAL_TOKEN_PREFIX)) return authenticatePortal(request, token, portal);
    if (access === 'operator') {
      // Compare digests so the comparison takes the same time whatever the token's length.
      if (operatorDigest && timingSafeEqual(digest(token), operatorDigest)) {
        request.principal = { kind: 'operator' };
        return;
      }
      throw new AppError('UNAUTHORIZED', 'This route needs the operator token');
    }
    // The most common first mistake: the operator token where a tenant key belongs. Say so.
    if (operatorDigest && timingSafeEqual(digest(token), operatorDigest)) {
      throw new AppError('UNAUTHORIZED', 'this is an operator token; tenant routes need a tenant API key (tl_…)');
    }
    const principal = await keys.authenticate(token);
    if (!principal || principal.kind !== 'tenant') throw new AppError('UNAUTHORIZED', 'The API key is not valid or was revoked');
    if (!hasScope(principal.scopes, access)) throw new AppError('FORBIDDEN', `This key lacks the ${access} scope`);
    request.principal = principal;
    bindLog(request, { tenantId: principal.tenantId });
  });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Routes that, for a dashboard user, need the owner role on top of their scope: users and API keys. */
const OWNER_ONLY = /^\/v1\/(users|api-keys)(\/|$)/;

/**
 * A request authenticated by the session cookie: a tenant principal with the scopes of the user's
 * role (see domain/users.ts roleScopes), checked exactly like a key's, and RLS under its tenant.
 * Every state change must carry the session's CSRF token in `x-csrf-token` (403 otherwise);
 * requests with a key (Authorization header) never reach here and are unaffected.
 */
async function authenticateCookie(
  request: FastifyRequest,
  secret: string,
  access: Exclude<Access, 'public' | 'operator'>,
  deps: PortalAuth,
): Promise<void> {
  const s = await authenticateSession(deps, secret);
  if (!s) throw new AppError('UNAUTHORIZED', 'The session has ended or is not valid: sign in again');
  if (!SAFE_METHODS.has(request.method) && !csrfMatches(secret, headerValue(request.headers[CSRF_HEADER]))) {
    throw new AppError('FORBIDDEN', `A change made with a session cookie must carry the session's CSRF token in the ${CSRF_HEADER} header`);
  }
  if (access !== 'session') {
    if (!hasScope(s.scopes, access)) throw new AppError('FORBIDDEN', `The ${s.role} role may not do that (it lacks the ${access} scope)`);
    if (OWNER_ONLY.test(request.routeOptions.url ?? '') && !canManageAccess(s.role))
      throw new AppError('FORBIDDEN', 'Only an owner manages users and API keys');
  }
  request.principal = {
    kind: 'tenant',
    tenantId: s.tenantId,
    keyId: s.sessionId,
    scopes: s.scopes,
    session: { id: s.sessionId, userId: s.userId, role: s.role },
  };
  request.sessionSecret = secret;
  bindLog(request, { tenantId: s.tenantId });
}

function sessionCookie(request: FastifyRequest): string | undefined {
  return request.cookies?.[SESSION_COOKIE] || undefined;
}

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

async function authenticatePortal(request: FastifyRequest, token: string, deps: PortalAuth): Promise<void> {
  // Signature and expiry first: an invalid token learns nothing about the route (401 everywhere).
  const claims = verifyPortalToken(deps.portal.key, token, deps.clock());
  if (!claims) throw new AppError('UNAUTHORIZED', 'The portal token is not valid or has expired');
  if (request.routeOptions.config.portal !== true) throw new AppError('FORBIDDEN', 'A portal token may not use this route');
  const ref = (request.params as Record<string, unknown> | undefined)?.consumer;
  if (typeof ref === 'string' && ref !== claims.c) {
    // Addressed by uid (or another consumer altogether): one lookup in the token's tenant; anything but its consumer is 404.
    const consumer = await getConsumer(deps, claims.t, ref);
    if (consumer.id !== claims.c) throw notFound('Consumer');
  }
  request.principal = { kind: 'portal', tenantId: claims.t, consumerId: claims.c };
  bindLog(request, { tenantId: claims.t, consumerId: claims.c });
}

function bearer(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1]! : null;
}

/** The tenant of an authenticated tenant request (a tenant key or a portal token). */
export function tenantOf(request: FastifyRequest): string {
  const p = request.principal;
  if (!p || p.kind === 'operator') throw new AppError('UNAUTHORIZED');
  return p.tenantId;
}

export function keyOf(request: FastifyRequest): string | null {
  const p = request.principal;
  return p && p.kind === 'tenant' && !p.session ? p.keyId : null;
}

/** The dashboard session of the request (routes with access 'session'), with its cookie's secret. */
export function sessionOf(request: FastifyRequest): {
  tenantId: string;
  userId: string;
  sessionId: string;
  role: 'owner' | 'developer' | 'viewer';
  secret: string;
} {
  const p = request.principal;
  if (!p || p.kind !== 'tenant' || !p.session || !request.sessionSecret) throw new AppError('UNAUTHORIZED', 'Sign in first');
  return { tenantId: p.tenantId, userId: p.session.userId, sessionId: p.session.id, role: p.session.role, secret: request.sessionSecret };
}
