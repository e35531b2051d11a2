import { notFound } from '../errors.ts';
import { newId } from '../store/ids.ts';
import * as store from '../store/tenants.ts';
import type { Page, PageQuery } from '../store/page.ts';
import type { DomainDeps } from './deps.ts';
import { issueKey } from './api-keys.ts';
import { insertWrappedKey } from '../store/tenant-keys.ts';

export interface CreatedTenant {
  tenant: store.Tenant;
  apiKey: string;
}

/** Creates the tenant with its first admin key, in one transaction. */
export async function createTenant(deps: DomainDeps, input: { name: string }): Promise<CreatedTenant> {
  const id = newId('ten');
  const dataKey = await deps.cipher.newWrappedKey(id);
  return deps.db.system(async (q) => {
    const tenant = await store.insertTenant(q, { id, name: input.name });
    await insertWrappedKey(q, dataKey);
    const { secret } = await issueKey(q, id, 'default admin key', ['admin']);
    return { tenant, apiKey: secret };
  });
}

export const listTenants = (deps: DomainDeps, page: PageQuery): Promise<Page<store.Tenant>> =>
  deps.db.system((q) => store.listTenants(q, page));

export interface TenantPatch {
  name?: string | undefined;
  /** API requests per second for the whole tenant (its plan); null: back to the operator's default. */
  rateLimitPerSecond?: number | null | undefined;
}

/** The operator's change to a tenant: its name or its plan. */
export async function updateTenant(deps: DomainDeps, id: string, patch: TenantPatch): Promise<store.Tenant> {
  const updated = await deps.db.system((q) => store.updateTenant(q, id, patch));
  if (!updated) throw notFound('Tenant');
  return updated;
}

export const tenantRateLimit = (deps: DomainDeps, id: string): Promise<number | null> =>
  deps.db.system((q) => store.tenantRateLimit(q, id));
