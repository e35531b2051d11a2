import type { RequestOptions } from '../http.js';
import type { PagedList } from '../pagination.js';
import type { Consumer, ConsumerIn, ConsumerPatch, PageParams } from '../types.js';
import { Resource, seg } from './base.js';

/** The tenant's customers. A consumer is addressed by its id (`con_…`) or by the tenant's own `uid`. */
export class Consumers extends Resource {
  create(body: ConsumerIn, options?: RequestOptions): Promise<Consumer> {
    return this.send({ method: 'POST', path: '/v1/consumers', body, options });
  }

  get(consumer: string, options?: RequestOptions): Promise<Consumer> {
    return this.send({ method: 'GET', path: `/v1/consumers/${seg(consumer)}`, options });
  }

  list(params?: PageParams, options?: RequestOptions): PagedList<Consumer> {
    return this.paged('/v1/consumers', params, options);
  }

  update(consumer: string, patch: ConsumerPatch, options?: RequestOptions): Promise<Consumer> {
    return this.send({ method: 'PATCH', path: `/v1/consumers/${seg(consumer)}`, body: patch, options });
  }

  /** Deletes the consumer with its endpoints and messages. */
  async delete(consumer: string, options?: RequestOptions): Promise<void> {
    await this.send({ method: 'DELETE', path: `/v1/consumers/${seg(consumer)}`, options });
  }
}
