import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';

/** An endpoint under pressure or failing (domain/endpoint-health.ts); no row: healthy. */
const health = entity({
  endpointId: col<string>('endpoint_id'),
  maxInFlight: col<number>('max_in_flight'),
  pausedUntil: col<Date | null>('paused_until'),
  pressureStreak: col<number>('pressure_streak'),
  lastDecreaseAt: col<Date | null>('last_decrease_at'),
  failingSince: col<Date | null>('failing_since'),
  failedMessages: col<number>('failed_messages'),
  notified: col<boolean>('notified'),
});
export type HealthRow = Row<typeof health>;

/** The rows of these endpoints, locked until the transaction ends (two workers' outcomes apply one after the other). */
export async function lockHealth(q: Queryable, endpointIds: readonly string[]): Promise<Map<string, HealthRow>> {
  const r = await q.query<HealthRow>(
    `SELECT ${health.columns} FROM endpoint_health WHERE endpoint_id = ANY($1::text[]) ORDER BY endpoint_id FOR UPDATE`,
    [endpointIds],
  );
  return new Map(r.rows.map((x) => [x.endpointId, x]));
}

/** Writes the changed rows (one statement) and deletes those of endpoints healthy again. */
export async function saveHealth(q: Queryable, tenantId: string, rows: readonly HealthRow[], healthyIds: readonly string[]): Promise<void> {
  if (rows.length > 0) {
    await q.query(
      `INSERT INTO endpoint_health AS h (endpoint_id, tenant_id, max_in_flight, paused_until, pressure_streak, last_decrease_at, failing_since, failed_messages, notified, updated_at)
       SELECT r.endpoint_id, $2, r.max_in_flight, r.paused_until, r.pressure_streak, r.last_decrease_at, r.failing_since, r.failed_messages, r.notified, now()
         FROM jsonb_to_recordset($1::jsonb) AS r(endpoint_id text, max_in_flight real, paused_until timestamptz, pressure_streak int,
              last_decrease_at timestamptz, failing_since timestamptz, failed_messages int, notified boolean)
       ON CONFLICT (endpoint_id) DO UPDATE SET max_in_flight = excluded.max_in_flight, paused_until = excluded.paused_until,
         pressure_streak = excluded.pressure_streak, last_decrease_at = excluded.last_decrease_at, failing_since = excluded.failing_since,
         failed_messages = excluded.failed_messages, notified = excluded.notified, updated_at = now()`,
      [
        JSON.stringify(
          rows.map((x) => ({
            endpoint_id: x.endpointId,
            max_in_flight: x.maxInFlight,
            paused_until: x.pausedUntil,
            pressure_streak: x.pressureStreak,
            last_decrease_at: x.lastDecreaseAt,
            failing_since: x.failingSince,
            failed_messages: x.failedMessages,
            notified: x.notified,
          })),
        ),
        tenantId,
      ],
    );
  }
  if (healthyIds.length > 0) await q.query('DELETE FROM endpoint_health WHERE endpoint_id = ANY($1::text[])', [healthyIds]);
}
