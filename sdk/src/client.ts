import { HttpClient, type TramlineOptions } from './http.js';
import { ApiKeys } from './resources/api-keys.js';
import { Consumers } from './resources/consumers.js';
import { Endpoints } from './resources/endpoints.js';
import { EventTypes } from './resources/event-types.js';
import { Messages } from './resources/messages.js';
import { AuditLog, PortalSessions, Tenants } from './resources/misc.js';

/**
 * The Tramline client.
 *
 *   const tramline = new Tramline({ apiKey: process.env.TRAMLINE_API_KEY!, baseUrl: 'https://events.example.com' });
 *   await tramline.messages.publish('globex', { eventType: 'invoice.paid', payload: { invoice: 'inv_1001' } });
 */
export class Tramline {
  readonly consumers: Consumers;
  readonly endpoints: Endpoints;
  readonly messages: Messages;
  readonly eventTypes: EventTypes;
  readonly apiKeys: ApiKeys;
  readonly portalSessions: PortalSessions;
  readonly auditLog: AuditLog;
  /** Tenant administration (the operator token as apiKey). */
  readonly tenants: Tenants;
  readonly baseUrl: string;

  constructor(options: TramlineOptions) {
    const http = new HttpClient(options);
    this.baseUrl = http.baseUrl;
    this.consumers = new Consumers(http);
    this.endpoints = new Endpoints(http);
    this.messages = new Messages(http);
    this.eventTypes = new EventTypes(http);
    this.apiKeys = new ApiKeys(http);
    this.portalSessions = new PortalSessions(http);
    this.auditLog = new AuditLog(http);
    this.tenants = new Tenants(http);
  }
}
