import type { Queryable } from './db.ts';
import type { Attempt } from './attempts.ts';
import { col, entity, type Row } from './entity.ts';

/**
 * The delivery queue's hot SQL, used by workers through the system role (claims cross tenants).
 * A claimed row is `sending` with a lease; completion is guarded by the lease owner, so a worker
 * whose lease was taken over after it expired cannot overwrite the newer outcome.
 */
const claimed = entity({
  id: col<string>('d.id'),
  tenantId: col<string>('d.tenant_id'),
  messageId: col<string>('d.message_id'),
  endpointId: col<string>('d.endpoint_id'),
  /** Attempts made before this one. */
  attempts: col<number>('d.attempts'),
  roundStart: col<number>('d.round_start'),
  eventType: col<string>('m.event_type'),
  payload: col<string>('m.payload'),
  messageCreatedAt: col<Date>('m.created_at'),
  consumerId: col<string>('m.consumer_id'),
  /** The publish span's W3C traceparent, when tracing was on at publish (a link from the delivery span). */
  traceparent: col<string | null>('m.traceparent'),
  url: col<string>('e.url'),
  headers: col<Record<string, string>>('e.headers'),
  secret: col<string>('e.secret'),
  previousSecret: col<string | null>('e.previous_secret'),
  previousSecretExpiresAt: col<Date | null>('e.previous_secret_expires_at'),
  /** The endpoint's rate limit (fleet-wide, delivery/pace.ts); null: none. */
  rateLimitPerSecond: col<number | null>('e.rate_limit_per_second'),
  /** The endpoint was under pressure, failing or recovering when claimed: its successes are worth recording. */
  healthTracked: col<boolean>(
    '(h.endpoint_id IS NOT NULL AND (h.pressure_streak > 0 OR h.failing_since IS NOT NULL OR h.notified OR h.max_in_flight < $2))',
  ),
  /** The endpoint's window had grown past the start: a slow answer is worth recording (it shrinks it). */
  windowGrown: col<boolean>('coalesce(h.max_in_flight > $2, false)'),
  /** The endpoint had more due than its window when claimed, and room to grow: a fast answer grows it. */
  saturated: col<boolean>('locked.saturated'),
});
export type ClaimedDelivery = Row<typeof claimed>;

/** The atomic rate-limit step done within the claim (migration 0006's tramline_reserve_slots): per key, when its first slot is and how many were taken. */
export type ClaimReservations = Map<string, { firstInMs: number; granted: number }>;

/** Reserve the claimed deliveries' rate-limit slots in the same statement (delivery/pace.ts reads the answer). */
export interface ClaimPacing {
  /** The tenant's outbound cap as slots (null: no cap); endpoints' limits come from their rows. */
  tenant: { intervalMs: number; toleranceMs: number } | null;
  horizonMs: number;
}

/**
 * The claim's transaction (db.system's options): the scan must walk the due index in order and stop at its
 * limit. Without fresh statistics (PGlite has no autovacuum; a busy table's change outruns it) the planner took
 * a few due rows for granted and read every one into a sort instead: the whole backlog, on every claim. Set in
 * the transaction's first round trip, not a statement of its own (a claim per delivery in the fan-out case).
 * One statement: BEGIN, the claim and COMMIT go in one round trip.
 */
export const CLAIM_TX = { noSort: true, oneStatement: true } as const;

/** How many due deliveries one claim examines in due order before it looks endpoint by endpoint (see claimAndPace). */
export const CLAIM_SCAN_ROWS = 1_000;
/** How many endpoints one claim visits, from its cursor on, when it looks endpoint by endpoint. */
export const CLAIM_HEAD_ENDPOINTS = 256;

/**
 * Claims up to `limit` due deliveries under a lease. Endpoints that already have their window of deliveries in
 * flight (anywhere in the fleet) are skipped, and no endpoint gets more than its free slots in one claim, so one
 * slow endpoint cannot fill the workers. A paused endpoint (its Retry-After, or a back-off) is skipped until the
 * pause ends. With `pacing`, the claimed deliveries' rate-limit slots are reserved in the same round trip
 * (each endpoint's rateLimitPerSecond, the tenant's outbound cap), keys taken in order. The rule of an
 * endpoint's slots is domain/pacing.ts paceRule's: a tenth of a second of burst.
 *
 * Candidates come in due order from the first CLAIM_SCAN_ROWS due deliveries, skipping endpoints at their
 * window. The scan is bounded because an endpoint at its window with a long backlog once made every claim
 * read that whole backlog (one busy endpoint, 17,000 due: 1–2 s per claim, the fleet down to ~10
 * deliveries/s). When the bounded scan was cut short and found too little, the claim also looks endpoint by
 * endpoint (one index probe each, CLAIM_HEAD_ENDPOINTS from `headCursor` on, wrapping around over claims),
 * so deliveries queued behind another endpoint's backlog are still found. `headCursor` comes back null when
 * the claim did not need to look (the caller keeps its cursor).
 */
