import type { Queryable } from './db.ts';

/** Each tenant's data key, wrapped by a master key version (system role: the worker needs every tenant's). */
export interface WrappedKey {
  tenantId: string;
  version: number;
  wrapped: string;
}

export async function getWrappedKey(q: Queryable, tenantId: string): Promise<WrappedKey | null> {
  const r = await q.query<{ master_version: number; wrapped_key: string }>('SELECT master_version, wrapped_key FROM tenant_keys WHERE tenant_id = $1', [tenantId]);
  const row = r.rows[0];
  return row ? { tenantId, version: row.master_version, wrapped: row.wrapped_key } : null;
}

/** Stores the key unless another process stored one first; returns the one that won. */
export async function insertWrappedKey(q: Queryable, k: WrappedKey): Promise<WrappedKey> {
  await q.query('INSERT INTO tenant_keys (tenant_id, master_version, wrapped_key) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO NOTHING', [
    k.tenantId,
    k.version,
    k.wrapped,
  ]);
  return (await getWrappedKey(q, k.tenantId))!;
}

export async function listWrappedKeysNotAt(q: Queryable, version: number): Promise<WrappedKey[]> {
  const r = await q.query<{ tenant_id: string; master_version: number; wrapped_key: string }>(
    'SELECT tenant_id, master_version, wrapped_key FROM tenant_keys WHERE master_version <> $1 ORDER BY tenant_id',
    [version],
  );
  return r.rows.map((x) => ({ tenantId: x.tenant_id, version: x.master_version, wrapped: x.wrapped_key }));
}

export async function replaceWrappedKey(q: Queryable, k: WrappedKey, previousVersion: number): Promise<boolean> {
  const r = await q.query('UPDATE tenant_keys SET master_version = $2, wrapped_key = $3, rotated_at = now() WHERE tenant_id = $1 AND master_version = $4', [
    k.tenantId,
    k.version,
    k.wrapped,
    previousVersion,
  ]);
  return r.rowCount > 0;
}
