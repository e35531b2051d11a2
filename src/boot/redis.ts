import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The optional Redis (REDIS_URL) that replicas share rate-limit counters through.
 *
 * Decision: a gateway configured with Redis refuses to start when Redis cannot be reached (the
 * operator asked for shared limits), but once running, Redis going away never blocks the API:
 * commands fail fast (no offline queue, 500 ms timeout) and the rate limiter lets requests
 * through (fail open) while ioredis reconnects in the background.
 */
export async function openRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 5000,
  });
  let lastLog = 0;
  redis.on('error', (err: Error) => {
    // Reconnection attempts repeat the same error: one line every 10 s is enough.
    if (Date.now() - lastLog < 10_000) return;
    lastLog = Date.now();
    log.warn({ err: err.message }, 'redis unavailable: rate limits are not enforced until it is back');
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot connect to REDIS_URL: ${(err as Error).message}`);
  }
  return redis;
}