export async function claimAndPace(
  q: Queryable,
  o: {
    limit: number;
    /** An endpoint's window when it has no health row; perEndpointMax (default: the same) bounds any window. */
    perEndpoint: number;
    perEndpointMax?: number;
    leaseMs: number;
    owner: string;
    skipTenants?: readonly string[];
    /** Tenants that may take only so many more (their fair share of this worker, delivery/fair-share.ts). */
    tenantRoom?: ReadonlyMap<string, number>;
    pacing: ClaimPacing | null;
    headCursor?: string;
  },
): Promise<{ claimed: ClaimedDelivery[]; reservations: ClaimReservations; headCursor: string | null }> {
  // Tenants take turns: the first due delivery of each tenant, then the second of each, and so on
  // (delivery/fair-share.ts), and tenants at their share of this worker's slots are skipped.
  type Out = ClaimedDelivery & { paceReservations: Array<[string, number, number]>; headCursor: string | null };
  const r = await q.query<Out>(
    `WITH RECURSIVE busy AS (
       -- An expired lease is a dead worker's, not a delivery in flight: it does not hold a slot.
       SELECT endpoint_id, count(*)::int AS n FROM deliveries WHERE state = 'sending' AND lease_until > now() GROUP BY endpoint_id
     ), held_back AS (
       -- Endpoints at their window, or paused after pressure.
       SELECT b.endpoint_id FROM busy b LEFT JOIN endpoint_health h USING (endpoint_id)
        WHERE b.n >= least($13, coalesce(floor(h.max_in_flight)::int, $2))
       UNION ALL
       SELECT endpoint_id FROM endpoint_health WHERE paused_until > now()
     ), scan AS (
       -- Due or not: without the range the planner walks the index in order and stops at the limit (with it,
       -- it read every due row into a sort, the whole backlog, on every claim).
       SELECT d.id, d.tenant_id, d.endpoint_id, d.next_attempt_at FROM deliveries d
        WHERE d.state = 'pending'
        ORDER BY d.next_attempt_at
        LIMIT $10
     ), fresh AS (
       SELECT s.* FROM scan s
        WHERE s.next_attempt_at <= now()
          AND s.endpoint_id NOT IN (SELECT endpoint_id FROM held_back) AND s.tenant_id <> ALL($5::text[])
        LIMIT $1 * 4
     ), look AS (
       -- In this order: the scan is read past what fresh needed only when fresh came up short; it was cut
       -- short when even its last row is due.
       SELECT (SELECT count(*) FROM fresh) < $1 AND (SELECT count(*) FROM scan WHERE next_attempt_at <= now()) >= $10 AS needed
     ), heads AS (
       -- Each endpoint with pending deliveries and its earliest one: a skip scan, one probe per endpoint.
       (SELECT p.endpoint_id, p.next_attempt_at, 1 AS depth FROM deliveries p
         WHERE p.state = 'pending' AND p.endpoint_id > $11 AND (SELECT needed FROM look)
         ORDER BY p.endpoint_id, p.next_attempt_at LIMIT 1)
       UNION ALL
       SELECT n.endpoint_id, n.next_attempt_at, h.depth + 1 FROM heads h
        CROSS JOIN LATERAL (SELECT p.endpoint_id, p.next_attempt_at FROM deliveries p
                             WHERE p.state = 'pending' AND p.endpoint_id > h.endpoint_id
                             ORDER BY p.endpoint_id, p.next_attempt_at LIMIT 1) n
        WHERE h.depth < $12
     ), head_rows AS (
       -- A skipped tenant's endpoints are dropped before their rows are read (one key lookup each).
       SELECT x.* FROM heads h
        JOIN endpoints he ON he.id = h.endpoint_id AND he.tenant_id <> ALL($5::text[])
        CROSS JOIN LATERAL (SELECT d.id, d.tenant_id, d.endpoint_id, d.next_attempt_at FROM deliveries d
                             WHERE d.state = 'pending' AND d.endpoint_id = h.endpoint_id AND d.next_attempt_at <= now()
                             ORDER BY d.next_attempt_at LIMIT $1) x
        WHERE h.next_attempt_at <= now()
          AND h.endpoint_id NOT IN (SELECT endpoint_id FROM held_back)
          AND h.endpoint_id NOT IN (SELECT endpoint_id FROM fresh)
        ORDER BY x.next_attempt_at
        LIMIT $1 * 4
     ), candidates AS (
       SELECT * FROM fresh UNION ALL SELECT * FROM head_rows
     ), ranked AS (
       SELECT c.id, c.next_attempt_at, w.size AS window_size,
              row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at) + coalesce(b.n, 0) AS slot,
              row_number() OVER (PARTITION BY c.tenant_id ORDER BY c.next_attempt_at) AS turn,
              count(*) OVER (PARTITION BY c.endpoint_id) + coalesce(b.n, 0) > w.size AND w.size < $13 AS saturated,
              coalesce(tr.room, $1) AS room
       FROM candidates c LEFT JOIN busy b USING (endpoint_id) LEFT JOIN endpoint_health h USING (endpoint_id)
       LEFT JOIN unnest($14::text[], $15::int[]) AS tr(tenant_id, room) ON tr.tenant_id = c.tenant_id
       CROSS JOIN LATERAL (SELECT least($13, coalesce(floor(h.max_in_flight)::int, $2)) AS size) w
     ), chosen AS (
       -- No more of a tenant than its room: what the worker would only hand back (an UPDATE per claim).
       SELECT r.id, r.saturated FROM ranked r
        WHERE r.slot <= r.window_size AND r.turn <= r.room
        ORDER BY r.turn, r.next_attempt_at
     ), locked AS (
       -- Each chosen row locked by its key, in the chosen order, until the limit. Not a join: the statement is
       -- prepared, and its generic plan, made while the queue was nearly empty, walked every pending row and, for
       -- each, all the candidates: 1.2 s with 8,900 pending, growing with the backlog; delivery all but stopped.
       SELECT x.id, c.saturated FROM chosen c
        CROSS JOIN LATERAL (SELECT d.id FROM deliveries d WHERE d.id = c.id AND d.state = 'pending' FOR UPDATE SKIP LOCKED) x
       LIMIT $1
     ), claimed AS (
       UPDATE deliveries d
          SET state = 'sending', lease_until = now() + make_interval(secs => $3::double precision / 1000), lease_owner = $4, updated_at = now()
         FROM locked, messages m, endpoints e LEFT JOIN endpoint_health h ON h.endpoint_id = e.id
        WHERE d.id = locked.id AND m.id = d.message_id AND e.id = d.endpoint_id
       RETURNING ${claimed.columns}
     ), pace_keys AS (
       SELECT 'tenant:' || "tenantId" AS key, "tenantId" AS tenant_id, $7::double precision AS interval_ms,
              $8::double precision AS tolerance_ms, count(*)::int AS n
         FROM claimed WHERE $6 AND $7::double precision IS NOT NULL GROUP BY "tenantId"
       UNION ALL
       SELECT 'endpoint:' || "endpointId", min("tenantId"), 1000.0 / "rateLimitPerSecond",
              (greatest(1, ceil("rateLimitPerSecond" / 10.0)) - 1) * 1000.0 / "rateLimitPerSecond", count(*)::int
         FROM claimed WHERE $6 AND "rateLimitPerSecond" IS NOT NULL GROUP BY "endpointId", "rateLimitPerSecond"
     ), reserved AS (
       SELECT k.key, s.first_at_ms - extract(epoch FROM clock_timestamp()) * 1000 AS first_in_ms, s.granted
         FROM (SELECT * FROM pace_keys ORDER BY key) AS k,
              LATERAL tramline_reserve_slots(k.key, k.tenant_id, k.interval_ms, k.tolerance_ms, $9::double precision, k.n) AS s
     )
     -- One row at least, claimed or not: it carries the reservations and the cursor.
     SELECT c.*, m.* FROM (
       SELECT (SELECT coalesce(jsonb_agg(jsonb_build_array(key, first_in_ms, granted)), '[]') FROM reserved) AS "paceReservations",
              CASE WHEN NOT (SELECT needed FROM look) THEN NULL
                   WHEN (SELECT count(*) FROM heads) >= $12 THEN (SELECT max(endpoint_id) FROM heads)
                   ELSE '' END AS "headCursor"
     ) m LEFT JOIN claimed c ON true`,
    [
      o.limit,
      o.perEndpoint,
      o.leaseMs,
      o.owner,
      o.skipTenants ?? [],
      o.pacing !== null,
      o.pacing?.tenant?.intervalMs ?? null,
      o.pacing?.tenant?.toleranceMs ?? null,
      o.pacing?.horizonMs ?? 0,
      Math.max(CLAIM_SCAN_ROWS, o.limit * 4),
      o.headCursor ?? '',
      CLAIM_HEAD_ENDPOINTS,
      Math.max(o.perEndpoint, o.perEndpointMax ?? o.perEndpoint),
      [...(o.tenantRoom?.keys() ?? [])],
      [...(o.tenantRoom?.values() ?? [])],
    ],
    'tramline_claim',
  );
  const reservations: ClaimReservations = new Map();
  for (const [key, firstInMs, granted] of r.rows[0]?.paceReservations ?? [])
    reservations.set(key, { firstInMs: Number(firstInMs), granted });
  const claimedRows = r.rows.filter((x) => x.id !== null).map(({ paceReservations: _, headCursor: __, ...d }) => d);
  return { claimed: claimedRows, reservations, headCursor: r.rows[0]?.headCursor ?? null };
}

