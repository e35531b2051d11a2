import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditAction, auditTarget, recordAudit } from '../../domain/audit.ts';
import type { DomainDeps } from '../../domain/deps.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auditCreatedId: string | null;
  }
}

/**
 * Writes one audit entry for each successful change made through the API, after the response
 * (so a change never waits on it). The trade-off: a crash between the two loses the entry, never
 * the change; changes made by Tramline itself (an endpoint disabled after 410) are recorded in
 * their own transaction by the worker.
 */
export function registerAudit(app: FastifyInstance, deps: DomainDeps): void {
  app.decorateRequest('auditCreatedId', null);
  app.addHook('onSend', async (req, reply, payload) => {
    // A create answers with the new resource: keep its id as the target.
    if (reply.statusCode === 201 && typeof payload === 'string' && payload.startsWith('{')) {
      const m = /"id":"([A-Za-z0-9_]+)"/.exec(payload.slice(0, 200));
      req.auditCreatedId = m ? m[1]! : null;
    }
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode >= 400 || !req.principal) return;
    const action = auditAction(req.method, req.routeOptions.url ?? '');
    if (!action) return;
    const tenantId = tenantFor(req);
    if (!tenantId) return;
    try {
      await recordAudit(deps, {
        tenantId,
        actor: actorOf(req),
        action,
        target: auditTarget(req.params as Record<string, string>, req.auditCreatedId),
        ip: req.ip,
        requestId: req.id,
        status: reply.statusCode,
      });
    } catch (err) {
      req.log.error({ err, action }, 'could not write the audit entry');
    }
  });
}

function tenantFor(req: FastifyRequest): string | null {
  const p = req.principal!;
  if ('tenantId' in p) return p.tenantId;
  // The operator creating a tenant: the entry opens the new tenant's own log; changing one: it goes in that log.
  if (req.routeOptions.url === '/v1/tenants/:tenant') return (req.params as { tenant: string }).tenant;
  return req.routeOptions.url === '/v1/tenants' ? req.auditCreatedId : null;
}

function actorOf(req: FastifyRequest): string {
  const p = req.principal!;
  if (p.kind === 'tenant') return p.session ? `user:${p.session.userId}` : `key:${p.keyId}`;
  if (p.kind === 'operator') return 'operator';
  // A consumer-scoped principal (a portal token) is named by its consumer.
  const scoped = p as { kind: string; consumerId?: string };
  return `${scoped.kind}:${scoped.consumerId ?? ''}`;
}
