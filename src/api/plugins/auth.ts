import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, notFound } from '../../errors.ts';
import { hasScope, type KeyAuthenticator, type Principal, type Scope } from '../../domain/api-keys.ts';
import { getConsumer } from '../../domain/consumers.ts';
import { PORTAL_TOKEN_PREFIX, verifyPortalToken } from '../../domain/portal-tokens.ts';
import type { ApiDeps } from '../types.ts';
import { bindLog } from './log-context.ts';

/** What a route needs: the operator token, a tenant key with a scope, or nothing (health, docs). */
export type Access = 'operator' | Scope | 'public';

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
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** What checking a portal token needs: its signing key, and the store to resolve a consumer's uid. */
export type PortalAuth = Pick<ApiDeps, 'db' | 'clock' | 'egressAllow' | 'cipher' | 'portal'>;

export function registerAuth(app: FastifyInstance, keys: KeyAuthenticator, operatorToken: string | undefined, portal: PortalAuth): void {
  const operatorDigest = operatorToken ? digest(operatorToken) : null;
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    const token = bearer(request);
    if (!token) throw new AppError('UNAUTHORIZED', 'Send Authorization: Bearer <key>');
    if (token.startsWith(PORTAL_TOKEN_PREFIX)) return authenticatePortal(request, token, portal);
    if (access === 'operator') {
      // Compare digests so the comparison takes the same time whatever the token's length.
      if (operatorDigest && timingSafeEqual(digest(token), operatorDigest)) {
        request.principal = { kind: 'operator' };
        return;
      }
      throw new AppError('UNAUTHORIZED', 'This route needs the operator token');
    }
    const principal = await keys.authenticate(token);
    if (!principal || principal.kind !== 'tenant') throw new AppError('UNAUTHORIZED', 'The API key is not valid or was revoked');
    if (!hasScope(principal.scopes, access)) throw new AppError('FORBIDDEN', `This key lacks the ${access} scope`);
    request.principal = principal;
    bindLog(request, { tenantId: principal.tenantId });
  });
}

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
  return p && p.kind === 'tenant' ? p.keyId : null;
}
