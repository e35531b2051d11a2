import type { PublishOptions, RequestOptions } from '../http.js';
import type { PagedList } from '../pagination.js';
import type {
  Attempt,
  Delivery,
  Message,
  MessageDetail,
  MessageIn,
  MessageListItem,
  MessageListParams,
  PageParams,
  ReplayedMessage,
} from '../types.js';
import { Resource, seg } from './base.js';

const base = (consumer: string): string => `/v1/consumers/${seg(consumer)}/messages`;
const one = (consumer: string, message: string): string => `${base(consumer)}/${seg(message)}`;

/** A random idempotency key (the gateway accepts letters, digits and `_ . : ~ -`). */
const newIdempotencyKey = (): string => `idem_${globalThis.crypto.randomUUID()}`;

/** Publishing, and the message log with each message's deliveries and attempts. */
export class Messages extends Resource {
  /**
   * Publishes an event to a consumer's endpoints. Resolves once the gateway has committed it (202); a
   * repeat of an `eventId` (or idempotency key) it already has resolves with the original message, without
   * its payload unless the key has the read scope. The request carries an `Idempotency-Key` that stays the
   * same across the client's own retries.
   */
  publish(consumer: string, message: MessageIn, options?: PublishOptions): Promise<Message | ReplayedMessage> {
    const idempotencyKey = options?.idempotencyKey ?? message.eventId ?? newIdempotencyKey();
    return this.send({ method: 'POST', path: base(consumer), body: message, idempotencyKey, options });
  }

  /** The consumer's messages, newest first, each with its status, optionally filtered by event type, channel, time and status. */
  list(consumer: string, params?: MessageListParams, options?: RequestOptions): PagedList<MessageListItem> {
    const { before, after, ...rest } = params ?? {};
    const iso = (d: Date | string | undefined) => (d instanceof Date ? d.toISOString() : d);
    return this.paged(base(consumer), { ...rest, before: iso(before), after: iso(after) }, options);
  }

  /** A message, by id (`msg_…`) or eventId, with the state of its deliveries. */
  get(consumer: string, message: string, options?: RequestOptions): Promise<MessageDetail> {
    return this.send({ method: 'GET', path: one(consumer, message), options });
  }

  /** Every delivery attempt of a message, newest first. */
  attempts(consumer: string, message: string, params?: PageParams, options?: RequestOptions): PagedList<Attempt> {
    return this.paged(`${one(consumer, message)}/attempts`, params, options);
  }

  /** Sends the message to one endpoint again, now. */
  resend(consumer: string, message: string, endpoint: string, options?: RequestOptions): Promise<Delivery> {
    return this.send({ method: 'POST', path: `${one(consumer, message)}/endpoints/${seg(endpoint)}/resend`, options });
  }
}
