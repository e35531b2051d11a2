import { createHash, randomBytes } from 'node:crypto';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../store/ids.ts';
import * as keys from '../store/api-keys.ts';
import type { Queryable } from '../store/db.ts';
import type { Page, PageQuery } from '../store/page.ts';
import type { DomainDeps } from './deps.ts';

export type Scope = keys.Scope;
export const SCOPES: readonly Scope[] = ['admin', 'publish', 'read'];

/** Who is calling: the operator (tenant administration only), a tenant's key, or a portal token (one consumer of a tenant). */
export type Principal =
  | { kind: 'operator' }
  | {
      kind: 'tenant';
      tenantId: string;
      /** The API key's id; for a dashboard session, the session's id (rate limits count per session). */
      keyId: string;
      scopes: readonly Scope[];
      /** Present when a dashboard user's session cookie authenticated the request (not a key). */
      session?: { id: string; userId: string; role: 'owner' | 'developer' | 'viewer' };
    }
  | { kind: 'portal'; tenantId: string; consumerId: string };

const KEY_PREFIX = 'tl_';

// Keys carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
const hashKey = (secret: string): string => createHash('sha256').update(secret).digest('base64url');

export interface CreatedKey {
  key: keys.ApiKey;
  /** The key in clear: shown once, never stored. */
  secret: string;
}

export async function issueKey(q: Queryable, tenantId: string, name: string, scopes: Scope[]): Promise<CreatedKey> {
  const secret = KEY_PREFIX + randomBytes(32).toString('base64url');
  const key = await keys.insertApiKey(q, { id: newId('key'), tenantId, name, prefix: secret.slice(0, 10), hash: hashKey(secret), scopes });
  return { key, secret };
}

/**
 * Resolves keys to their tenant. Answers are cached per process for `ttlMs`, so a busy key costs
 * no database round trip per request; a key revoked elsewhere stops working within that time
 * (at once in the process that revoked it, which calls `forget`).
 */
export interface KeyAuthenticator {
  authenticate(secret: string): Promise<Principal | null>;
  forget(): void;
}

export function createKeyAuthenticator(deps: DomainDeps, ttlMs = 2_000, maxEntries = 10_000): KeyAuthenticator {
  const cache = new Map<string, { principal: Principal | null; until: number }>();
  return {
    async authenticate(secret) {
      if (!secret.startsWith(KEY_PREFIX)) return null;
      const hash = hashKey(secret);
      const now = deps.clock().getTime();
      const cached = cache.get(hash);
      if (cached && cached.until > now) return cached.principal;
      const key = await deps.db.system(async (q) => {
        const k = await keys.findActiveKeyByHash(q, hash);
        if (k) await keys.touchApiKey(q, k.id);
        return k;
      });
      const principal: Principal | null = key ? { kind: 'tenant', tenantId: key.tenantId, keyId: key.id, scopes: key.scopes } : null;
      if (cache.size >= maxEntries) cache.clear(); // a crude bound: it refills within a request per key
      cache.set(hash, { principal, until: now + ttlMs });
      return principal;
    },
    forget: () => cache.clear(),
  };
}

export function hasScope(granted: readonly Scope[], needed: Scope): boolean {
  return granted.includes('admin') || granted.includes(needed);
}

export const createKey = (deps: DomainDeps, tenantId: string, input: { name?: string | undefined; scopes: Scope[] }): Promise<CreatedKey> =>
  deps.db.tenant(tenantId, (q) => issueKey(q, tenantId, input.name ?? '', [...new Set(input.scopes)]));

export const listKeys = (deps: DomainDeps, tenantId: string, page: PageQuery): Promise<Page<keys.ApiKey>> =>
  deps.db.tenant(tenantId, (q) => keys.listApiKeys(q, page));

export async function revokeKey(deps: DomainDeps, tenantId: string, id: string, callerKeyId: string | null): Promise<void> {
  if (id === callerKeyId) throw new AppError('CONFLICT', 'A key cannot revoke itself; use another admin key');
  const found = await deps.db.tenant(tenantId, (q) => keys.revokeApiKey(q, id));
  if (!found) throw notFound('API key');
}
