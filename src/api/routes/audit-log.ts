import { z } from 'zod';
import { listAuditLog } from '../../domain/audit.ts';
import { tenantOf } from '../plugins/auth.ts';
import { IdOf, idCursor, pageOf, pageQuery } from '../schemas/common.ts';
import type { Api, ApiDeps } from '../types.ts';

const AuditOut = z.object({
  id: IdOf('aud'),
  actor: z
    .string()
    .describe('key:<key id>, operator, or portal:<consumer id>')
    .meta({ examples: ['key:key_01kb2x3y4z5a6b7c8d9e0f1g2h'] }),
  action: z.string().meta({ examples: ['endpoint.create'] }),
  target: z.string().nullable().describe('The ids the change concerned, joined by /'),
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
  status: z.number().int().nullable().describe('The HTTP status of the answer'),
  createdAt: z.date(),
});

export function auditLogRoutes(app: Api, deps: ApiDeps): void {
  app.get('/v1/audit-log', {
    config: { access: 'admin' },
    schema: {
      tags: ['audit-log'],
      operationId: 'listAuditLog',
      summary: 'List the audit log',
      description: 'Every change to this tenant made through the API or by Tramline itself: who, what, when and from where, newest first.',
      querystring: pageQuery(idCursor('aud')),
      response: { 200: pageOf(AuditOut) },
    },
    handler: (req) => listAuditLog(deps, tenantOf(req), req.query),
  });
}