/** An attempt as the worker records it: the attempt-log row plus the tenant it belongs to. */
export type AttemptRecord = Attempt & { tenantId: string };

export type Completion = { state: 'succeeded' } | { state: 'pending'; retryInMs: number } | { state: 'failed' };

/**
 * Records a batch of attempts (one tenant's, in that tenant's transaction) and moves each delivery
 * on, in one round trip. A delivery is moved only while this worker still holds its lease, so one
 * whose lease expired and was taken over keeps the newer outcome; its attempt is recorded anyway,
 * because it happened. Returns the ids of the deliveries that were moved.
 */
export async function completeMany(
  q: Queryable,
  owner: string,
  items: ReadonlyArray<{ attempt: AttemptRecord; next: Completion }>,
): Promise<Set<string>> {
  // The whole batch is one jsonb parameter (an array of flat objects), read back as rows by jsonb_to_recordset.
  const batch = items.map(({ attempt: a, next }) => ({
    id: a.id,
    tenant_id: a.tenantId,
    delivery_id: a.deliveryId,
    message_id: a.messageId,
    endpoint_id: a.endpointId,
    attempt: a.attempt,
    outcome: a.outcome,
    status_code: a.statusCode,
    error: a.error,
    response_body: a.responseBody,
    started_at: a.startedAt,
    duration_ms: a.durationMs,
    state: next.state,
    retry_ms: next.state === 'pending' ? next.retryInMs : 0,
  }));
  const r = await q.query<{ id: string }>(
    // A data-modifying CTE always runs, referenced or not.
    `WITH batch AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS b(
         id text, tenant_id text, delivery_id text, message_id text, endpoint_id text, attempt int, outcome text, status_code int,
         error text, response_body text, started_at timestamptz, duration_ms int, state text, retry_ms double precision)
     ), recorded AS (
       INSERT INTO attempts (id, tenant_id, delivery_id, message_id, endpoint_id, attempt, outcome, status_code, error, response_body, started_at, duration_ms)
       SELECT id, tenant_id, delivery_id, message_id, endpoint_id, attempt, outcome, status_code, error, response_body, started_at, duration_ms FROM batch
       RETURNING 1
     )
     UPDATE deliveries d SET
       state = u.state,
       attempts = d.attempts + 1,
       next_attempt_at = CASE WHEN u.state = 'pending' THEN now() + make_interval(secs => u.retry_ms / 1000) END,
       lease_until = NULL, lease_owner = NULL,
       last_status = u.status_code, last_error = u.error, updated_at = now()
     FROM batch u
     WHERE d.id = u.delivery_id AND d.lease_owner = $2 AND d.state = 'sending'
     RETURNING d.id`,
    [JSON.stringify(batch), owner],
    'tramline_complete_batch',
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
 * Hands claimed deliveries back without attempting them (no rate-limit slot yet, or over the tenant's share
 * of this worker): each is due again after its own delay; no attempt is recorded and the attempt count is
 * unchanged.
 */
export async function postponeLeases(q: Queryable, owner: string, items: ReadonlyArray<{ id: string; delayMs: number }>): Promise<number> {
  if (items.length === 0) return 0;
  const r = await q.query(
    `UPDATE deliveries d SET state = 'pending', next_attempt_at = now() + make_interval(secs => u.delay_ms / 1000),
            lease_until = NULL, lease_owner = NULL, updated_at = now()
       FROM unnest($1::text[], $2::double precision[]) AS u(id, delay_ms)
      WHERE d.id = u.id AND d.lease_owner = $3 AND d.state = 'sending'`,
    [items.map((x) => x.id), items.map((x) => x.delayMs), owner],
    'tramline_postpone_leases',
  );
  return r.rowCount;
}

/** On shutdown: hand back what this worker claimed but did not finish, due at once. */
export const releaseLeases = (q: Queryable, owner: string, ids: readonly string[]): Promise<number> =>
  postponeLeases(
    q,
    owner,
    ids.map((id) => ({ id, delayMs: 0 })),
  );

/** The database's clock (unix ms): the one clock of the fleet (delivery/db-clock.ts). */
export async function databaseTimeMs(q: Queryable): Promise<number> {
  const r = await q.query<{ ms: number }>('SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms');
  return Number(r.rows[0]!.ms);
}
