import type { Queryable } from './db.ts';

/** System role only: failure counters of no tenant (see migration 0005). */
export async function lockedUntil(q: Queryable, keys: readonly string[], now: Date): Promise<Date | null> {
  const r = await q.query<{ until: Date | null }>(
    `SELECT max(locked_until) AS until FROM sign_in_throttle WHERE key = ANY($1::text[]) AND locked_until > $2`,
    [keys, now],
  );
  return r.rows[0]?.until ?? null;
}

/**
 * Counts one failure against `key`; a count older than `windowMs` starts again at 1. Returns the new count;
 * `lockMs(count)` (0: no lock) sets how long the key is locked from now.
 */
export async function recordFailure(
  q: Queryable,
  key: string,
  now: Date,
  windowMs: number,
  lockMs: (failures: number) => number,
): Promise<number> {
  const r = await q.query<{ failures: number }>(
    `INSERT INTO sign_in_throttle AS t (key, failures, last_failure_at) VALUES ($1, 1, $2)
     ON CONFLICT (key) DO UPDATE SET
       failures = CASE WHEN t.last_failure_at < $2::timestamptz - make_interval(secs => $3::float8 / 1000) THEN 1 ELSE t.failures + 1 END,
       last_failure_at = $2
     RETURNING failures`,
    [key, now, windowMs],
  );
  const failures = r.rows[0]!.failures;
  const ms = lockMs(failures);
  if (ms > 0) await q.query(`UPDATE sign_in_throttle SET locked_until = $2 WHERE key = $1`, [key, new Date(now.getTime() + ms)]);
  return failures;
}

export async function clearFailures(q: Queryable, key: string): Promise<void> {
  await q.query(`DELETE FROM sign_in_throttle WHERE key = $1`, [key]);
}
