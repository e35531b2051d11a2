import type { HttpClient, HttpRequest, RequestOptions } from '../http.js';
import { PagedList } from '../pagination.js';
import type { PageBody, PageParams } from '../types.js';

/** A path segment: ids, uids and names are escaped, so a value can never reach another route. */
export const seg = (value: string): string => {
  if (typeof value !== 'string' || value === '') throw new TypeError('Tramline: an id, uid or name is required');
  return encodeURIComponent(value);
};

export abstract class Resource {
  constructor(protected readonly http: HttpClient) {}

  protected async send<T>(req: HttpRequest): Promise<T> {
    return (await this.http.request<T>(req)).body;
  }

  protected paged<T>(path: string, params: object | undefined, options?: RequestOptions): PagedList<T> {
    const { cursor, ...query } = (params ?? {}) as PageParams & NonNullable<HttpRequest['query']>;
    return new PagedList<T>((c) => this.send<PageBody<T>>({ method: 'GET', path, query: { ...query, cursor: c }, options }), cursor);
  }
}
