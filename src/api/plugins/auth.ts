import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { hasScope, type KeyAuthenticator, type Principal, type Scope } from '../../domain/api-keys.ts';

/** What a route needs: the operator token, a tenant key with a scope, or nothing (health, docs). */
export type Access = 'operator' | Scope | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function registerAuth(app: FastifyInstance, keys: KeyAuthenticator, operatorToken: string | undefined): void {
  const operatorDigest = operatorToken ? digest(operatorToken) : null;
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    const token = bearer(request);
    if (!token) throw new AppError('UNAUTHORIZED', 'Send Authorization: Bearer <key>');
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
    request.log = request.log.child({ tenantId: principal.tenantId });
  });
}

function bearer(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1]! : null;
}

/** The tenant of an authenticated tenant request. */
export function tenantOf(request: FastifyRequest): string {
  const p = request.principal;
  if (!p || p.kind !== 'tenant') throw new AppError('UNAUTHORIZED');
  return p.tenantId;
}

export function keyOf(request: FastifyRequest): string | null {
  const p = request.principal;
  return p && p.kind === 'tenant' ? p.keyId : null;
}
