import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';

/** Each tenant's data key, wrapped by a master key version (system role: the worker needs every tenant's). */
const wrappedKey = entity({
  tenantId: col<string>('tenant_id'),
  version: col<number>('master_version'),
  wrapped: col<string>('wrapped_key'),
});
export type WrappedKey = Row<typeof wrappedKey>;

export async function getWrappedKey(q: Queryable, tenantId: string): Promise<WrappedKey | null> {
  const r = await q.query<WrappedKey>(`SELECT ${wrappedKey.columns} FROM tenant_keys WHERE tenant_id = $1`, [tenantId]);
  return r.rows[0] ?? null;
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

/**
 * Keys not wrapped by the current version of the current wrapper. The scheme (the wrapped value's prefix:
 * `enc:1:` master key, `kms:1:` AWS KMS) counts too: master key version 1 and KMS key version 1 differ.
 */
export async function listWrappedKeysNotAt(q: Queryable, version: number, scheme: string): Promise<WrappedKey[]> {
  const r = await q.query<WrappedKey>(
    `SELECT ${wrappedKey.columns} FROM tenant_keys WHERE master_version <> $1 OR NOT starts_with(wrapped_key, $2) ORDER BY tenant_id`,
    [version, scheme],
  );
  return r.rows;
}

/** Replaces the wrapped key only if it is still the one read (another rotation may have replaced it meanwhile). */
export async function replaceWrappedKey(q: Queryable, k: WrappedKey, previous: WrappedKey): Promise<boolean> {
  const r = await q.query(
    'UPDATE tenant_keys SET master_version = $2, wrapped_key = $3, rotated_at = now() WHERE tenant_id = $1 AND master_version = $4 AND wrapped_key = $5',
    [k.tenantId, k.version, k.wrapped, previous.version, previous.wrapped],
  );
  return r.rowCount > 0;
}

/** Which wrapper versions protect stored keys: (scheme prefix, version) pairs with one wrapped key of each, for a start-up check. */
export async function wrappedKeyVersionsInUse(q: Queryable): Promise<WrappedKey[]> {
  const r = await q.query<WrappedKey>(
    `SELECT DISTINCT ON (left(wrapped_key, 6), master_version) ${wrappedKey.columns} FROM tenant_keys ORDER BY left(wrapped_key, 6), master_version, tenant_id`,
  );
  return r.rows;
}
