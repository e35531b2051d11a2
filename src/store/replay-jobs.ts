import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';
import { DELIVERY_CHANNEL } from './deliveries.ts';

/** What a bulk replay resends: every message of the consumer matching all the fields given. */
export interface ReplayFilter {
  eventTypes?: string[] | undefined;
  channel?: string | undefined;
  /** ISO date-times, as stored in the job's jsonb. */
  since?: string | undefined;
  until?: string | undefined;
  /** The message's delivery state at this endpoint; `none`: it has no delivery there. */
  status?: Array<'succeeded' | 'failed' | 'skipped' | 'none'> | undefined;
}

const job = entity({
  id: col<string>('id'),
  endpointId: col<string>('endpoint_id'),
  state: col<'running' | 'completed' | 'failed'>('state'),
  filter: col<ReplayFilter>('filter'),
  total: col<number>('total'),
  queued: col<number>('queued'),
  error: col<string | null>('error'),
  createdAt: col<Date>('created_at'),
  updatedAt: col<Date>('updated_at'),
  finishedAt: col<Date | null>('finished_at'),
});
export type ReplayJob = Row<typeof job>;

/** The matching condition over `messages m`, parameters $1 (consumer), $2 (endpoint), then $3.. from `filterParams`. */
const MATCH = `m.consumer_id = $1
  AND ($3::text[] IS NULL OR m.event_type = ANY($3))
  AND ($4::text IS NULL OR $4 = ANY(m.channels))
  AND ($5::timestamptz IS NULL OR m.created_at >= $5)
  AND ($6::timestamptz IS NULL OR m.created_at < $6)
  AND ($7::text[] IS NULL OR coalesce((SELECT d.state FROM deliveries d WHERE d.message_id = m.id AND d.endpoint_id = $2), 'none') = ANY($7))`;

const filterParams = (f: ReplayFilter): unknown[] => [
  f.eventTypes ?? null,
  f.channel ?? null,
  f.since ?? null,
  f.until ?? null,
  f.status ?? null,
];

/** Creates the job with the number of messages that match now (`total`); the scheduler queues them in batches. */
export async function insertReplayJob(
  q: Queryable,
  j: { id: string; tenantId: string; consumerId: string; endpointId: string; filter: ReplayFilter },
): Promise<ReplayJob> {
  const r = await q.query<ReplayJob>(
    `INSERT INTO replay_jobs (id, tenant_id, consumer_id, endpoint_id, filter, total, state, finished_at)
     SELECT $8, $9, $1, $2, $10::jsonb, n, CASE WHEN n = 0 THEN 'completed' ELSE 'running' END, CASE WHEN n = 0 THEN now() END
     FROM (SELECT count(*)::int AS n FROM messages m WHERE ${MATCH}) AS c
     RETURNING ${job.columns}`,
    [j.consumerId, j.endpointId, ...filterParams(j.filter), j.id, j.tenantId, JSON.stringify(j.filter)],
  );
  return r.rows[0]!;
}

export async function getReplayJob(q: Queryable, endpointId: string, id: string): Promise<ReplayJob | null> {
  const r = await q.query<ReplayJob>(`SELECT ${job.columns} FROM replay_jobs WHERE endpoint_id = $1 AND id = $2`, [endpointId, id]);
  return r.rows[0] ?? null;
}

export async function listReplayJobs(q: Queryable, endpointId: string): Promise<ReplayJob[]> {
  const r = await q.query<ReplayJob>(`SELECT ${job.columns} FROM replay_jobs WHERE endpoint_id = $1 ORDER BY id DESC LIMIT 50`, [
    endpointId,
  ]);
  return r.rows;
}

/** Running jobs of every tenant, oldest first (system role: ids and tenants only). */
export async function listRunningJobs(q: Queryable, limit: number): Promise<Array<{ id: string; tenantId: string }>> {
  const r = await q.query<{ id: string; tenantId: string }>(
    `SELECT id, tenant_id AS "tenantId" FROM replay_jobs WHERE state = 'running' ORDER BY created_at LIMIT $1`,
    [limit],
  );
  return r.rows;
}

/**
 * Queues the next `batch` matching messages of a running job (tenant role): a delivery per message to the
 * endpoint, new or set pending again (one in flight is left alone), then moves the job's cursor past them.
 * `newIds` gives `batch` fresh delivery ids. The job row is locked (SKIP LOCKED), so two schedulers never queue the same batch. A job whose endpoint
 * was disabled meanwhile stops as failed. Returns how many were queued, or null when the job was not taken.
 */
export async function advanceReplayJob(q: Queryable, id: string, batch: number, newIds: () => string[]): Promise<number | null> {
  const j = await q.query<{ consumer_id: string; endpoint_id: string; filter: ReplayFilter; cursor: string | null; disabled: boolean }>(
    `SELECT j.consumer_id, j.endpoint_id, j.filter, j.cursor, e.disabled FROM replay_jobs j JOIN endpoints e ON e.id = j.endpoint_id
     WHERE j.id = $1 AND j.state = 'running' FOR UPDATE OF j SKIP LOCKED`,
    [id],
  );
  const row = j.rows[0];
  if (!row) return null;
  if (row.disabled) {
    await q.query(
      `UPDATE replay_jobs SET state = 'failed', error = 'the endpoint was disabled', finished_at = now(), updated_at = now() WHERE id = $1`,
      [id],
    );
    return 0;
  }
  const r = await q.query<{ n: number; last: string | null }>(
    `WITH next AS (
       SELECT m.id, m.tenant_id, row_number() OVER (ORDER BY m.id) AS k FROM messages m
       WHERE ${MATCH} AND ($8::text IS NULL OR m.id > $8) ORDER BY m.id LIMIT $9
     ), queued AS (
       INSERT INTO deliveries (id, tenant_id, message_id, endpoint_id, state, next_attempt_at)
       SELECT ($10::text[])[next.k], next.tenant_id, next.id, $2, 'pending', now() FROM next
       ON CONFLICT (message_id, endpoint_id) DO UPDATE
         SET state = CASE WHEN deliveries.state = 'sending' THEN deliveries.state ELSE 'pending' END,
             next_attempt_at = CASE WHEN deliveries.state = 'sending' THEN deliveries.next_attempt_at ELSE now() END,
             round_start = CASE WHEN deliveries.state = 'sending' THEN deliveries.round_start ELSE deliveries.attempts END,
             updated_at = now()
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM next)::int AS n, (SELECT max(id) FROM next) AS last, (SELECT count(*) FROM queued) AS q`,
    [row.consumer_id, row.endpoint_id, ...filterParams(row.filter), row.cursor, batch, newIds()],
  );
  const { n, last } = r.rows[0]!;
  await q.query(
    `UPDATE replay_jobs SET queued = queued + $2, cursor = coalesce($3, cursor), updated_at = now(),
       state = CASE WHEN $2 < $4 THEN 'completed' ELSE state END, finished_at = CASE WHEN $2 < $4 THEN now() END
     WHERE id = $1`,
    [id, n, last, batch],
  );
  if (n > 0) await q.query(`SELECT pg_notify('${DELIVERY_CHANNEL}', '')`);
  return n;
}
