import type { Queryable } from './db.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

export interface Message {
  id: string;
  consumerId: string;
  eventType: string;
  eventId: string;
  /** The payload as validated JSON text. */
  payload: string;
  channels: string[] | null;
  createdAt: Date;
}

interface MessageRow {
  id: string;
  consumer_id: string;
  event_type: string;
  event_id: string;
  payload: string;
  channels: string[] | null;
  created_at: Date;
}

const COLUMNS = 'id, consumer_id, event_type, event_id, payload, channels, created_at';
const toMessage = (r: MessageRow): Message => ({
  id: r.id,
  consumerId: r.consumer_id,
  eventType: r.event_type,
  eventId: r.event_id,
  payload: r.payload,
  channels: r.channels,
  createdAt: r.created_at,
});

export type InsertOutcome =
  | { kind: 'no-consumer' }
  | { kind: 'duplicate'; consumerId: string }
  | { kind: 'inserted'; message: Message; endpointIds: string[] };

/**
 * One round trip for the publish: resolves the consumer (id or uid), inserts the message unless
 * its eventId is taken for that consumer, and picks the endpoints whose filters match. A
 * concurrent duplicate waits on the unique index and then inserts nothing, so a repeat never
 * makes a second message. Endpoint filters: no event-type list takes every type; a channel
 * list takes only messages that carry at least one of those channels.
 */
export async function insertMessage(
  q: Queryable,
  m: { id: string; tenantId: string; consumerRef: string; eventType: string; eventId: string; payload: string; channels: string[] | null; traceparent?: string | undefined },
): Promise<InsertOutcome> {
  const r = await q.query<{ consumer_id: string; id: string | null; event_id: string; created_at: Date; endpoint_ids: string[] }>(
    `WITH c AS (
       SELECT id FROM consumers WHERE id = $1 OR uid = $1 ORDER BY (id = $1) DESC LIMIT 1
     ), m AS (
       INSERT INTO messages (id, tenant_id, consumer_id, event_type, event_id, payload, channels, traceparent)
       SELECT $2, $3, c.id, $4, $5, $6, $7, $8 FROM c
       ON CONFLICT (consumer_id, event_id) DO NOTHING
       RETURNING id, consumer_id, event_id, created_at
     )
     SELECT c.id AS consumer_id, m.id, m.event_id, m.created_at,
            ARRAY(SELECT e.id FROM endpoints e
                  WHERE m.id IS NOT NULL AND e.consumer_id = c.id AND NOT e.disabled
                    AND (e.event_types IS NULL OR $4 = ANY(e.event_types))
                    AND (e.channels IS NULL OR e.channels && coalesce($7::text[], '{}'))) AS endpoint_ids
     FROM c LEFT JOIN m ON true`,
    [m.consumerRef, m.id, m.tenantId, m.eventType, m.eventId, m.payload, m.channels, m.traceparent ?? null],
  );
  const row = r.rows[0];
  if (!row) return { kind: 'no-consumer' };
  if (!row.id) return { kind: 'duplicate', consumerId: row.consumer_id };
  return {
    kind: 'inserted',
    endpointIds: row.endpoint_ids,
    message: {
      id: row.id,
      consumerId: row.consumer_id,
      eventType: m.eventType,
      eventId: row.event_id,
      payload: m.payload,
      channels: m.channels,
      createdAt: row.created_at,
    },
  };
}

export async function findMessageByEventId(q: Queryable, consumerId: string, eventId: string): Promise<Message | null> {
  const r = await q.query<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE consumer_id = $1 AND event_id = $2`, [consumerId, eventId]);
  return r.rows[0] ? toMessage(r.rows[0]) : null;
}

export async function getMessage(q: Queryable, consumerId: string, id: string): Promise<Message | null> {
  const r = await q.query<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE consumer_id = $1 AND (id = $2 OR event_id = $2) ORDER BY (id = $2) DESC LIMIT 1`, [
    consumerId,
    id,
  ]);
  return r.rows[0] ? toMessage(r.rows[0]) : null;
}

export interface MessageFilter {
  eventTypes?: string[] | undefined;
  channel?: string | undefined;
  before?: Date | undefined;
  after?: Date | undefined;
}

export async function listMessages(q: Queryable, consumerId: string, f: MessageFilter, page: PageQuery): Promise<Page<Message>> {
  const r = await q.query<MessageRow>(
    `SELECT ${COLUMNS} FROM messages
     WHERE consumer_id = $1 AND ($2::text IS NULL OR id < $2)
       AND ($4::text[] IS NULL OR event_type = ANY($4))
       AND ($5::text IS NULL OR $5 = ANY(channels))
       AND ($6::timestamptz IS NULL OR created_at < $6)
       AND ($7::timestamptz IS NULL OR created_at > $7)
     ORDER BY id DESC LIMIT $3`,
    [consumerId, page.cursor ?? null, page.limit + 1, f.eventTypes ?? null, f.channel ?? null, f.before ?? null, f.after ?? null],
  );
  return toPage(r.rows, page.limit, (x) => x.id, toMessage);
}
