import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

// The secret columns are deliberately not in this declaration: they are read only where needed.
const endpoint = entity({
  id: col<string>('id'),
  consumerId: col<string>('consumer_id'),
  url: col<string>('url'),
  description: col<string>('description'),
  eventTypes: col<string[] | null>('event_types'),
  channels: col<string[] | null>('channels'),
  headers: col<Record<string, string>>('headers'),
  rateLimitPerSecond: col<number | null>('rate_limit_per_second'),
  disabled: col<boolean>('disabled'),
  disabledReason: col<string | null>('disabled_reason'),
  filter: col<string | null>('filter'),
  // Qualified by the table name: the subquery's own table has an id too.
  skippedDeliveries: col<number>(`(SELECT count(*)::int FROM deliveries sd WHERE sd.endpoint_id = endpoints.id AND sd.state = 'skipped')`),
  /** Set by a trigger whenever `disabled` flips on (migration 0006), whoever flips it. */
  disabledAt: col<Date | null>('disabled_at'),
  createdAt: col<Date>('created_at'),
  updatedAt: col<Date>('updated_at'),
});
export type Endpoint = Row<typeof endpoint>;
const COLUMNS = endpoint.columns;

const secrets = entity({
  secret: col<string>('secret'),
  previousSecret: col<string | null>('previous_secret'),
  previousSecretExpiresAt: col<Date | null>('previous_secret_expires_at'),
});
export type EndpointSecrets = Row<typeof secrets>;

export interface EndpointFields {
  url: string;
  description: string;
  eventTypes: string[] | null;
  channels: string[] | null;
  headers: Record<string, string>;
  rateLimitPerSecond: number | null;
  disabled: boolean;
  /** Absent on insert: none. */
  filter?: string | null | undefined;
}

export async function insertEndpoint(
  q: Queryable,
  e: EndpointFields & { id: string; tenantId: string; consumerId: string; secret: string },
): Promise<Endpoint> {
  const r = await q.query<Endpoint>(
    `INSERT INTO endpoints (id, tenant_id, consumer_id, url, description, event_types, channels, headers, rate_limit_per_second, disabled, disabled_reason, secret, filter)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, CASE WHEN $10 THEN 'disabled by the tenant' END, $11, $12)
     RETURNING ${COLUMNS}`,
    [
      e.id,
      e.tenantId,
      e.consumerId,
      e.url,
      e.description,
      e.eventTypes,
      e.channels,
      JSON.stringify(e.headers),
      e.rateLimitPerSecond,
      e.disabled,
      e.secret,
      e.filter ?? null,
    ],
  );
  return r.rows[0]!;
}

export async function getEndpoint(q: Queryable, consumerId: string, id: string): Promise<Endpoint | null> {
  const r = await q.query<Endpoint>(`SELECT ${COLUMNS} FROM endpoints WHERE consumer_id = $1 AND id = $2`, [consumerId, id]);
  return r.rows[0] ?? null;
}

export async function listEndpoints(q: Queryable, consumerId: string, page: PageQuery): Promise<Page<Endpoint>> {
  const r = await q.query<Endpoint>(
    `SELECT ${COLUMNS} FROM endpoints WHERE consumer_id = $1 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [consumerId, page.cursor ?? null, page.limit + 1],
  );
  return toPage(r.rows, page.limit, (x) => x.id);
}

export async function updateEndpoint(q: Queryable, consumerId: string, id: string, f: EndpointFields): Promise<Endpoint | null> {
  const r = await q.query<Endpoint>(
    `UPDATE endpoints SET url = $3, description = $4, event_types = $5, channels = $6, headers = $7::jsonb,
       rate_limit_per_second = $8, disabled = $9, filter = $10,
       disabled_reason = CASE WHEN NOT $9 THEN NULL WHEN disabled THEN disabled_reason ELSE 'disabled by the tenant' END,
       updated_at = now()
     WHERE consumer_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [
      consumerId,
      id,
      f.url,
      f.description,
      f.eventTypes,
      f.channels,
      JSON.stringify(f.headers),
      f.rateLimitPerSecond,
      f.disabled,
      f.filter ?? null,
    ],
  );
  return r.rows[0] ?? null;
}

export async function deleteEndpoint(q: Queryable, consumerId: string, id: string): Promise<boolean> {
  const r = await q.query('DELETE FROM endpoints WHERE consumer_id = $1 AND id = $2', [consumerId, id]);
  return r.rowCount > 0;
}

export async function getEndpointSecrets(q: Queryable, consumerId: string, id: string): Promise<EndpointSecrets | null> {
  const r = await q.query<EndpointSecrets>(`SELECT ${secrets.columns} FROM endpoints WHERE consumer_id = $1 AND id = $2`, [consumerId, id]);
  return r.rows[0] ?? null;
}

/** The old secret keeps signing beside the new one until `graceUntil`, so receivers can switch without a gap. */
export async function rotateEndpointSecret(
  q: Queryable,
  consumerId: string,
  id: string,
  secret: string,
  graceUntil: Date,
): Promise<boolean> {
  const r = await q.query(
    `UPDATE endpoints SET previous_secret = secret, previous_secret_expires_at = $4, secret = $3, updated_at = now()
     WHERE consumer_id = $1 AND id = $2`,
    [consumerId, id, secret, graceUntil],
  );
  return r.rowCount > 0;
}

/**
 * Disables the endpoint; its queued deliveries become `skipped` (nothing is sent to a disabled endpoint), to be
 * replayed when it is enabled again (`replaySkipped`) or by `recover`.
 */
export async function disableEndpoint(q: Queryable, id: string, reason: string): Promise<void> {
  await q.query(`UPDATE endpoints SET disabled = true, disabled_reason = $2, updated_at = now() WHERE id = $1 AND NOT disabled`, [
    id,
    reason,
  ]);
  await q.query(
    `UPDATE deliveries SET state = 'skipped', last_error = $2, next_attempt_at = NULL, updated_at = now()
     WHERE endpoint_id = $1 AND state = 'pending'`,
    [id, `endpoint disabled: ${reason}`],
  );
}
