import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

const tenant = entity({
  id: col<string>('id'),
  name: col<string>('name'),
  rateLimitPerSecond: col<number | null>('rate_limit_per_second'),
  createdAt: col<Date>('created_at'),
});
export type Tenant = Row<typeof tenant>;

export async function insertTenant(q: Queryable, t: { id: string; name: string }): Promise<Tenant> {
  const r = await q.query<Tenant>(`INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING ${tenant.columns}`, [t.id, t.name]);
  return r.rows[0]!;
}

export async function listTenants(q: Queryable, page: PageQuery): Promise<Page<Tenant>> {
  const r = await q.query<Tenant>(`SELECT ${tenant.columns} FROM tenants WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`, [
    page.cursor ?? null,
    page.limit + 1,
  ]);
  return toPage(r.rows, page.limit, (x) => x.id);
}

/** Sets what is given (undefined: unchanged); null if there is no such tenant. */
export async function updateTenant(
  q: Queryable,
  id: string,
  patch: { name?: string | undefined; rateLimitPerSecond?: number | null | undefined },
): Promise<Tenant | null> {
  const r = await q.query<Tenant>(
    `UPDATE tenants SET name = COALESCE($2, name),
       rate_limit_per_second = CASE WHEN $3::boolean THEN $4::integer ELSE rate_limit_per_second END
     WHERE id = $1 RETURNING ${tenant.columns}`,
    [id, patch.name ?? null, patch.rateLimitPerSecond !== undefined, patch.rateLimitPerSecond ?? null],
  );
  return r.rows[0] ?? null;
}

/** The tenant's own API request limit per second; null: none of its own (the operator's default applies). */
export async function tenantRateLimit(q: Queryable, id: string): Promise<number | null> {
  const r = await q.query<{ rateLimitPerSecond: number | null }>(
    'SELECT rate_limit_per_second AS "rateLimitPerSecond" FROM tenants WHERE id = $1',
    [id],
  );
  return r.rows[0]?.rateLimitPerSecond ?? null;
}
