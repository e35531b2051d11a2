import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.ts';

export interface AuthFailureLimit {
  /** Failed authentications (401) allowed per client address in one window; over it, 429 until the window ends. */
  readonly max: number;
  readonly windowMs: number;
}

/**
 * Guessing keys must not be free: every guessed `tl_…` key costs a database look-up, and a flood of
 * them slowed everyone's requests. A client address that has failed authentication `max` times in the
 * current window is answered 429 (with Retry-After) before any look-up, until the window ends. Counted
 * per process, in memory (a fleet of N replicas allows N × max); the address is `request.ip`, which
 * honours TRAMLINE_TRUST_PROXY behind nginx or an ingress. Authenticated clients never count.
 */
export function registerAuthFailureLimit(app: FastifyInstance, o: AuthFailureLimit): void {
  let windowStart = Date.now();
  let failures = new Map<string, number>();
  const current = (now: number): Map<string, number> => {
    if (now - windowStart >= o.windowMs) {
      windowStart = now;
      failures = new Map();
    }
    return failures;
  };
  // Added before the auth hook, so a blocked address costs no look-up.
  app.addHook('onRequest', async (req, reply) => {
    if ((req.routeOptions.config.access ?? 'public') === 'public') return;
    const now = Date.now();
    if ((current(now).get(req.ip) ?? 0) < o.max) return;
    const retryAfter = Math.max(1, Math.ceil((windowStart + o.windowMs - now) / 1000));
    reply.header('retry-after', retryAfter);
    throw new AppError('RATE_LIMITED', `Too many failed authentications from this address; retry in ${retryAfter} s`);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode !== 401) return;
    const m = current(Date.now());
    m.set(req.ip, (m.get(req.ip) ?? 0) + 1);
  });
}
