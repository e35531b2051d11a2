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

/**
 * Inserts the message unless its eventId is already taken for this consumer. A concurrent
 * duplicate waits on the unique index and then does nothing, so a repeat never makes a second message.
 */
export async function insertMessage(
  q: Queryable,
  m: { id: string; tenantId: string; consumerId: string; eventType: string; eventId: string; payload: string; channels: string[] | null },
): Promise<Message | null> {
  const r = await q.query<MessageRow>(
    `INSERT INTO messages (id, tenant_id, consumer_id, event_type, event_id, payload, channels)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (consumer_id, event_id) DO NOTHING RETURNING ${COLUMNS}`,
    [m.id, m.tenantId, m.consumerId, m.eventType, m.eventId, m.payload, m.channels],
  );
  return r.rows[0] ? toMessage(r.rows[0]) : null;
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
