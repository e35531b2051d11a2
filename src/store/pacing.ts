import type { Queryable } from './db.ts';

/**
 * The atomic step of the fleet-wide rate limits (domain/pacing.ts) in Postgres: `tramline_reserve_slots`
 * (migration 0006) locks each key's row, takes up to n slots within the horizon and moves the next free slot
 * on, so two workers reserving together queue one behind the other. Keys are taken in order, so two batches
 * never deadlock. Answers, per key, how long after the database's now its first slot is (ms) and how many it took.
 */
export async function reserveSlots(
  q: Queryable,
  requests: ReadonlyArray<{ key: string; tenantId: string; intervalMs: number; toleranceMs: number; horizonMs: number; n: number }>,
): Promise<Map<string, { firstInMs: number; granted: number }>> {
  if (requests.length === 0) return new Map();
  const r = await q.query<{ key: string; first_in_ms: number; granted: number }>(
    `SELECT r.key, s.first_at_ms - extract(epoch FROM clock_timestamp()) * 1000 AS first_in_ms, s.granted
       FROM (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(key text, tenant_id text, interval_ms double precision,
               tolerance_ms double precision, horizon_ms double precision, n int) ORDER BY key) AS r,
            LATERAL tramline_reserve_slots(r.key, r.tenant_id, r.interval_ms, r.tolerance_ms, r.horizon_ms, r.n) AS s`,
    [
      JSON.stringify(
        requests.map((x) => ({
          key: x.key,
          tenant_id: x.tenantId,
          interval_ms: x.intervalMs,
          tolerance_ms: x.toleranceMs,
          horizon_ms: x.horizonMs,
          n: x.n,
        })),
      ),
    ],
    'tramline_reserve_slots',
  );
  return new Map(r.rows.map((x) => [x.key, { firstInMs: Number(x.first_in_ms), granted: Number(x.granted) }]));
}
