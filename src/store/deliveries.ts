import type { Queryable } from './db.ts';

export type DeliveryState = 'pending' | 'sending' | 'succeeded' | 'failed';

export interface DeliveryStatus {
  id: string;
  endpointId: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  updatedAt: Date;
}

export const DELIVERY_CHANNEL = 'tramline_deliveries';

/**
 * Queues one delivery per matched endpoint of each message (one tenant's batch, chosen by
 * `insertMessages` in the same transaction) and wakes the workers with one NOTIFY, delivered
 * when the transaction commits. Returns how many deliveries were queued.
 */
export async function enqueue(
  q: Queryable,
  tenantId: string,
  items: ReadonlyArray<{ messageId: string; endpointIds: readonly string[] }>,
  newId: () => string,
): Promise<number> {
  const ids: string[] = [];
  const messageIds: string[] = [];
  const endpointIds: string[] = [];
  for (const m of items) {
    for (const e of m.endpointIds) {
      ids.push(newId());
      messageIds.push(m.messageId);
      endpointIds.push(e);
    }
  }
  if (ids.length === 0) return 0;
  await q.query(
    `WITH queued AS (
       INSERT INTO deliveries (id, tenant_id, message_id, endpoint_id, state, next_attempt_at)
       SELECT d.id, $1, d.message_id, d.endpoint_id, 'pending', now() FROM unnest($2::text[], $3::text[], $4::text[]) AS d(id, message_id, endpoint_id)
       RETURNING 1)
     SELECT pg_notify('${DELIVERY_CHANNEL}', '') FROM (SELECT count(*) FROM queued) AS n`,
    [tenantId, ids, messageIds, endpointIds],
    'tramline_enqueue',
  );
  return ids.length;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  updated_at: Date;
}

const toStatus = (r: DeliveryRow): DeliveryStatus => ({
  id: r.id,
  endpointId: r.endpoint_id,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastStatus: r.last_status,
  lastError: r.last_error,
  updatedAt: r.updated_at,
});

export async function listDeliveriesOfMessage(q: Queryable, messageId: string): Promise<DeliveryStatus[]> {
  const r = await q.query<DeliveryRow>(
    `SELECT id, endpoint_id, state, attempts, next_attempt_at, last_status, last_error, updated_at
     FROM deliveries WHERE message_id = $1 ORDER BY id`,
    [messageId],
  );
  return r.rows.map(toStatus);
}

/**
 * Queues the message for the endpoint again now, whatever happened before (a new delivery
 * when the endpoint did not match at publish time). A delivery in flight is left alone.
 */
export async function resend(q: Queryable, tenantId: string, messageId: string, endpointId: string, newId: string): Promise<DeliveryStatus> {
  const r = await q.query<DeliveryRow>(
    `INSERT INTO deliveries (id, tenant_id, message_id, endpoint_id, state, next_attempt_at)
     VALUES ($1, $2, $3, $4, 'pending', now())
     ON CONFLICT (message_id, endpoint_id) DO UPDATE
       SET state = CASE WHEN deliveries.state = 'sending' THEN deliveries.state ELSE 'pending' END,
           next_attempt_at = CASE WHEN deliveries.state = 'sending' THEN deliveries.next_attempt_at ELSE now() END,
           round_start = CASE WHEN deliveries.state = 'sending' THEN deliveries.round_start ELSE deliveries.attempts END,
           updated_at = now()
     RETURNING id, endpoint_id, state, attempts, next_attempt_at, last_status, last_error, updated_at`,
    [newId, tenantId, messageId, endpointId],
  );
  await q.query(`SELECT pg_notify('${DELIVERY_CHANNEL}', '')`);
  return toStatus(r.rows[0]!);
}

/** Re-queues every failed delivery of the endpoint whose message was created at or after `since`. */
export async function recover(q: Queryable, endpointId: string, since: Date): Promise<number> {
  const r = await q.query(
    `UPDATE deliveries d SET state = 'pending', next_attempt_at = now(), round_start = d.attempts, updated_at = now()
     FROM messages m
     WHERE d.endpoint_id = $1 AND d.state = 'failed' AND m.id = d.message_id AND m.created_at >= $2`,
    [endpointId, since],
  );
  if (r.rowCount > 0) await q.query(`SELECT pg_notify('${DELIVERY_CHANNEL}', '')`);
  return r.rowCount;
}
