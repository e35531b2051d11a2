import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';
import { newId } from './ids.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

const auditEntry = entity({
  id: col<string>('id'),
  actor: col<string>('actor'),
  action: col<string>('action'),
  target: col<string | null>('target'),
  ip: col<string | null>('ip'),
  requestId: col<string | null>('request_id'),
  status: col<number | null>('status'),
  createdAt: col<Date>('at'),
});
export type AuditEntry = Row<typeof auditEntry>;

export interface AuditInput {
  tenantId: string;
  actor: string;
  action: string;
  target?: string | null;
  ip?: string | null;
  requestId?: string | null;
  status?: number | null;
}

export async function insertAudit(q: Queryable, e: AuditInput): Promise<void> {
  await q.query(
    'INSERT INTO audit_log (id, tenant_id, actor, action, target, ip, request_id, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [newId('aud'), e.tenantId, e.actor, e.action, e.target ?? null, e.ip ?? null, e.requestId ?? null, e.status ?? null],
  );
}

export async function listAudit(q: Queryable, page: PageQuery): Promise<Page<AuditEntry>> {
  const r = await q.query<AuditEntry>(
    `SELECT ${auditEntry.columns} FROM audit_log WHERE ($1::text IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
    [page.cursor ?? null, page.limit + 1],
  );
  return toPage(r.rows, page.limit, (x) => x.id);
}
