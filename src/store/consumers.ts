import type { Queryable } from './db.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

export interface Consumer {
  id: string;
  uid: string | null;
  name: string;
  metadata: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

interface ConsumerRow {
  id: string;
  uid: string | null;
  name: string;
  metadata: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, uid, name, metadata, created_at, updated_at';
const toConsumer = (r: ConsumerRow): Consumer => ({
  id: r.id,
  uid: r.uid,
  name: r.name,
  metadata: r.metadata,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Inserts the consumer; null when its uid is taken in this tenant. */
export async function insertConsumer(
  q: Queryable,
  c: { id: string; tenantId: string; uid: string | null; name: string; metadata: Record<string, unknown> },
): Promise<Consumer | null> {
  const r = await q.query<ConsumerRow>(
    `INSERT INTO consumers (id, tenant_id, uid, name, metadata) VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (tenant_id, uid) DO NOTHING RETURNING ${COLUMNS}`,
    [c.id, c.tenantId, c.uid, c.name, JSON.stringify(c.metadata)],
  );
  return r.rows[0] ? toConsumer(r.rows[0]) : null;
}

/** A consumer is addressed by its id or by the uid the tenant chose. */
export async function findConsumer(q: Queryable, ref: string): Promise<Consumer | null> {
  const r = await q.query<ConsumerRow>(
    `SELECT ${COLUMNS} FROM consumers WHERE id = $1 OR uid = $1 ORDER BY (id = $1) DESC LIMIT 1`,
    [ref],
  );
  return r.rows[0] ? toConsumer(r.rows[0]) : null;
}

export async function listConsumers(q: Queryable, page: PageQuery): Promise<Page<Consumer>> {
  const r = await q.query<ConsumerRow>(
    `SELECT ${COLUMNS} FROM consumers WHERE ($1::text IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
    [page.cursor ?? null, page.limit + 1],
  );
  return toPage(r.rows, page.limit, (x) => x.id, toConsumer);
}

/** Applies the fields present in `patch`; null when the new uid is taken. */
export async function updateConsumer(
  q: Queryable,
  id: string,
  patch: { name?: string | undefined; uid?: string | null | undefined; metadata?: Record<string, unknown> | undefined },
): Promise<Consumer | null> {
  const r = await q.query<ConsumerRow>(
    `UPDATE consumers SET
       name = coalesce($2, name),
       uid = CASE WHEN $3 THEN $4 ELSE uid END,
       metadata = coalesce($5::jsonb, metadata),
       updated_at = now()
     WHERE id = $1 AND NOT EXISTS (
       SELECT 1 FROM consumers o WHERE $3 AND $4::text IS NOT NULL AND o.uid = $4 AND o.id <> $1)
     RETURNING ${COLUMNS}`,
    [id, patch.name ?? null, patch.uid !== undefined, patch.uid ?? null, patch.metadata ? JSON.stringify(patch.metadata) : null],
  );
  return r.rows[0] ? toConsumer(r.rows[0]) : null;
}

export async function deleteConsumer(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM consumers WHERE id = $1', [id]);
}
