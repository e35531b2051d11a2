import type { Queryable } from './db.ts';
import { idAt } from './ids.ts';

/** Every tenant with its own retention (days), or null for the operator's default. System role. */
export async function listTenantRetention(q: Queryable): Promise<Array<{ id: string; days: number | null }>> {
  const r = await q.query<{ id: string; days: number | null }>(
    `SELECT id, CASE WHEN jsonb_typeof(settings->'retentionDays') = 'number' THEN (settings->>'retentionDays')::int END AS days
     FROM tenants ORDER BY id`,
  );
  return r.rows;
}

export interface Removed {
  messages: number;
  deliveries: number;
  attempts: number;
}

// Ids are made by the API's clock, created_at by the database's: the id bound is a day wider, the exact cut is created_at.
const ID_MARGIN_MS = 24 * 60 * 60 * 1000;

/**
 * Removes up to `batch` of the tenant's messages created before `cutoff`, with their deliveries and attempts,
 * in one statement (tenant role). A message with a delivery still pending or in flight is kept, whatever its
 * age; failed, succeeded and skipped deliveries go with their message. The primary key (ids sort by creation
 * time) bounds the scan; rows another transaction holds are skipped, to be taken by the next run.
 */
export async function removeExpired(q: Queryable, cutoff: Date, batch: number): Promise<Removed> {
  const r = await q.query<Removed>(
    `WITH doomed AS (
       SELECT m.id FROM messages m
       WHERE m.id < $1 AND m.created_at < $2
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.state IN ('pending', 'sending'))
       ORDER BY m.id
       LIMIT $3
       FOR UPDATE SKIP LOCKED
     ), a AS (
       DELETE FROM attempts WHERE message_id IN (SELECT id FROM doomed) RETURNING 1
     ), d AS (
       DELETE FROM deliveries WHERE message_id IN (SELECT id FROM doomed) RETURNING 1
     ), m AS (
       DELETE FROM messages WHERE id IN (SELECT id FROM doomed) RETURNING 1
     )
     SELECT (SELECT count(*) FROM m)::int AS messages, (SELECT count(*) FROM d)::int AS deliveries, (SELECT count(*) FROM a)::int AS attempts`,
    [idAt('msg', new Date(cutoff.getTime() + ID_MARGIN_MS)), cutoff, batch],
  );
  return r.rows[0]!;
}
