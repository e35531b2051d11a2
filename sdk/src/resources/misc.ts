import type { RequestOptions } from '../http.js';
import type { PagedList } from '../pagination.js';
import type { AuditLogEntry, PageParams, PortalSession, PortalSessionIn, Tenant, TenantCreated, TenantIn } from '../types.js';
import { Resource, seg } from './base.js';

/** Links to the embeddable portal, where a consumer manages its own endpoints. */
export class PortalSessions extends Resource {
  /** A short-lived portal token (`tlp_…`) and URL for one consumer. */
  create(consumer: string, body?: PortalSessionIn, options?: RequestOptions): Promise<PortalSession> {
    return this.send({ method: 'POST', path: `/v1/consumers/${seg(consumer)}/portal-sessions`, body: body ?? {}, options });
  }
}

/** Every change to the tenant: who, what, when and from where (newest first). Needs an admin key. */
export class AuditLog extends Resource {
  list(params?: PageParams, options?: RequestOptions): PagedList<AuditLogEntry> {
    return this.paged('/v1/audit-log', params, options);
  }
}

/** Tenant administration: needs the operator token as `apiKey`. */
export class Tenants extends Resource {
  /** Creates a tenant; its admin API key (`apiKey`) is in this answer only. */
  create(body: TenantIn, options?: RequestOptions): Promise<TenantCreated> {
    return this.send({ method: 'POST', path: '/v1/tenants', body, options });
  }

  list(params?: PageParams, options?: RequestOptions): PagedList<Tenant> {
    return this.paged('/v1/tenants', params, options);
  }
}
