import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

export type Scope = 'admin' | 'publish' | 'read';

const apiKey = entity({
  id: col<string>('id'),
  tenantId: col<string>('tenant_id'),
  name: col<string>('name'),
  prefix: col<string>('prefix'),
  scopes: col<Scope[]>('scopes'),
  createdAt: col<Date>('created_at'),
  revokedAt: col<Date | null>('revoked_at'),
  lastUsedAt: col<Date | null>('last_used_at'),
});
export type ApiKey = Row<typeof apiKey>;
const COLUMNS = apiKey.columns;

export async function insertApiKey(
  q: Queryable,
  k: { id: string; tenantId: string; name: string; prefix: string; hash: string; scopes: Scope[] },
): Promise<ApiKey> {
  const r = await q.query<ApiKey>(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, hash, scopes) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [k.id, k.tenantId, k.name, k.prefix, k.hash, k.scopes],
  );
  return r.rows[0]!;
}

/** System path: the tenant is not known until the key is found. */
export async function findActiveKeyByHash(q: Queryable, hash: string): Promise<ApiKey | null> {
  const r = await q.query<ApiKey>(`SELECT ${COLUMNS} FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, [hash]);
  return r.rows[0] ?? null;
}

export async function touchApiKey(q: Queryable, id: string): Promise<void> {
  // At most one write a minute per key: a busy key must not turn every request into a write.
  await q.query(
    `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}

export async function listApiKeys(q: Queryable, page: PageQuery): Promise<Page<ApiKey>> {
  const r = await q.query<ApiKey>(`SELECT ${COLUMNS} FROM api_keys WHERE ($1::text IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`, [
    page.cursor ?? null,
    page.limit + 1,
  ]);
  return toPage(r.rows, page.limit, (x) => x.id);
}

export async function getApiKey(q: Queryable, id: string): Promise<ApiKey | null> {
  const r = await q.query<ApiKey>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  return r.rows[0] ?? null;
}

export async function revokeApiKey(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query(`UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, [id]);
  return r.rowCount > 0;
}
