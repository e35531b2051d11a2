import type { Queryable } from './db.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

export interface Tenant {
  id: string;
  name: string;
  createdAt: Date;
}

interface TenantRow {
  id: string;
  name: string;
  created_at: Date;
}

const toTenant = (r: TenantRow): Tenant => ({ id: r.id, name: r.name, createdAt: r.created_at });

export async function insertTenant(q: Queryable, t: { id: string; name: string }): Promise<Tenant> {
  const r = await q.query<TenantRow>('INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING id, name, created_at', [t.id, t.name]);
  return toTenant(r.rows[0]!);
}

export async function listTenants(q: Queryable, page: PageQuery): Promise<Page<Tenant>> {
  const r = await q.query<TenantRow>(
    `SELECT id, name, created_at FROM tenants WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
    [page.cursor ?? null, page.limit + 1],
  );
  return toPage(r.rows, page.limit, (x) => x.id, toTenant);
}
