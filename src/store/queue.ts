import type { Queryable } from './db.ts';
import type { Attempt } from './attempts.ts';

/**
 * The delivery queue's hot SQL, used by workers through the system role (claims cross tenants).
 * A claimed row is `sending` with a lease; completion is guarded by the lease owner, so a worker
 * whose lease was taken over after it expired cannot overwrite the newer outcome.
 */
export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  messageId: string;
  endpointId: string;
  /** Attempts made before this one. */
  attempts: number;
  roundStart: number;
  eventType: string;
  payload: string;
  messageCreatedAt: Date;
  consumerId: string;
  /** The publish span's W3C traceparent, when tracing was on at publish (a link from the delivery span). */
  traceparent: string | null;
  url: string;
  headers: Record<string, string>;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

interface ClaimRow {
  id: string;
  tenant_id: string;
  message_id: string;
  endpoint_id: string;
  attempts: number;
  round_start: number;
  event_type: string;
  payload: string;
  created_at: Date;
  consumer_id: string;
  traceparent: string | null;
  url: string;
  headers: Record<string, string>;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/**
 * Claims up to `limit` due deliveries under a lease. Endpoints that already have
 * `perEndpoint` deliveries in flight (anywhere in the fleet) are skipped, and no endpoint
 * gets more than its free slots in one claim, so one slow endpoint cannot fill the workers.
 */
export async function claimDue(
  q: Queryable,
  o: { limit: number; perEndpoint: number; leaseMs: number; owner: string },
): Promise<ClaimedDelivery[]> {
  const r = await q.query<ClaimRow>(
    `WITH busy AS (
       -- An expired lease is a dead worker's, not a delivery in flight: it does not hold a slot.
       SELECT endpoint_id, count(*)::int AS n FROM deliveries WHERE state = 'sending' AND lease_until > now() GROUP BY endpoint_id
     ), candidates AS (
       SELECT d.id, d.endpoint_id, d.next_attempt_at FROM deliveries d
       WHERE d.state = 'pending' AND d.next_attempt_at <= now()
         AND d.endpoint_id NOT IN (SELECT endpoint_id FROM busy WHERE n >= $2)
       ORDER BY d.next_attempt_at
       LIMIT $1 * 4
     ), ranked AS (
       SELECT c.id, row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at) + coalesce(b.n, 0) AS slot
       FROM candidates c LEFT JOIN busy b USING (endpoint_id)
     ), locked AS (
       SELECT d.id FROM deliveries d
       WHERE d.id IN (SELECT id FROM ranked WHERE slot <= $2) AND d.state = 'pending'
       ORDER BY d.next_attempt_at
       LIMIT $1
       FOR UPDATE SKIP LOCKED
     )
     UPDATE deliveries d
        SET state = 'sending', lease_until = now() + make_interval(secs => $3::double precision / 1000), lease_owner = $4, updated_at = now()
       FROM locked, messages m, endpoints e
      WHERE d.id = locked.id AND m.id = d.message_id AND e.id = d.endpoint_id
     RETURNING d.id, d.tenant_id, d.message_id, d.endpoint_id, d.attempts, d.round_start, m.event_type, m.payload, m.created_at, m.consumer_id, m.traceparent,
               e.url, e.headers, e.secret, e.previous_secret, e.previous_secret_expires_at`,
    [o.limit, o.perEndpoint, o.leaseMs, o.owner],
    'tramline_claim',
  );
  return r.rows.map((x) => ({
    id: x.id,
    tenantId: x.tenant_id,
    messageId: x.message_id,
    endpointId: x.endpoint_id,
    attempts: x.attempts,
    roundStart: x.round_start,
    eventType: x.event_type,
    payload: x.payload,
    messageCreatedAt: x.created_at,
    consumerId: x.consumer_id,
    traceparent: x.traceparent,
    url: x.url,
    headers: x.headers,
    secret: x.secret,
    previousSecret: x.previous_secret,
    previousSecretExpiresAt: x.previous_secret_expires_at,
  }));
}

/** An attempt as the worker records it: the attempt-log row plus the tenant it belongs to. */
export type AttemptRecord = Attempt & { tenantId: string };

export type Completion =
  | { state: 'succeeded' }
  | { state: 'pending'; retryInMs: number }
  | { state: 'failed' };

/**
 * Records a batch of attempts (one tenant's, in that tenant's transaction) and moves each delivery
 * on, in one round trip. A delivery is moved only while this worker still holds its lease, so one
 * whose lease expired and was taken over keeps the newer outcome; its attempt is recorded anyway,
 * because it happened. Returns the ids of the deliveries that were moved.
 */
export async function completeMany(q: Queryable, owner: string, items: ReadonlyArray<{ attempt: AttemptRecord; next: Completion }>): Promise<Set<string>> {
  const col = <T>(f: (x: { attempt: AttemptRecord; next: Completion }) => T): T[] => items.map(f);
  const r = await q.query<{ id: string }>(
    // A data-modifying CTE always runs, referenced or not.
    `WITH recorded AS (
       INSERT INTO attempts (id, tenant_id, delivery_id, message_id, endpoint_id, attempt, outcome, status_code, error, response_body, started_at, duration_ms)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::int[], $9::text[], $10::text[], $11::timestamptz[], $12::int[])
       RETURNING 1
     )
     UPDATE deliveries d SET
       state = u.state,
       attempts = d.attempts + 1,
       next_attempt_at = CASE WHEN u.state = 'pending' THEN now() + make_interval(secs => u.retry_ms / 1000) END,
       lease_until = NULL, lease_owner = NULL,
       last_status = u.status, last_error = u.error, updated_at = now()
     FROM unnest($3::text[], $13::text[], $14::double precision[], $8::int[], $9::text[]) AS u(id, state, retry_ms, status, error)
     WHERE d.id = u.id AND d.lease_owner = $15 AND d.state = 'sending'
     RETURNING d.id`,
    [
      col((x) => x.attempt.id),
      col((x) => x.attempt.tenantId),
      col((x) => x.attempt.deliveryId),
      col((x) => x.attempt.messageId),
      col((x) => x.attempt.endpointId),
      col((x) => x.attempt.attempt),
      col((x) => x.attempt.outcome),
      col((x) => x.attempt.statusCode),
      col((x) => x.attempt.error),
      col((x) => x.attempt.responseBody),
      col((x) => x.attempt.startedAt.toISOString()),
      col((x) => x.attempt.durationMs),
      col((x) => x.next.state),
      col((x) => (x.next.state === 'pending' ? x.next.retryInMs : 0)),
      owner,
    ],
    'tramline_complete',
  );
  return new Set(r.rows.map((x) => x.id));
}

/**
 * Deliveries whose worker died: their lease expired, so they are due again, at their original
 * due time (the front of the queue, not the back).
 */
export async function reapExpiredLeases(q: Queryable): Promise<number> {
  const r = await q.query(
    `UPDATE deliveries SET state = 'pending', next_attempt_at = coalesce(next_attempt_at, now()), lease_until = NULL, lease_owner = NULL, updated_at = now()
     WHERE state = 'sending' AND lease_until < now()`,
  );
  return r.rowCount;
}

/**
 * Hands claimed deliveries back without attempting them (the tenant's outbound cap was reached):
 * each is due again after its own delay; no attempt is recorded and the attempt count is unchanged.
 */
export async function postponeLeases(q: Queryable, owner: string, items: ReadonlyArray<{ id: string; delayMs: number }>): Promise<number> {
  if (items.length === 0) return 0;
  const r = await q.query(
    `UPDATE deliveries d SET state = 'pending', next_attempt_at = now() + make_interval(secs => u.delay_ms / 1000),
            lease_until = NULL, lease_owner = NULL, updated_at = now()
       FROM unnest($1::text[], $2::double precision[]) AS u(id, delay_ms)
      WHERE d.id = u.id AND d.lease_owner = $3 AND d.state = 'sending'`,
    [items.map((x) => x.id), items.map((x) => x.delayMs), owner],
  );
  return r.rowCount;
}

/** On shutdown: hand back what this worker claimed but did not finish, due at once. */
export const releaseLeases = (q: Queryable, owner: string, ids: readonly string[]): Promise<number> =>
  postponeLeases(q, owner, ids.map((id) => ({ id, delayMs: 0 })));
