import type { Queryable } from './db.ts';
import { newId } from './ids.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

export interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  requestId: string | null;
  status: number | null;
  at: Date;
}

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
  await q.query('INSERT INTO audit_log (id, tenant_id, actor, action, target, ip, request_id, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
    newId('aud'),
    e.tenantId,
    e.actor,
    e.action,
    e.target ?? null,
    e.ip ?? null,
    e.requestId ?? null,
    e.status ?? null,
  ]);
}

interface AuditRow {
  id: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  request_id: string | null;
  status: number | null;
  at: Date;
}

export async function listAudit(q: Queryable, page: PageQuery): Promise<Page<AuditEntry>> {
  const r = await q.query<AuditRow>(
    `SELECT id, actor, action, target, ip, request_id, status, at FROM audit_log WHERE ($1::text IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
    [page.cursor ?? null, page.limit + 1],
  );
  return toPage(r.rows, page.limit, (x) => x.id, (x) => ({
    id: x.id,
    actor: x.actor,
    action: x.action,
    target: x.target,
    ip: x.ip,
    requestId: x.request_id,
    status: x.status,
    at: x.at,
  }));
}
