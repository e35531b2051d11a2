import type { RequestOptions } from '../http.js';
import type { PagedList } from '../pagination.js';
import type { EventType, EventTypeIn, EventTypeListParams, EventTypePatch } from '../types.js';
import { Resource, seg } from './base.js';

const one = (name: string): string => `/v1/event-types/${seg(name)}`;

/** The tenant's catalog of event types (optional unless the tenant asks for strict mode). */
export class EventTypes extends Resource {
  create(body: EventTypeIn, options?: RequestOptions): Promise<EventType> {
    return this.send({ method: 'POST', path: '/v1/event-types', body, options });
  }

  get(eventType: string, options?: RequestOptions): Promise<EventType> {
    return this.send({ method: 'GET', path: one(eventType), options });
  }

  list(params?: EventTypeListParams, options?: RequestOptions): PagedList<EventType> {
    return this.paged('/v1/event-types', params, options);
  }

  update(eventType: string, patch: EventTypePatch, options?: RequestOptions): Promise<EventType> {
    return this.send({ method: 'PATCH', path: one(eventType), body: patch, options });
  }

  async delete(eventType: string, options?: RequestOptions): Promise<void> {
    await this.send({ method: 'DELETE', path: one(eventType), options });
  }

  /** Archived types stay valid for old messages and are hidden from lists unless `includeArchived`. */
  archive(eventType: string, options?: RequestOptions): Promise<EventType> {
    return this.send({ method: 'POST', path: `${one(eventType)}/archive`, options });
  }

  unarchive(eventType: string, options?: RequestOptions): Promise<EventType> {
    return this.send({ method: 'POST', path: `${one(eventType)}/unarchive`, options });
  }
}
