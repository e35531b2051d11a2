import type { Queryable } from './db.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

export interface Endpoint {
  id: string;
  consumerId: string;
  url: string;
  description: string;
  eventTypes: string[] | null;
  channels: string[] | null;
  headers: Record<string, string>;
  rateLimitPerSecond: number | null;
  disabled: boolean;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface EndpointSecrets {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

interface EndpointRow {
  id: string;
  consumer_id: string;
  url: string;
  description: string;
  event_types: string[] | null;
  channels: string[] | null;
  headers: Record<string, string>;
  rate_limit_per_second: number | null;
  disabled: boolean;
  disabled_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

// The secret columns are deliberately not in this list: they are read only where needed.
const COLUMNS =
  'id, consumer_id, url, description, event_types, channels, headers, rate_limit_per_second, disabled, disabled_reason, created_at, updated_at';

const toEndpoint = (r: EndpointRow): Endpoint => ({
  id: r.id,
  consumerId: r.consumer_id,
  url: r.url,
  description: r.description,
  eventTypes: r.event_types,
  channels: r.channels,
  headers: r.headers,
  rateLimitPerSecond: r.rate_limit_per_second,
  disabled: r.disabled,
  disabledReason: r.disabled_reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface EndpointFields {
  url: string;
  description: string;
  eventTypes: string[] | null;
  channels: string[] | null;
  headers: Record<string, string>;
  rateLimitPerSecond: number | null;
  disabled: boolean;
}

export async function insertEndpoint(
  q: Queryable,
  e: EndpointFields & { id: string; tenantId: string; consumerId: string; secret: string },
): Promise<Endpoint> {
  const r = await q.query<EndpointRow>(
    `INSERT INTO endpoints (id, tenant_id, consumer_id, url, description, event_types, channels, headers, rate_limit_per_second, disabled, disabled_reason, secret)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, CASE WHEN $10 THEN 'disabled by the tenant' END, $11)
     RETURNING ${COLUMNS}`,
    [e.id, e.tenantId, e.consumerId, e.url, e.description, e.eventTypes, e.channels, JSON.stringify(e.headers), e.rateLimitPerSecond, e.disabled, e.secret],
  );
  return toEndpoint(r.rows[0]!);
}

export async function getEndpoint(q: Queryable, consumerId: string, id: string): Promise<Endpoint | null> {
  const r = await q.query<EndpointRow>(`SELECT ${COLUMNS} FROM endpoints WHERE consumer_id = $1 AND id = $2`, [consumerId, id]);
  return r.rows[0] ? toEndpoint(r.rows[0]) : null;
}

export async function listEndpoints(q: Queryable, consumerId: string, page: PageQuery): Promise<Page<Endpoint>> {
  const r = await q.query<EndpointRow>(
    `SELECT ${COLUMNS} FROM endpoints WHERE consumer_id = $1 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [consumerId, page.cursor ?? null, page.limit + 1],
  );
  return toPage(r.rows, page.limit, (x) => x.id, toEndpoint);
}

export async function updateEndpoint(q: Queryable, consumerId: string, id: string, f: EndpointFields): Promise<Endpoint | null> {
  const r = await q.query<EndpointRow>(
    `UPDATE endpoints SET url = $3, description = $4, event_types = $5, channels = $6, headers = $7::jsonb,
       rate_limit_per_second = $8, disabled = $9,
       disabled_reason = CASE WHEN NOT $9 THEN NULL WHEN disabled THEN disabled_reason ELSE 'disabled by the tenant' END,
       updated_at = now()
     WHERE consumer_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [consumerId, id, f.url, f.description, f.eventTypes, f.channels, JSON.stringify(f.headers), f.rateLimitPerSecond, f.disabled],
  );
  return r.rows[0] ? toEndpoint(r.rows[0]) : null;
}

export async function deleteEndpoint(q: Queryable, consumerId: string, id: string): Promise<boolean> {
  const r = await q.query('DELETE FROM endpoints WHERE consumer_id = $1 AND id = $2', [consumerId, id]);
  return r.rowCount > 0;
}

export async function getEndpointSecrets(q: Queryable, consumerId: string, id: string): Promise<EndpointSecrets | null> {
  const r = await q.query<{ secret: string; previous_secret: string | null; previous_secret_expires_at: Date | null }>(
    'SELECT secret, previous_secret, previous_secret_expires_at FROM endpoints WHERE consumer_id = $1 AND id = $2',
    [consumerId, id],
  );
  const row = r.rows[0];
  return row ? { secret: row.secret, previousSecret: row.previous_secret, previousSecretExpiresAt: row.previous_secret_expires_at } : null;
}

/** The old secret keeps signing beside the new one until `graceUntil`, so receivers can switch without a gap. */
export async function rotateEndpointSecret(q: Queryable, consumerId: string, id: string, secret: string, graceUntil: Date): Promise<boolean> {
  const r = await q.query(
    `UPDATE endpoints SET previous_secret = secret, previous_secret_expires_at = $4, secret = $3, updated_at = now()
     WHERE consumer_id = $1 AND id = $2`,
    [consumerId, id, secret, graceUntil],
  );
  return r.rowCount > 0;
}

/** Disables the endpoint and fails its queued deliveries, which `recover` can bring back. */
export async function disableEndpoint(q: Queryable, id: string, reason: string): Promise<void> {
  await q.query(`UPDATE endpoints SET disabled = true, disabled_reason = $2, updated_at = now() WHERE id = $1 AND NOT disabled`, [id, reason]);
  await q.query(
    `UPDATE deliveries SET state = 'failed', last_error = $2, next_attempt_at = NULL, updated_at = now()
     WHERE endpoint_id = $1 AND state = 'pending'`,
    [id, `endpoint disabled: ${reason}`],
  );
}
