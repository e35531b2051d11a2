import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';

/** `skipped`: the endpoint was disabled when the message was published; nothing is sent until it is replayed. */
export type DeliveryState = 'pending' | 'sending' | 'succeeded' | 'failed' | 'skipped';

const deliveryStatus = entity({
  id: col<string>('id'),
  endpointId: col<string>('endpoint_id'),
  state: col<DeliveryState>('state'),
  attempts: col<number>('attempts'),
  nextAttemptAt: col<Date | null>('next_attempt_at'),
  lastStatus: col<number | null>('last_status'),
  lastError: col<string | null>('last_error'),
  updatedAt: col<Date>('updated_at'),
});
export type DeliveryStatus = Row<typeof deliveryStatus>;

export const DELIVERY_CHANNEL = 'tramline_deliveries';

/**
 * Queues one delivery per matched endpoint of each message (one tenant's batch, chosen by
 * `insertMessages` in the same transaction) and wakes the workers with one NOTIFY, delivered
 * when the transaction commits. Endpoints disabled at publish get a `skipped` delivery instead
 * (never claimed; replayed when the endpoint is enabled again, or by recover). Returns how many
 * deliveries were queued (skipped ones not counted). `how.last`: the transaction commits with it (Queryable).
 */
export async function enqueue(
  q: Queryable,
  tenantId: string,
  items: ReadonlyArray<{ messageId: string; endpointIds: readonly string[]; skippedIds?: readonly string[] | undefined }>,
  newId: () => string,
  how?: { last?: boolean },
): Promise<number> {
  const ids: string[] = [];
  const messageIds: string[] = [];
  const endpointIds: string[] = [];
  let queued = 0;
  for (const m of items) {
    for (const e of m.endpointIds) {
      ids.push(newId());
      messageIds.push(m.messageId);
      endpointIds.push(e);
    }
  }
  queued = ids.length;
  for (const m of items) {
    for (const e of m.skippedIds ?? []) {
      ids.push(newId());
      messageIds.push(m.messageId);
      endpointIds.push(e);
    }
  }
  if (ids.length === 0) return 0;
  if (ids.length === queued) {
    await q.query(
      `WITH queued AS (
         INSERT INTO deliveries (id, tenant_id, message_id, endpoint_id, state, next_attempt_at)
         SELECT d.id, $1, d.message_id, d.endpoint_id, 'pending', now() FROM unnest($2::text[], $3::text[], $4::text[]) AS d(id, message_id, endpoint_id)
         RETURNING 1)
       SELECT pg_notify('${DELIVERY_CHANNEL}', '') FROM (SELECT count(*) FROM queued) AS n`,
      [tenantId, ids, messageIds, endpointIds],
      'tramline_enqueue',
      how,
    );
    return queued;
  }
  // Rows at or after index `queued` (1-based: > $5) are the skipped ones.
  await q.query(
    `WITH queued AS (
       INSERT INTO deliveries (id, tenant_id, message_id, endpoint_id, state, next_attempt_at)
       SELECT d.id, $1, d.message_id, d.endpoint_id,
              CASE WHEN d.n > $5 THEN 'skipped' ELSE 'pending' END, CASE WHEN d.n > $5 THEN NULL ELSE now() END
       FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS d(id, message_id, endpoint_id, n)
       RETURNING 1)
     SELECT pg_notify('${DELIVERY_CHANNEL}', '') FROM (SELECT count(*) FROM queued) AS n WHERE $5 > 0`,
    [tenantId, ids, messageIds, endpointIds, queued],
    'tramline_enqueue_skipped',
    how,
  );
  return queued;
}

export async function listDeliveriesOfMessage(q: Queryable, messageId: string): Promise<DeliveryStatus[]> {
  const r = await q.query<DeliveryStatus>(`SELECT ${deliveryStatus.columns} FROM deliveries WHERE message_id = $1 ORDER BY id`, [
    messageId,
  ]);
  return r.rows;
}

/**
 * Queues the message for the endpoint again now, whatever happened before (a new delivery
 * when the endpoint did not match at publish time). A delivery in flight is left alone.
 */
export async function resend(
  q: Queryable,
  tenantId: string,
  messageId: string,
  endpointId: string,
  newId: string,
): Promise<DeliveryStatus> {
  const r = await q.query<DeliveryStatus>(
    `INSERT INTO deliveries (id, tenant_id, message_id, endpoint_id, state, next_attempt_at)
     VALUES ($1, $2, $3, $4, 'pending', now())
     ON CONFLICT (message_id, endpoint_id) DO UPDATE
       SET state = CASE WHEN deliveries.state = 'sending' THEN deliveries.state ELSE 'pending' END,
           next_attempt_at = CASE WHEN deliveries.state = 'sending' THEN deliveries.next_attempt_at ELSE now() END,
           round_start = CASE WHEN deliveries.state = 'sending' THEN deliveries.round_start ELSE deliveries.attempts END,
           updated_at = now()
     RETURNING ${deliveryStatus.columns}`,
    [newId, tenantId, messageId, endpointId],
  );
  await q.query(`SELECT pg_notify('${DELIVERY_CHANNEL}', '')`);
  return r.rows[0]!;
}

/**
 * Re-queues every failed or skipped delivery of the endpoint whose message was created at or after
 * `since` (skipped: published while the endpoint was disabled).
 */
export async function recover(q: Queryable, endpointId: string, since: Date): Promise<number> {
  const r = await q.query(
    `UPDATE deliveries d SET state = 'pending', next_attempt_at = now(), round_start = d.attempts, updated_at = now()
     FROM messages m
     WHERE d.endpoint_id = $1 AND d.state IN ('failed', 'skipped') AND m.id = d.message_id AND m.created_at >= $2`,
    [endpointId, since],
  );
  if (r.rowCount > 0) await q.query(`SELECT pg_notify('${DELIVERY_CHANNEL}', '')`);
  return r.rowCount;
}

/** Deliveries recorded as skipped (the endpoint was disabled at publish) and not replayed yet. */
export async function countSkipped(q: Queryable, endpointId: string): Promise<number> {
  const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 AND state = 'skipped'`, [
    endpointId,
  ]);
  return r.rows[0]!.n;
}

/** Queues every skipped delivery of the endpoint, now, in publish order (their ids sort by creation). */
export async function replaySkipped(q: Queryable, endpointId: string): Promise<number> {
  const r = await q.query(
    `UPDATE deliveries SET state = 'pending', next_attempt_at = now(), round_start = attempts, updated_at = now()
     WHERE endpoint_id = $1 AND state = 'skipped'`,
    [endpointId],
  );
  if (r.rowCount > 0) await q.query(`SELECT pg_notify('${DELIVERY_CHANNEL}', '')`);
  return r.rowCount;
}

/** The endpoint was disabled by its tenant: what was queued for it waits as skipped, like what is published next. */
export async function skipPending(q: Queryable, endpointId: string): Promise<number> {
  const r = await q.query(
    `UPDATE deliveries SET state = 'skipped', next_attempt_at = NULL, last_error = 'endpoint disabled by the tenant', updated_at = now()
     WHERE endpoint_id = $1 AND state = 'pending'`,
    [endpointId],
  );
  return r.rowCount;
}
