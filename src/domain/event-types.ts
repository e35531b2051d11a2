import { AppError, notFound } from '../errors.ts';
import * as store from '../store/event-types.ts';
import type { Page, PageQuery } from '../store/page.ts';
import type { DomainDeps } from './deps.ts';
import { compileSchema } from './event-schemas.ts';
import { compareSchemas, type Compatibility } from './schema-compat.ts';

export type EventTypeOut = store.EventType & { compatibility?: Compatibility & { previousVersion: number | null } };

/** A schema is a valid JSON Schema 2020-12 document (400 naming `body.schema…` otherwise). */
function requireValidSchema(schema: unknown): void {
  const c = compileSchema(schema);
  if (!c.ok) throw new AppError('VALIDATION', 'The schema is not a valid JSON Schema (2020-12)', { errors: c.errors });
}

export async function createEventType(
  deps: DomainDeps,
  tenantId: string,
  input: { name: string; description?: string | undefined; schema?: unknown },
): Promise<EventTypeOut> {
  if (input.schema !== undefined) requireValidSchema(input.schema);
  const created = await deps.db.tenant(tenantId, async (q) => {
    const e = await store.insertEventType(q, tenantId, { name: input.name, description: input.description ?? '', schema: undefined });
    if (!e || input.schema === undefined) return e;
    return store.setSchema(q, tenantId, input.name, input.schema, { breaking: false, reasons: [] });
  });
  if (!created) throw new AppError('CONFLICT', `Event type ${input.name} already exists`);
  return input.schema === undefined ? created : { ...created, compatibility: { breaking: false, reasons: [], previousVersion: null } };
}

export const listEventTypes = (
  deps: DomainDeps,
  tenantId: string,
  page: PageQuery & { includeArchived: boolean },
): Promise<Page<store.EventType>> => deps.db.tenant(tenantId, (q) => store.listEventTypes(q, page));

const orNotFound = <T>(e: T | null, name: string): T => {
  if (!e) throw notFound(`Event type ${name}`);
  return e;
};

export const getEventType = (deps: DomainDeps, tenantId: string, name: string): Promise<store.EventType> =>
  deps.db.tenant(tenantId, async (q) => orNotFound(await store.getEventType(q, name), name));

/**
 * Changes the description and/or the schema. A schema sent becomes a new version (1, 2, …), compared with
 * the current one: the answer's `compatibility` says whether it breaks and why. It is saved either way (the
 * tenant decides); `checkSchema` answers the same question without saving.
 */
export const updateEventType = (
  deps: DomainDeps,
  tenantId: string,
  name: string,
  patch: { description?: string | undefined; schema?: unknown },
): Promise<EventTypeOut> => {
  if (patch.schema !== undefined && patch.schema !== null) requireValidSchema(patch.schema);
  return deps.db.tenant(tenantId, async (q) => {
    const current = orNotFound(await store.getEventType(q, name), name);
    let updated = current;
    if (patch.description !== undefined)
      updated = orNotFound(await store.updateEventType(q, name, { description: patch.description }), name);
    if (patch.schema === undefined) return updated;
    const compat = compareSchemas(current.schema, patch.schema);
    updated = orNotFound(await store.setSchema(q, tenantId, name, patch.schema, compat), name);
    return patch.schema === null ? updated : { ...updated, compatibility: { ...compat, previousVersion: current.schemaVersion } };
  });
};

/** Would this schema, as the next version, break? Nothing is saved. */
export const checkSchema = (
  deps: DomainDeps,
  tenantId: string,
  name: string,
  schema: unknown,
): Promise<Compatibility & { previousVersion: number | null }> => {
  requireValidSchema(schema);
  return deps.db.tenant(tenantId, async (q) => {
    const current = orNotFound(await store.getEventType(q, name), name);
    return { ...compareSchemas(current.schema, schema), previousVersion: current.schemaVersion };
  });
};

export const listSchemaVersions = (deps: DomainDeps, tenantId: string, name: string): Promise<store.SchemaVersion[]> =>
  deps.db.tenant(tenantId, async (q) => {
    orNotFound(await store.getEventType(q, name), name);
    return store.listSchemaVersions(q, name);
  });

/** Archiving hides a type from the catalog (lists leave it out unless asked); it changes nothing for publishing. */
export const setEventTypeArchived = (deps: DomainDeps, tenantId: string, name: string, archived: boolean): Promise<store.EventType> =>
  deps.db.tenant(tenantId, async (q) => orNotFound(await store.setEventTypeArchived(q, name, archived), name));

export async function deleteEventType(deps: DomainDeps, tenantId: string, name: string): Promise<void> {
  const deleted = await deps.db.tenant(tenantId, (q) => store.deleteEventType(q, name));
  if (!deleted) throw notFound(`Event type ${name}`);
}
