import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { sendProblem } from '../problem.ts';

export interface RateLimitOptions {
  /** Requests per window per API key; 0: no limit per key. */
  readonly perKey: number;
  /** Requests per window per tenant, all its keys together, for a tenant without a plan of its own; 0: no limit. */
  readonly perTenant: number;
  readonly windowMs: number;
  /** Counters shared by every replica; null: each process counts in its own memory. */
  readonly redis: Redis | null;
  /** Prefix of the Redis keys (TRAMLINE_REDIS_PREFIX). */
  readonly prefix: string;
  /** A tenant's plan: its own requests per second (null: none, the default above applies). */
  readonly planOf: (tenantId: string) => Promise<number | null>;
  readonly clock: () => Date;
}

/** How long a replica keeps a tenant's plan before reading it again: a change applies everywhere within this. */
export const PLAN_TTL_MS = 5_000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant's limit for this window, resolved once per request (0: none). */
    tenantLimit: number;
  }
}

/**
 * Abuse limits on the authenticated API: a fixed-window counter per API key, then one per tenant
 * (@fastify/rate-limit's stores: a Lua INCR + PEXPIRE in Redis, or an LRU in memory).
 *
 * The key is the authenticated principal, so this hook must be added after the auth hook (hooks of
 * one kind run in the order they were added). Routes without a tenant principal — health, readiness,
 * docs, the OpenAPI document, the operator's tenant administration — are not limited here;
 * requests refused by auth (401) never reach a counter either.
 *
 * The key's counter is checked first: a key over its limit does not consume its tenant's budget, so
 * one runaway key cannot lock out the tenant's other keys until the tenant as a whole is over.
 * Over a limit: 429 problem+json with Retry-After (seconds until the window resets).
 * In Redis the counters are `<TRAMLINE_REDIS_PREFIX>rl:…key:<keyId>` and `…tenant:<tenantId>` (the plugin
 * adds an infix of its own), each expiring with its window.
 */
export async function registerRateLimits(app: FastifyInstance, o: RateLimitOptions): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    // Fail open: when Redis is unreachable, requests pass (see src/redis.ts).
    skipOnError: true,
    ...(o.redis ? { redis: o.redis, nameSpace: `${o.prefix}rl:` } : {}),
  });
  app.decorateRequest('tenantLimit', 0);
  const byKey = app.createRateLimit({ max: o.perKey, timeWindow: o.windowMs, keyGenerator: (req) => `key:${principalKey(req)}` });
  const byTenant = app.createRateLimit({
    max: (req) => req.tenantLimit,
    timeWindow: o.windowMs,
    keyGenerator: (req) => `tenant:${principalTenant(req)}`,
  });
  const tenantLimit = planCache(o);

  app.addHook('onRequest', async (req, reply) => {
    const p = req.principal;
    if (!p || p.kind === 'operator') return;
    req.tenantLimit = await tenantLimit(p.tenantId);
    for (const [limiter, scope, max] of [
      [byKey, 'API key', o.perKey],
      [byTenant, 'tenant', req.tenantLimit],
    ] as const) {
      if (max === 0) continue;
      const r = await limiter(req);
      if (r.isAllowed) continue;
      if (r.isExceeded) return tooMany(req, reply, scope, r.max, o.windowMs, Math.max(1, r.ttlInSeconds));
      // The headers tell the key's own budget; the tenant's when only the tenant is limited.
      if (scope === 'API key' || o.perKey === 0) setHeaders(reply, r.max, r.remaining, r.ttlInSeconds);
    }
  });
}

/**
 * The tenant's requests per window: its plan (per second, scaled to the window) or the operator's default,
 * kept for PLAN_TTL_MS so a request costs no query. A failed read keeps the last known limit.
 */
function planCache(o: RateLimitOptions): (tenantId: string) => Promise<number> {
  const known = new Map<string, { limit: number; until: number }>();
  return async (tenantId) => {
    const now = o.clock().getTime();
    const hit = known.get(tenantId);
    if (hit && hit.until > now) return hit.limit;
    let limit = hit?.limit ?? o.perTenant;
    try {
      const plan = await o.planOf(tenantId);
      limit = plan === null ? o.perTenant : Math.max(1, Math.ceil((plan * o.windowMs) / 1000));
    } catch {
      // The database is away: keep what was known; the request itself will answer 503 if it needs the database.
    }
    if (known.size > 100_000) known.clear();
    known.set(tenantId, { limit, until: now + PLAN_TTL_MS });
    return limit;
  };
}

function principalKey(req: FastifyRequest): string {
  const p = req.principal;
  // A portal token counts as its consumer's own key, and against its tenant's budget.
  return !p || p.kind === 'operator' ? 'none' : p.kind === 'tenant' ? p.keyId : `portal:${p.consumerId}`;
}

function principalTenant(req: FastifyRequest): string {
  const p = req.principal;
  return !p || p.kind === 'operator' ? 'none' : p.tenantId;
}

function setHeaders(reply: FastifyReply, max: number, remaining: number, resetSeconds: number): void {
  reply.header('x-ratelimit-limit', max).header('x-ratelimit-remaining', remaining).header('x-ratelimit-reset', resetSeconds);
}

function tooMany(req: FastifyRequest, reply: FastifyReply, scope: string, max: number, windowMs: number, retryAfter: number): FastifyReply {
  req.log.warn({ scope, max }, 'rate limited');
  setHeaders(reply, max, 0, retryAfter);
  reply.header('retry-after', retryAfter);
  return sendProblem(
    reply,
    'RATE_LIMITED',
    `This ${scope} is over its limit of ${max} requests per ${windowMs / 1000} s; retry in ${retryAfter} s`,
    undefined,
    {
      limit: max,
      scope: scope === 'API key' ? 'key' : 'tenant',
    },
  );
}
