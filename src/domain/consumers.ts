import { AppError, notFound } from '../errors.ts';
import { newId } from '../store/ids.ts';
import * as store from '../store/consumers.ts';
import type { Queryable } from '../store/db.ts';
import type { Page, PageQuery } from '../store/page.ts';
import type { DomainDeps } from './deps.ts';

export type Consumer = store.Consumer;

/** Resolves a consumer by id or uid inside an open tenant transaction, or throws 404. */
export async function requireConsumer(q: Queryable, ref: string): Promise<Consumer> {
  const c = await store.findConsumer(q, ref);
  if (!c) throw notFound('Consumer');
  return c;
}

export async function createConsumer(
  deps: DomainDeps,
  tenantId: string,
  input: {
    name: string;
    uid?: string | null | undefined;
    metadata?: Record<string, unknown> | undefined;
    operational?: boolean | undefined;
  },
): Promise<Consumer> {
  const created = await deps.db.tenant(tenantId, (q) =>
    store.insertConsumer(q, {
      id: newId('con'),
      tenantId,
      uid: input.uid ?? null,
      name: input.name,
      metadata: input.metadata ?? {},
      operational: input.operational ?? false,
    }),
  );
  if (!created)
    throw new AppError('CONFLICT', `A consumer with uid ${input.uid} already exists`, {
      errors: [{ field: 'body.uid', message: 'already taken' }],
    });
  return created;
}

export const getConsumer = (deps: DomainDeps, tenantId: string, ref: string): Promise<Consumer> =>
  deps.db.tenant(tenantId, (q) => requireConsumer(q, ref));

export const listConsumers = (deps: DomainDeps, tenantId: string, page: PageQuery): Promise<Page<Consumer>> =>
  deps.db.tenant(tenantId, (q) => store.listConsumers(q, page));

export async function updateConsumer(
  deps: DomainDeps,
  tenantId: string,
  ref: string,
  patch: Parameters<typeof store.updateConsumer>[2],
): Promise<Consumer> {
  return deps.db.tenant(tenantId, async (q) => {
    const c = await requireConsumer(q, ref);
    const updated = await store.updateConsumer(q, c.id, patch);
    if (!updated)
      throw new AppError('CONFLICT', `A consumer with uid ${patch.uid} already exists`, {
        errors: [{ field: 'body.uid', message: 'already taken' }],
      });
    return updated;
  });
}

export const deleteConsumer = (deps: DomainDeps, tenantId: string, ref: string): Promise<void> =>
  deps.db.tenant(tenantId, async (q) => {
    const c = await requireConsumer(q, ref);
    await store.deleteConsumer(q, c.id);
  });
