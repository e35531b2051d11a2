import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

const eventType = entity({
  name: col<string>('name'),
  description: col<string>('description'),
  schema: col<unknown>('schema'),
  /** The number of the current schema (event_type_schemas); null without one, or when an older release set it. */
  schemaVersion: col<number | null>('schema_version'),
  archived: col<boolean>('archived'),
  createdAt: col<Date>('created_at'),
  updatedAt: col<Date>('updated_at'),
});
export type EventType = Row<typeof eventType>;
const COLUMNS = eventType.columns;

/** Creates the type, or returns null when the name is taken. */
export async function insertEventType(
  q: Queryable,
  tenantId: string,
  e: { name: string; description: string; schema: unknown },
): Promise<EventType | null> {
  const r = await q.query<EventType>(
    `INSERT INTO event_types (tenant_id, name, description, schema) VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ${COLUMNS}`,
    [tenantId, e.name, e.description, e.schema === undefined ? null : JSON.stringify(e.schema)],
  );
  return r.rows[0] ?? null;
}

export async function listEventTypes(q: Queryable, page: PageQuery & { includeArchived: boolean }): Promise<Page<EventType>> {
  const r = await q.query<EventType>(
    `SELECT ${COLUMNS} FROM event_types WHERE ($1::text IS NULL OR name > $1) AND ($3 OR NOT archived) ORDER BY name LIMIT $2`,
    [page.cursor ?? null, page.limit + 1, page.includeArchived],
  );
  return toPage(r.rows, page.limit, (x) => x.name);
}

export async function getEventType(q: Queryable, name: string): Promise<EventType | null> {
  const r = await q.query<EventType>(`SELECT ${COLUMNS} FROM event_types WHERE name = $1`, [name]);
  return r.rows[0] ?? null;
}

/** Changes the description and/or the schema (`schema: null` removes it); null when there is no such type. */
export async function updateEventType(
  q: Queryable,
  name: string,
  patch: { description?: string | undefined; schema?: unknown },
): Promise<EventType | null> {
  const r = await q.query<EventType>(
    `UPDATE event_types SET description = COALESCE($2, description),
       schema = CASE WHEN $3 THEN $4::jsonb ELSE schema END, updated_at = now()
     WHERE name = $1 RETURNING ${COLUMNS}`,
    [
      name,
      patch.description ?? null,
      patch.schema !== undefined,
      patch.schema === undefined || patch.schema === null ? null : JSON.stringify(patch.schema),
    ],
  );
  return r.rows[0] ?? null;
}

export async function setEventTypeArchived(q: Queryable, name: string, archived: boolean): Promise<EventType | null> {
  const r = await q.query<EventType>(
    `UPDATE event_types SET archived = $2, updated_at = CASE WHEN archived = $2 THEN updated_at ELSE now() END WHERE name = $1 RETURNING ${COLUMNS}`,
    [name, archived],
  );
  return r.rows[0] ?? null;
}

/** Removes the type from the catalog; messages already published keep their type's name. */
export async function deleteEventType(q: Queryable, name: string): Promise<boolean> {
  const r = await q.query(`DELETE FROM event_types WHERE name = $1`, [name]);
  return (r.rowCount ?? 0) > 0;
}

const schemaVersion = entity({
  version: col<number>('version'),
  schema: col<Record<string, unknown>>('schema'),
  breaking: col<boolean>('breaking'),
  reasons: col<string[]>('reasons'),
  createdAt: col<Date>('created_at'),
});
export type SchemaVersion = Row<typeof schemaVersion>;

/**
 * Records a new schema version of the type (the next number) and makes it current, in the caller's transaction.
 * `schema` null removes the current schema (no version is recorded). Returns the type, or null when there is none.
 */
export async function setSchema(
  q: Queryable,
  tenantId: string,
  name: string,
  schema: unknown,
  compat: { breaking: boolean; reasons: string[] },
): Promise<EventType | null> {
  if (schema === null) {
    const r = await q.query<EventType>(
      `UPDATE event_types SET schema = NULL, schema_version = NULL, updated_at = now() WHERE name = $1 RETURNING ${COLUMNS}`,
      [name],
    );
    return r.rows[0] ?? null;
  }
  const r = await q.query<EventType>(
    `WITH v AS (
       INSERT INTO event_type_schemas (tenant_id, event_type, version, schema, breaking, reasons)
       SELECT $1, $2, coalesce((SELECT max(version) FROM event_type_schemas WHERE event_type = $2), 0) + 1, $3::jsonb, $4, $5::jsonb
       WHERE EXISTS (SELECT 1 FROM event_types WHERE name = $2)
       RETURNING version
     )
     UPDATE event_types SET schema = $3::jsonb, schema_version = v.version, updated_at = now() FROM v WHERE name = $2 RETURNING ${COLUMNS}`,
    [tenantId, name, JSON.stringify(schema), compat.breaking, JSON.stringify(compat.reasons)],
  );
  return r.rows[0] ?? null;
}

export async function listSchemaVersions(q: Queryable, name: string): Promise<SchemaVersion[]> {
  const r = await q.query<SchemaVersion>(
    `SELECT ${schemaVersion.columns} FROM event_type_schemas WHERE event_type = $1 ORDER BY version DESC LIMIT 100`,
    [name],
  );
  return r.rows;
}

/** What a publish of this type must satisfy: whether the tenant requires declared types, and the current schema. */
export async function readPublishRules(
  q: Queryable,
  tenantId: string,
  name: string,
): Promise<{ strict: boolean; declared: boolean; version: string | null; schema: unknown }> {
  const r = await q.query<{ strict: boolean | null; declared: boolean; version: number | null; schema: unknown; updated_at: Date | null }>(
    `SELECT (SELECT (settings->>'requireDeclaredEventTypes')::boolean FROM tenants WHERE id = $1) AS strict,
            et.name IS NOT NULL AS declared, et.schema_version AS version, et.schema, et.updated_at
     FROM (SELECT 1) AS one LEFT JOIN event_types et ON et.name = $2`,
    [tenantId, name],
  );
  const x = r.rows[0]!;
  // A schema written by an older release has no version number: its update time stands in for one.
  const version = x.schema == null ? null : x.version != null ? String(x.version) : `t${x.updated_at!.getTime()}`;
  return { strict: x.strict === true, declared: x.declared, version, schema: x.schema };
}
