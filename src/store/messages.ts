import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';
import { messageStatusSql, type MessageStatus } from './message-status.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

const message = entity({
  id: col<string>('id'),
  consumerId: col<string>('consumer_id'),
  eventType: col<string>('event_type'),
  eventId: col<string>('event_id'),
  /** The payload as validated JSON text. */
  payload: col<string>('payload'),
  channels: col<string[] | null>('channels'),
  createdAt: col<Date>('created_at'),
});
export type Message = Row<typeof message>;
const COLUMNS = message.columns;

export type InsertOutcome =
  | { kind: 'no-consumer' }
  | { kind: 'duplicate'; consumerId: string }
  | { kind: 'inserted'; message: Message; endpointIds: string[]; conditional: ConditionalEndpoint[] };

/**
 * A matching endpoint whose delivery depends on more than its type and channel lists: a payload filter
 * to evaluate, or disabled (the delivery is recorded as skipped). Rare, so kept apart from the plain ids.
 */
export interface ConditionalEndpoint {
  id: string;
  disabled: boolean;
  filter: string | null;
}

export interface NewMessage {
  id: string;
  consumerRef: string;
  eventType: string;
  eventId: string;
  payload: string;
  channels: string[] | null;
  /** The publish span's W3C traceparent when tracing is on. */
  traceparent: string | null;
}

/**
 * One round trip for a batch of publishes (one tenant's): resolves each consumer (id or uid),
 * inserts each message unless its eventId is taken for that consumer, and picks the endpoints
 * whose filters match. A concurrent duplicate waits on the unique index and then inserts
 * nothing, so a repeat never makes a second message; within one batch the earlier row wins.
 * Endpoint filters: no event-type list takes every type; a channel list takes only messages that
 * carry at least one of those channels. Enabled endpoints without a payload filter come back as plain
 * ids; the others (disabled, or with a payload filter) as `conditional`, for the publisher to decide.
 * Outcomes come back in the order of `ms`.
 */
export async function insertMessages(q: Queryable, tenantId: string, ms: readonly NewMessage[]): Promise<InsertOutcome[]> {
  const r = await q.query<{
    n: string;
    consumer_id: string | null;
    id: string | null;
    created_at: Date | null;
    endpoint_ids: string[];
    conditional: Array<[string, boolean, string | null]> | null;
  }>(
    `WITH i AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::text[])
         WITH ORDINALITY AS i(id, consumer_ref, event_type, event_id, payload, channels_json, traceparent, n)
     ), r AS (
       SELECT i.*,
              (SELECT c.id FROM consumers c WHERE c.id = i.consumer_ref OR c.uid = i.consumer_ref ORDER BY (c.id = i.consumer_ref) DESC LIMIT 1) AS consumer_id,
              CASE WHEN i.channels_json IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(i.channels_json::jsonb)) END AS channels
       FROM i
     ), m AS (
       INSERT INTO messages (id, tenant_id, consumer_id, event_type, event_id, payload, channels, traceparent)
       SELECT id, $7, consumer_id, event_type, event_id, payload, channels, traceparent FROM r WHERE consumer_id IS NOT NULL ORDER BY n
       ON CONFLICT (consumer_id, event_id) DO NOTHING
       RETURNING id, created_at
     )
     SELECT r.n, r.consumer_id, m.id, m.created_at,
            ARRAY(SELECT e.id FROM endpoints e
                  WHERE m.id IS NOT NULL AND e.consumer_id = r.consumer_id AND NOT e.disabled AND e.filter IS NULL
                    AND (e.event_types IS NULL OR r.event_type = ANY(e.event_types))
                    AND (e.channels IS NULL OR e.channels && coalesce(r.channels, '{}'))) AS endpoint_ids,
            (SELECT jsonb_agg(jsonb_build_array(e.id, e.disabled, e.filter)) FROM endpoints e
              WHERE m.id IS NOT NULL AND e.consumer_id = r.consumer_id AND (e.disabled OR e.filter IS NOT NULL)
                AND (e.event_types IS NULL OR r.event_type = ANY(e.event_types))
                AND (e.channels IS NULL OR e.channels && coalesce(r.channels, '{}'))) AS conditional
     FROM r LEFT JOIN m ON m.id = r.id
     ORDER BY r.n`,
    [
      ms.map((m) => m.id),
      ms.map((m) => m.consumerRef),
      ms.map((m) => m.eventType),
      ms.map((m) => m.eventId),
      ms.map((m) => m.payload),
      ms.map((m) => (m.channels ? JSON.stringify(m.channels) : null)),
      tenantId,
      ms.map((m) => m.traceparent),
    ],
    'tramline_insert_messages',
  );
  return r.rows.map((row, i): InsertOutcome => {
    const m = ms[i]!;
    if (!row.consumer_id) return { kind: 'no-consumer' };
    if (!row.id) return { kind: 'duplicate', consumerId: row.consumer_id };
    return {
      kind: 'inserted',
      endpointIds: row.endpoint_ids,
      conditional: (row.conditional ?? []).map(([id, disabled, filter]) => ({ id, disabled, filter })),
      message: {
        id: m.id,
        consumerId: row.consumer_id,
        eventType: m.eventType,
        eventId: m.eventId,
        payload: m.payload,
        channels: m.channels,
        createdAt: row.created_at!,
      },
    };
  });
}

