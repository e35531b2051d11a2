import { listOperationalConsumerIds } from '../store/consumers.ts';
import type { Queryable } from '../store/db.ts';
import * as deliveries from '../store/deliveries.ts';
import { newId } from '../store/ids.ts';
import * as messages from '../store/messages.ts';

/**
 * Operational events: what happens to a tenant's deliveries, told to the tenant itself. A tenant marks one of
 * its consumers `operational` and gives it endpoints (filtered by event type as any endpoint); each event is
 * then an ordinary message of that consumer — signed, retried, in its message log, resendable and
 * recoverable — written in the same transaction as what it reports, so it is never lost or invented.
 *
 * Events about an operational consumer's own endpoints are not sent (a failing operational endpoint would
 * otherwise report on itself forever).
 */
export const OPERATIONAL_EVENT_TYPES = [
  'endpoint.disabled',
  'endpoint.recovered',
  'message.attempt.exhausted',
  'message.attempt.failing',
] as const;
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];

export interface EndpointDisabledData {
  endpointId: string;
  consumerId: string;
  reason: string;
  disabledAt: string;
  /** The first failed attempt of the streak that disabled it (null: disabled by a 410 Gone alone). */
  failingSince: string | null;
}
export interface EndpointRecoveredData {
  endpointId: string;
  consumerId: string;
  failingSince: string | null;
  recoveredAt: string;
}
export interface MessageAttemptData {
  messageId: string;
  eventType: string;
  consumerId: string;
  endpointId: string;
  deliveryId: string;
  /** Attempts made so far for this delivery. */
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  at: string;
}

export type OperationalEvent =
  | { type: 'endpoint.disabled'; subjectConsumerId: string; key: string; data: EndpointDisabledData }
  | { type: 'endpoint.recovered'; subjectConsumerId: string; key: string; data: EndpointRecoveredData }
  | { type: 'message.attempt.exhausted' | 'message.attempt.failing'; subjectConsumerId: string; key: string; data: MessageAttemptData };

/**
 * Publishes the events to every operational consumer of the tenant, in the caller's transaction (the same
 * statements as a publish: messages, their matching deliveries, one NOTIFY). `key` makes each event's
 * eventId, so a repeat (an outcome recorded twice) is one message. Returns how many messages were written.
 */
export async function publishOperationalEvents(q: Queryable, tenantId: string, events: readonly OperationalEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const consumers = await listOperationalConsumerIds(q);
  if (consumers.length === 0) return 0;
  const rows: messages.NewMessage[] = [];
  for (const c of consumers) {
    for (const e of events) {
      if (consumers.includes(e.subjectConsumerId)) continue;
      rows.push({
        id: newId('msg'),
        consumerRef: c,
        eventType: e.type,
        eventId: `${e.type}:${e.key}`,
        payload: JSON.stringify(e.data),
        channels: null,
        traceparent: null,
      });
    }
  }
  if (rows.length === 0) return 0;
  const outcomes = await messages.insertMessages(q, tenantId, rows);
  const queued = outcomes.flatMap((o) => (o.kind === 'inserted' ? [{ messageId: o.message.id, endpointIds: o.endpointIds }] : []));
  await deliveries.enqueue(q, tenantId, queued, () => newId('dlv'));
  return queued.length;
}
