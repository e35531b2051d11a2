import type { Queryable } from './db.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

export interface EventType {
  name: string;
  description: string;
  schema: unknown;
  archived: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface EventTypeRow {
  name: string;
  description: string;
  schema: unknown;
  archived: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'name, description, schema, archived, created_at, updated_at';
const toEventType = (r: EventTypeRow): EventType => ({
  name: r.name,
  description: r.description,
  schema: r.schema,
  archived: r.archived,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Creates the type, or returns null when the name is taken. */
export async function insertEventType(
  q: Queryable,
  tenantId: string,
  e: { name: string; description: string; schema: unknown },
): Promise<EventType | null> {
  const r = await q.query<EventTypeRow>(
    `INSERT INTO event_types (tenant_id, name, description, schema) VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ${COLUMNS}`,
    [tenantId, e.name, e.description, e.schema === undefined ? null : JSON.stringify(e.schema)],
  );
  return r.rows[0] ? toEventType(r.rows[0]) : null;
}

export async function listEventTypes(q: Queryable, page: PageQuery & { includeArchived: boolean }): Promise<Page<EventType>> {
  const r = await q.query<EventTypeRow>(
    `SELECT ${COLUMNS} FROM event_types WHERE ($1::text IS NULL OR name > $1) AND ($3 OR NOT archived) ORDER BY name LIMIT $2`,
    [page.cursor ?? null, page.limit + 1, page.includeArchived],
  );
  return toPage(r.rows, page.limit, (x) => x.name, toEventType);
}

export async function getEventType(q: Queryable, name: string): Promise<EventType | null> {
  const r = await q.query<EventTypeRow>(`SELECT ${COLUMNS} FROM event_types WHERE name = $1`, [name]);
  return r.rows[0] ? toEventType(r.rows[0]) : null;
}
