import * as store from '../store/audit-log.ts';
import type { Page, PageQuery } from '../store/page.ts';
import type { Queryable } from '../store/db.ts';
import type { DomainDeps } from './deps.ts';

export type AuditEntry = store.AuditEntry;

/**
 * The audit name of a request, from its method and route template; null for requests that change
 * nothing worth auditing (reads, and publishing, whose record is the message log itself).
 * Reading a signing secret is audited: it is the one read that hands out a credential.
 */
export function auditAction(method: string, route: string): string | null {
  const m = method.toUpperCase();
  if (route === '/v1/consumers/:consumer/endpoints/:endpoint/secret') return m === 'GET' ? 'endpoint.secret.read' : null;
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return null;
  if (m === 'POST' && route === '/v1/consumers/:consumer/messages') return null;
  const known: Record<string, string> = {
    'POST /v1/tenants': 'tenant.create',
    'PATCH /v1/tenants/:tenant': 'tenant.update',
    'POST /v1/api-keys': 'api_key.create',
    'DELETE /v1/api-keys/:apiKey': 'api_key.revoke',
    'POST /v1/event-types': 'event_type.create',
    'PATCH /v1/event-types/:eventType': 'event_type.update',
    'DELETE /v1/event-types/:eventType': 'event_type.delete',
    'POST /v1/event-types/:eventType/archive': 'event_type.archive',
    'POST /v1/event-types/:eventType/unarchive': 'event_type.unarchive',
    'POST /v1/consumers': 'consumer.create',
    'PATCH /v1/consumers/:consumer': 'consumer.update',
    'DELETE /v1/consumers/:consumer': 'consumer.delete',
    'POST /v1/consumers/:consumer/endpoints': 'endpoint.create',
    'PATCH /v1/consumers/:consumer/endpoints/:endpoint': 'endpoint.update',
    'DELETE /v1/consumers/:consumer/endpoints/:endpoint': 'endpoint.delete',
    'POST /v1/consumers/:consumer/endpoints/:endpoint/secret/rotate': 'endpoint.secret.rotate',
    'POST /v1/consumers/:consumer/endpoints/:endpoint/recover': 'endpoint.recover',
    'POST /v1/consumers/:consumer/messages/:message/endpoints/:endpoint/resend': 'message.resend',
    'POST /v1/consumers/:consumer/portal-sessions': 'portal_session.create',
    'POST /v1/users/:user/password-reset': 'user.password_reset.issue',
  };
  // A route added later is still audited, under its method and template.
  return known[`${m} ${route}`] ?? `${m} ${route}`;
}

/** What a request acted on: its path ids, and the id it created. */
export function auditTarget(params: Record<string, string>, createdId: string | null): string | null {
  const parts = [params.tenant, params.consumer, params.endpoint, params.message, params.apiKey, params.eventType, createdId].filter(
    (x): x is string => !!x,
  );
  return parts.length > 0 ? parts.join('/') : null;
}

export const recordAudit = (deps: DomainDeps, entry: store.AuditInput): Promise<void> =>
  deps.db.tenant(entry.tenantId, (q) => store.insertAudit(q, entry));

export const listAuditLog = (deps: DomainDeps, tenantId: string, page: PageQuery): Promise<Page<AuditEntry>> =>
  deps.db.tenant(tenantId, (q) => store.listAudit(q, page));

/** An action the gateway took by itself (the breaker disabling an endpoint), audited inside the caller's transaction. */
export const auditSystemAction = (q: Queryable, tenantId: string, action: string, target: string): Promise<void> =>
  store.insertAudit(q, { tenantId, actor: 'system', action, target });
