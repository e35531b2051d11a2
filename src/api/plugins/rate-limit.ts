import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { sendProblem } from '../problem.ts';
import { ERRORS } from '../../errors.ts';

export interface RateLimitOptions {
  /** Requests per window per API key. */
  readonly perKey: number;
  /** Requests per window per tenant, all its keys together. */
  readonly perTenant: number;
  readonly windowMs: number;
  /** Counters shared by every replica; null: each process counts in its own memory. */
  readonly redis: Redis | null;
  /** Prefix of the Redis keys (TRAMLINE_REDIS_PREFIX). */
  readonly prefix: string;
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
  const byKey = app.createRateLimit({ max: o.perKey, timeWindow: o.windowMs, keyGenerator: (req) => `key:${principalKey(req)}` });
  const byTenant = app.createRateLimit({ max: o.perTenant, timeWindow: o.windowMs, keyGenerator: (req) => `tenant:${principalTenant(req)}` });

  app.addHook('onRequest', async (req, reply) => {
    const p = req.principal;
    if (!p || p.kind === 'operator') return;
    for (const [limiter, scope] of [
      [byKey, 'API key'],
      [byTenant, 'tenant'],
    ] as const) {
      const r = await limiter(req);
      if (r.isAllowed) continue;
      if (r.isExceeded) return tooMany(req, reply, scope, r.max, o.windowMs, Math.max(1, r.ttlInSeconds));
      if (scope === 'API key') setHeaders(reply, r.max, r.remaining, r.ttlInSeconds);
    }
  });
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
  return sendProblem(reply, 429, 'RATE_LIMITED', ERRORS.RATE_LIMITED.title, `This ${scope} is over its limit of ${max} requests per ${windowMs / 1000} s; retry in ${retryAfter} s`, undefined, {
    limit: max,
    scope: scope === 'API key' ? 'key' : 'tenant',
  });
}
