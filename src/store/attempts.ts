import type { Queryable } from './db.ts';
import { col, entity, type Row } from './entity.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

const attempt = entity({
  id: col<string>('id'),
  deliveryId: col<string>('delivery_id'),
  messageId: col<string>('message_id'),
  endpointId: col<string>('endpoint_id'),
  attempt: col<number>('attempt'),
  outcome: col<'succeeded' | 'failed'>('outcome'),
  statusCode: col<number | null>('status_code'),
  error: col<string | null>('error'),
  responseBody: col<string | null>('response_body'),
  startedAt: col<Date>('started_at'),
  durationMs: col<number>('duration_ms'),
});
export type Attempt = Row<typeof attempt>;

export async function listAttempts(
  q: Queryable,
  by: { messageId: string } | { endpointId: string },
  page: PageQuery,
): Promise<Page<Attempt>> {
  const [column, value] = 'messageId' in by ? ['message_id', by.messageId] : ['endpoint_id', by.endpointId];
  const r = await q.query<Attempt>(
    `SELECT ${attempt.columns} FROM attempts WHERE ${column} = $1 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [value, page.cursor ?? null, page.limit + 1],
  );
  return toPage(r.rows, page.limit, (x) => x.id);
}
