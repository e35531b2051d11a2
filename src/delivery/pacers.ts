import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { intervalMs, PACE_HORIZON_MS, toleranceMs, type PaceRequest, type Pacer, type Reservation } from '../domain/pacing.ts';
import type { Db } from '../store/db.ts';
import { reserveSlots } from '../store/pacing.ts';

/**
 * Where the fleet-wide rate limits keep their slots: a row per key in Postgres (the default: no other moving
 * part), or a key per limit in Redis when REDIS_URL is set (the claim's database round trip is spared the
 * row locks). Both take the same atomic step (domain/pacing.ts reserve) on their own clock.
 */
const wire = (requests: readonly PaceRequest[]) =>
  requests.map((r) => ({
    key: r.key,
    tenantId: r.tenantId,
    intervalMs: intervalMs(r.rule),
    toleranceMs: toleranceMs(r.rule),
    horizonMs: PACE_HORIZON_MS,
    n: r.n,
  }));

export function createPostgresPacer(db: Db): Pacer {
  return {
    async reserve(requests) {
      if (requests.length === 0) return new Map();
      return db.system((q) => reserveSlots(q, wire(requests)));
    },
  };
}

// reserve() of domain/pacing.ts in one script (atomic in Redis), on Redis' clock. The key lives while its
// next slot is ahead of now, plus a margin (gone, it is as good as idle).
const RESERVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local out = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[(i - 1) * 4 + 1])
  local tolerance = tonumber(ARGV[(i - 1) * 4 + 2])
  local horizon = tonumber(ARGV[(i - 1) * 4 + 3])
  local n = tonumber(ARGV[(i - 1) * 4 + 4])
  local first = now - tolerance
  local tat = tonumber(redis.call('GET', key))
  if tat and tat > first then first = tat end
  local granted = math.min(n, math.max(0, math.floor((now + horizon - first) / interval) + 1))
  local nextSlot = first + granted * interval
  redis.call('SET', key, string.format('%.3f', nextSlot), 'PX', math.ceil(math.max(0, nextSlot - now) + tolerance + 60000))
  out[i * 2 - 1] = string.format('%.3f', first - now)
  out[i * 2] = granted
end
return out`;

/** Redis for the slots; while Redis is unreachable, Postgres (limits hold either way, counted in two places for a moment). */
export function createRedisPacer(redis: Redis, prefix: string, fallback: Pacer, log: Logger): Pacer {
  let lastWarn = 0;
  return {
    async reserve(requests) {
      if (requests.length === 0) return new Map();
      const w = wire(requests);
      try {
        const res = (await redis.eval(
          RESERVE_SCRIPT,
          w.length,
          ...w.map((r) => `${prefix}pace:${r.key}`),
          ...w.flatMap((r) => [r.intervalMs, r.toleranceMs, r.horizonMs, r.n]),
        )) as Array<string | number>;
        return new Map(w.map((r, i): [string, Reservation] => [r.key, { firstInMs: Number(res[i * 2]), granted: Number(res[i * 2 + 1]) }]));
      } catch (err) {
        if (Date.now() - lastWarn > 10_000) {
          lastWarn = Date.now();
          log.warn({ err: (err as Error).message }, 'redis unavailable: rate-limit slots are reserved in Postgres until it is back');
        }
        return fallback.reserve(requests);
      }
    },
  };
}