/** The messages already stored under these (consumer, eventId) pairs, keyed `consumerId eventId`. */
export async function findMessagesByEventIds(
  q: Queryable,
  keys: ReadonlyArray<{ consumerId: string; eventId: string }>,
): Promise<Map<string, Message>> {
  const r = await q.query<Message>(
    `SELECT ${COLUMNS} FROM messages WHERE (consumer_id, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [keys.map((k) => k.consumerId), keys.map((k) => k.eventId)],
  );
  return new Map(r.rows.map((x) => [`${x.consumerId} ${x.eventId}`, x]));
}

export async function getMessage(q: Queryable, consumerId: string, id: string): Promise<Message | null> {
  const r = await q.query<Message>(
    `SELECT ${COLUMNS} FROM messages WHERE consumer_id = $1 AND (id = $2 OR event_id = $2) ORDER BY (id = $2) DESC LIMIT 1`,
    [consumerId, id],
  );
  return r.rows[0] ?? null;
}

export interface MessageFilter {
  eventTypes?: string[] | undefined;
  channel?: string | undefined;
  before?: Date | undefined;
  after?: Date | undefined;
  status?: MessageStatus | undefined;
}

export type ListedMessage = Message & { status: MessageStatus };

/**
 * Newest first. The status comes from the message's deliveries (message-status.ts), read through their
 * (message_id, endpoint_id) index for each message the consumer's index scan passes: a status filter
 * that matches rarely reads further back to fill a page.
 */
export async function listMessages(q: Queryable, consumerId: string, f: MessageFilter, page: PageQuery): Promise<Page<ListedMessage>> {
  const r = await q.query<ListedMessage>(
    `SELECT ${message.columnsOf('m')}, s.status
     FROM messages m CROSS JOIN LATERAL ${messageStatusSql('m.id')} s
     WHERE m.consumer_id = $1 AND ($2::text IS NULL OR m.id < $2)
       AND ($4::text[] IS NULL OR m.event_type = ANY($4))
       AND ($5::text IS NULL OR $5 = ANY(m.channels))
       AND ($6::timestamptz IS NULL OR m.created_at < $6)
       AND ($7::timestamptz IS NULL OR m.created_at > $7)
       AND ($8::text IS NULL OR s.status = $8)
     ORDER BY m.id DESC LIMIT $3`,
    [
      consumerId,
      page.cursor ?? null,
      page.limit + 1,
      f.eventTypes ?? null,
      f.channel ?? null,
      f.before ?? null,
      f.after ?? null,
      f.status ?? null,
    ],
  );
  return toPage(r.rows, page.limit, (x) => x.id);
}
