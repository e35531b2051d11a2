import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

const consumer = entity({
  id: col<string>('id'),
  uid: col<string | null>('uid'),
  name: col<string>('name'),
  metadata: col<Record<string, unknown>>('metadata'),
  /** Receives the tenant's operational events (domain/operational-events.ts). */
  operational: col<boolean>('operational'),
  createdAt: col<Date>('created_at'),
  updatedAt: col<Date>('updated_at'),
});
export type Consumer = Row<typeof consumer>;
const COLUMNS = consumer.columns;

/** Inserts the consumer; null when its uid is taken in this tenant. */
export async function insertConsumer(
  q: Queryable,
  c: { id: string; tenantId: string; uid: string | null; name: string; metadata: Record<string, unknown>; operational?: boolean },
): Promise<Consumer | null> {
  const r = await q.query<Consumer>(
    `INSERT INTO consumers (id, tenant_id, uid, name, metadata, operational) VALUES ($1, $2, $3, $4, $5::jsonb, $6)
     ON CONFLICT (tenant_id, uid) DO NOTHING RETURNING ${COLUMNS}`,
    [c.id, c.tenantId, c.uid, c.name, JSON.stringify(c.metadata), c.operational ?? false],
  );
  return r.rows[0] ?? null;
}

/** A consumer is addressed by its id or by the uid the tenant chose. */
export async function findConsumer(q: Queryable, ref: string): Promise<Consumer | null> {
  const r = await q.query<Consumer>(`SELECT ${COLUMNS} FROM consumers WHERE id = $1 OR uid = $1 ORDER BY (id = $1) DESC LIMIT 1`, [ref]);
  return r.rows[0] ?? null;
}

export async function listConsumers(q: Queryable, page: PageQuery): Promise<Page<Consumer>> {
  const r = await q.query<Consumer>(`SELECT ${COLUMNS} FROM consumers WHERE ($1::text IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`, [
    page.cursor ?? null,
    page.limit + 1,
  ]);
  return toPage(r.rows, page.limit, (x) => x.id);
}

/** Applies the fields present in `patch`; null when the new uid is taken. */
export async function updateConsumer(
  q: Queryable,
  id: string,
  patch: {
    name?: string | undefined;
    uid?: string | null | undefined;
    metadata?: Record<string, unknown> | undefined;
    operational?: boolean | undefined;
  },
): Promise<Consumer | null> {
  const r = await q.query<Consumer>(
    `UPDATE consumers SET
       name = coalesce($2, name),
       uid = CASE WHEN $3 THEN $4 ELSE uid END,
       metadata = coalesce($5::jsonb, metadata),
       operational = coalesce($6, operational),
       updated_at = now()
     WHERE id = $1 AND NOT EXISTS (
       SELECT 1 FROM consumers o WHERE $3 AND $4::text IS NOT NULL AND o.uid = $4 AND o.id <> $1)
     RETURNING ${COLUMNS}`,
    [
      id,
      patch.name ?? null,
      patch.uid !== undefined,
      patch.uid ?? null,
      patch.metadata ? JSON.stringify(patch.metadata) : null,
      patch.operational ?? null,
    ],
  );
  return r.rows[0] ?? null;
}

export async function deleteConsumer(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM consumers WHERE id = $1', [id]);
}

/** The tenant's operational consumers: they receive events about the tenant's deliveries (domain/operational-events.ts). */
export async function listOperationalConsumerIds(q: Queryable): Promise<string[]> {
  const r = await q.query<{ id: string }>('SELECT id FROM consumers WHERE operational ORDER BY id');
  return r.rows.map((x) => x.id);
}
