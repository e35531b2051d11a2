import type { Queryable } from './db.ts';
import { toPage, type Page, type PageQuery } from './page.ts';

export interface Attempt {
  id: string;
  deliveryId: string;
  messageId: string;
  endpointId: string;
  attempt: number;
  outcome: 'succeeded' | 'failed';
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  startedAt: Date;
  durationMs: number;
}

interface AttemptRow {
  id: string;
  delivery_id: string;
  message_id: string;
  endpoint_id: string;
  attempt: number;
  outcome: 'succeeded' | 'failed';
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  started_at: Date;
  duration_ms: number;
}

const COLUMNS = 'id, delivery_id, message_id, endpoint_id, attempt, outcome, status_code, error, response_body, started_at, duration_ms';
const toAttempt = (r: AttemptRow): Attempt => ({
  id: r.id,
  deliveryId: r.delivery_id,
  messageId: r.message_id,
  endpointId: r.endpoint_id,
  attempt: r.attempt,
  outcome: r.outcome,
  statusCode: r.status_code,
  error: r.error,
  responseBody: r.response_body,
  startedAt: r.started_at,
  durationMs: r.duration_ms,
});

export async function listAttempts(
  q: Queryable,
  by: { messageId: string } | { endpointId: string },
  page: PageQuery,
): Promise<Page<Attempt>> {
  const [column, value] = 'messageId' in by ? ['message_id', by.messageId] : ['endpoint_id', by.endpointId];
  const r = await q.query<AttemptRow>(
    `SELECT ${COLUMNS} FROM attempts WHERE ${column} = $1 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [value, page.cursor ?? null, page.limit + 1],
  );
  return toPage(r.rows, page.limit, (x) => x.id, toAttempt);
}
