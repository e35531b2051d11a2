import { AppError } from '../errors.ts';
import * as store from '../store/event-types.ts';
import type { Page, PageQuery } from '../store/page.ts';
import type { DomainDeps } from './deps.ts';

export async function createEventType(
  deps: DomainDeps,
  tenantId: string,
  input: { name: string; description?: string | undefined; schema?: unknown },
): Promise<store.EventType> {
  const created = await deps.db.tenant(tenantId, (q) =>
    store.insertEventType(q, tenantId, { name: input.name, description: input.description ?? '', schema: input.schema }),
  );
  if (!created) throw new AppError('CONFLICT', `Event type ${input.name} already exists`);
  return created;
}

export const listEventTypes = (deps: DomainDeps, tenantId: string, page: PageQuery & { includeArchived: boolean }): Promise<Page<store.EventType>> =>
  deps.db.tenant(tenantId, (q) => store.listEventTypes(q, page));
