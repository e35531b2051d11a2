import type { RequestOptions } from '../http.js';
import type { PagedList } from '../pagination.js';
import type {
  Attempt,
  DateLike,
  Endpoint,
  EndpointIn,
  EndpointPatch,
  EndpointSecret,
  FilterTestIn,
  FilterTestResult,
  PageParams,
  RecoverResult,
  Replay,
  ReplayIn,
  ReplaySkippedResult,
  RotateSecretIn,
} from '../types.js';
import { Resource, seg } from './base.js';

const base = (consumer: string): string => `/v1/consumers/${seg(consumer)}/endpoints`;
const one = (consumer: string, endpoint: string): string => `${base(consumer)}/${seg(endpoint)}`;

/** A consumer's endpoints: where its webhooks are delivered. */
export class Endpoints extends Resource {
  /** Creates an endpoint; its signing secret is generated unless `secret` is given (read it with `getSecret`). */
  create(consumer: string, body: EndpointIn, options?: RequestOptions): Promise<Endpoint> {
    return this.send({ method: 'POST', path: base(consumer), body, options });
  }

  get(consumer: string, endpoint: string, options?: RequestOptions): Promise<Endpoint> {
    return this.send({ method: 'GET', path: one(consumer, endpoint), options });
  }

  list(consumer: string, params?: PageParams, options?: RequestOptions): PagedList<Endpoint> {
    return this.paged(base(consumer), params, options);
  }

  /** Changes only the fields sent; `disabled: false` re-enables an endpoint. */
  update(consumer: string, endpoint: string, patch: EndpointPatch, options?: RequestOptions): Promise<Endpoint> {
    return this.send({ method: 'PATCH', path: one(consumer, endpoint), body: patch, options });
  }

  async delete(consumer: string, endpoint: string, options?: RequestOptions): Promise<void> {
    await this.send({ method: 'DELETE', path: one(consumer, endpoint), options });
  }

  /** The signing secret (`whsec_…`) that a receiver verifies with (see verifyWebhook). */
  getSecret(consumer: string, endpoint: string, options?: RequestOptions): Promise<EndpointSecret> {
    return this.send({ method: 'GET', path: `${one(consumer, endpoint)}/secret`, options });
  }

  /** A new signing secret (generated unless given); the previous one keeps signing for 24 hours. */
  rotateSecret(consumer: string, endpoint: string, body?: RotateSecretIn, options?: RequestOptions): Promise<EndpointSecret> {
    return this.send({ method: 'POST', path: `${one(consumer, endpoint)}/secret/rotate`, body: body ?? {}, options });
  }

  /** Every delivery attempt to this endpoint, newest first. */
  attempts(consumer: string, endpoint: string, params?: PageParams, options?: RequestOptions): PagedList<Attempt> {
    return this.paged(`${one(consumer, endpoint)}/attempts`, params, options);
  }

  /** Sends the messages published while the endpoint was disabled (its `skippedDeliveries`), now. */
  replaySkipped(consumer: string, endpoint: string, options?: RequestOptions): Promise<ReplaySkippedResult> {
    return this.send({ method: 'POST', path: `${one(consumer, endpoint)}/replay-skipped`, options });
  }

  /** Starts a bulk replay of every message matching `filter` to this endpoint; follow it with `getReplay`. */
  replay(consumer: string, endpoint: string, filter: ReplayIn, options?: RequestOptions): Promise<Replay> {
    const iso = (d: DateLike | undefined) => (d instanceof Date ? d.toISOString() : d);
    const body = { ...filter, since: iso(filter.since), until: iso(filter.until) };
    return this.send({ method: 'POST', path: `${one(consumer, endpoint)}/replays`, body, options });
  }

  /** A bulk replay's progress: `queued` of `total`, `state` running, completed or failed. */
  getReplay(consumer: string, endpoint: string, replay: string, options?: RequestOptions): Promise<Replay> {
    return this.send({ method: 'GET', path: `${one(consumer, endpoint)}/replays/${seg(replay)}`, options });
  }

  /** Which of the consumer's latest messages a payload filter (CEL) would let through; nothing is saved. */
  testFilter(consumer: string, body: FilterTestIn, options?: RequestOptions): Promise<FilterTestResult> {
    return this.send({ method: 'POST', path: `/v1/consumers/${seg(consumer)}/filter-test`, body, options });
  }

  /** Sends again every delivery to this endpoint that failed (or was skipped while disabled), for messages since `since`. */
  recover(consumer: string, endpoint: string, body: { since: DateLike }, options?: RequestOptions): Promise<RecoverResult> {
    const since = body.since instanceof Date ? body.since.toISOString() : body.since;
    return this.send({ method: 'POST', path: `${one(consumer, endpoint)}/recover`, body: { ...body, since }, options });
  }
}
