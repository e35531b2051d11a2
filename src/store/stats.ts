import type { Queryable } from './db.ts';

/**
 * A tenant's traffic by time bucket, read under its row-level security (the tenant role). Buckets are
 * numbered floor(epoch seconds / step), so they are aligned on multiples of the step whatever the range.
 * Each statement uses the (tenant_id, time) indexes of migration 0005.
 */
export interface BucketCounts {
  published: Map<number, number>;
  attempts: Map<number, { delivered: number; failed: number }>;
  latency: Map<number, { p50: number; p95: number; p99: number }>;
}

export async function bucketCounts(q: Queryable, tenantId: string, from: Date, to: Date, stepSeconds: number): Promise<BucketCounts> {
  const published = await q.query<{ b: number; n: number }>(
    `SELECT floor(extract(epoch FROM created_at) / $4)::float8 AS b, count(*)::int AS n
       FROM messages WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY 1`,
    [tenantId, from, to, stepSeconds],
  );
  const attempts = await q.query<{ b: number; delivered: number; failed: number }>(
    `SELECT floor(extract(epoch FROM started_at) / $4)::float8 AS b,
            count(*) FILTER (WHERE outcome = 'succeeded')::int AS delivered,
            count(*) FILTER (WHERE outcome = 'failed')::int AS failed
       FROM attempts WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 GROUP BY 1`,
    [tenantId, from, to, stepSeconds],
  );
  // Publish → end of the delivery's first successful attempt (in the range), in milliseconds.
  const latency = await q.query<{ b: number; p50: number; p95: number; p99: number }>(
    `WITH firsts AS (
       SELECT DISTINCT ON (a.delivery_id) a.message_id, a.started_at, a.started_at + a.duration_ms * interval '1 millisecond' AS done_at
         FROM attempts a
        WHERE a.tenant_id = $1 AND a.outcome = 'succeeded' AND a.started_at >= $2 AND a.started_at < $3
        ORDER BY a.delivery_id, a.started_at
     ), lat AS (
       SELECT floor(extract(epoch FROM f.started_at) / $4)::float8 AS b,
              greatest(0, extract(epoch FROM f.done_at - m.created_at) * 1000)::float8 AS ms
         FROM firsts f JOIN messages m ON m.id = f.message_id
     )
     SELECT b,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
       FROM lat GROUP BY b`,
    [tenantId, from, to, stepSeconds],
  );
  return {
    published: new Map(published.rows.map((r) => [Number(r.b), r.n])),
    attempts: new Map(attempts.rows.map((r) => [Number(r.b), { delivered: r.delivered, failed: r.failed }])),
    latency: new Map(latency.rows.map((r) => [Number(r.b), { p50: Number(r.p50), p95: Number(r.p95), p99: Number(r.p99) }])),
  };
}

export interface TenantQueue {
  due: number;
  scheduled: number;
  oldestDueAgeSeconds: number;
}

/** The tenant's pending deliveries: due now, scheduled later, and how long the oldest due one has waited. */
export async function tenantQueue(q: Queryable, tenantId: string, now: Date): Promise<TenantQueue> {
  const r = await q.query<{ due: number; scheduled: number; oldest: number }>(
    `SELECT count(*) FILTER (WHERE next_attempt_at <= $2)::int AS due,
            count(*) FILTER (WHERE next_attempt_at > $2)::int AS scheduled,
            greatest(0, coalesce(extract(epoch FROM $2::timestamptz - min(next_attempt_at) FILTER (WHERE next_attempt_at <= $2)), 0))::float8 AS oldest
       FROM deliveries WHERE tenant_id = $1 AND state = 'pending'`,
    [tenantId, now],
  );
  const x = r.rows[0]!;
  return { due: x.due, scheduled: x.scheduled, oldestDueAgeSeconds: Number(x.oldest) };
}
