import type { Queryable } from './db.ts';

/** The tenant's own row (tenant role: RLS shows it its row only). */
export async function readTenantSettings(
  q: Queryable,
  tenantId: string,
): Promise<{ name: string; settings: Record<string, unknown> } | null> {
  const r = await q.query<{ name: string; settings: Record<string, unknown> | null }>('SELECT name, settings FROM tenants WHERE id = $1', [
    tenantId,
  ]);
  const x = r.rows[0];
  return x ? { name: x.name, settings: x.settings ?? {} } : null;
}

/** Read-modify-write of the settings document, the row locked for the transaction. */
export async function updateTenantSettings(
  q: Queryable,
  tenantId: string,
  change: (current: Record<string, unknown>) => Record<string, unknown>,
): Promise<{ name: string; settings: Record<string, unknown> } | null> {
  const r = await q.query<{ name: string; settings: Record<string, unknown> | null }>(
    'SELECT name, settings FROM tenants WHERE id = $1 FOR UPDATE',
    [tenantId],
  );
  const x = r.rows[0];
  if (!x) return null;
  const settings = change(x.settings ?? {});
  await q.query('UPDATE tenants SET settings = $2::jsonb WHERE id = $1', [tenantId, JSON.stringify(settings)]);
  return { name: x.name, settings };
}
