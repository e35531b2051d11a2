import type { Db, Queryable } from '../store/db.ts';
import type { QueueSample } from './metrics.ts';

/** How long one database sample serves scrapes: a scrape every second still costs one query pair per 5 s. */
export const SAMPLE_TTL_MS = 5_000;

/**
 * The queue gauges' database sample, taken only when a scrape asks for it and at most once per
 * `ttlMs`; concurrent scrapes share the query in flight. A failed sample keeps the last good one
 * (the gauges go stale rather than vanish) and is retried on the next scrape.
 */
export function createQueueSampler(
  db: Db,
  o: { ttlMs?: number; clock?: () => number; onError?: (err: unknown) => void } = {},
): () => Promise<QueueSample | null> {
  const ttl = o.ttlMs ?? SAMPLE_TTL_MS;
  const clock = o.clock ?? Date.now;
  let last: QueueSample | null = null;
  let takenAt = -Infinity;
  let inFlight: Promise<QueueSample | null> | null = null;
  return () => {
    if (clock() - takenAt < ttl) return Promise.resolve(last);
    inFlight ??= db
      .system(sampleQueue)
      .then(
        (s) => {
          last = s;
          takenAt = clock();
          return s;
        },
        (err: unknown) => {
          o.onError?.(err);
          return last;
        },
      )
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
}

/** Two cheap statements over the partial indexes on pending and sending deliveries. */
async function sampleQueue(q: Queryable): Promise<QueueSample> {
  const counts = await q.query<{ due: number; scheduled: number; leased: number; oldest: number }>(
    `SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending' AND next_attempt_at <= now())::int AS due,
            (SELECT count(*) FROM deliveries WHERE state = 'pending' AND next_attempt_at > now())::int AS scheduled,
            (SELECT count(*) FROM deliveries WHERE state = 'sending')::int AS leased,
            greatest(0, coalesce(extract(epoch FROM now() - (SELECT min(next_attempt_at) FROM deliveries WHERE state = 'pending')), 0))::float8 AS oldest`,
  );
  // Waiting for a retry = pending after at least one attempt in the current round.
  const failing = await q.query<{ tenant_id: string; endpoint_id: string; n: number }>(
    `SELECT tenant_id, endpoint_id, count(*)::int AS n FROM deliveries
      WHERE state = 'pending' AND attempts > round_start
      GROUP BY tenant_id, endpoint_id ORDER BY n DESC, endpoint_id LIMIT 20`,
  );
  const c = counts.rows[0]!;
  return {
    due: c.due,
    scheduled: c.scheduled,
    leased: c.leased,
    oldestDueAgeSeconds: Number(c.oldest),
    failing: failing.rows.map((r) => ({ tenant: r.tenant_id, endpoint: r.endpoint_id, waiting: r.n })),
  };
}
