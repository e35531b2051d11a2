import { z } from 'zod';
import { listAuditLog } from '../../domain/audit.ts';
import { tenantOf } from '../plugins/auth.ts';
import { PageQuery, pageOf } from '../schemas/common.ts';
import type { Api, ApiDeps } from '../types.ts';

const AuditOut = z.object({
  id: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
  status: z.number().nullable(),
  at: z.date(),
});

export function auditLogRoutes(app: Api, deps: ApiDeps): void {
  app.get('/v1/audit-log', {
    config: { access: 'admin' },
    schema: { tags: ['audit log'], summary: 'Every change to this tenant: who, what, when and from where (newest first)', querystring: PageQuery, response: { 200: pageOf(AuditOut) } },
    handler: (req) => listAuditLog(deps, tenantOf(req), req.query),
  });
}
