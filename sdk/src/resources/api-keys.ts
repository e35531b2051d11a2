import type { RequestOptions } from '../http.js';
import type { PagedList } from '../pagination.js';
import type { ApiKey, ApiKeyCreated, ApiKeyIn, PageParams } from '../types.js';
import { Resource, seg } from './base.js';

/** The tenant's API keys, each with scopes (`admin`, `publish`, `read`). Needs an admin key. */
export class ApiKeys extends Resource {
  /** Creates a key; its secret (`apiKey`) is in this answer only. */
  create(body: ApiKeyIn, options?: RequestOptions): Promise<ApiKeyCreated> {
    return this.send({ method: 'POST', path: '/v1/api-keys', body, options });
  }

  list(params?: PageParams, options?: RequestOptions): PagedList<ApiKey> {
    return this.paged('/v1/api-keys', params, options);
  }

  /** Revokes a key (by its id): it stops working at once. */
  async revoke(apiKey: string, options?: RequestOptions): Promise<void> {
    await this.send({ method: 'DELETE', path: `/v1/api-keys/${seg(apiKey)}`, options });
  }

  /** The same as `revoke`. */
  delete(apiKey: string, options?: RequestOptions): Promise<void> {
    return this.revoke(apiKey, options);
  }
}
