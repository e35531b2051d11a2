import { APP_ROLE, SYSTEM_ROLE } from '../db.ts';

const isolate = (table: string): string => `
ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ${table} TO ${APP_ROLE}
  USING (tenant_id = current_setting('tramline.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('tramline.tenant_id', true));
CREATE POLICY system_access ON ${table} TO ${SYSTEM_ROLE} USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${APP_ROLE}, ${SYSTEM_ROLE};`;

/**
 * Delivery control, the payload side (issue 13, items 5-9). Expand-only: the previous release runs on it.
 * - `skipped`: a delivery recorded for an endpoint that was disabled at publish; terminal until replayed.
 *   The CHECK is widened (NOT VALID, then validated: no long lock while the old rows are checked);
 *   the previous release never writes the new state and claims only `pending`.
 * - `endpoints.filter`: a CEL expression over the payload; NULL (and the previous release) takes every message.
 * - `event_types.schema_version` and `event_type_schemas`: every schema a type has had, numbered; `schema`
 *   stays the current one, so the previous release keeps reading and writing it.
 * - `replay_jobs`: bulk replays, processed in batches by the scheduler.
 * - `attempts_delivery`: removing a delivery (retention, a deleted endpoint) cascades to its attempts, which
 *   without this index is a scan of the whole attempts table per delivery. Built here, in the migration's
 *   transaction (attempts' writes wait for the build); on a large installation create it first with
 *   `CREATE INDEX CONCURRENTLY attempts_delivery ON attempts (delivery_id)` (docs/upgrading.md), and this is a no-op.
 */
export const sql = `
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check
  CHECK (state IN ('pending', 'sending', 'succeeded', 'failed', 'skipped')) NOT VALID;
ALTER TABLE deliveries VALIDATE CONSTRAINT deliveries_state_check;

ALTER TABLE endpoints ADD COLUMN filter text;

CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id);

ALTER TABLE event_types ADD COLUMN schema_version integer;
CREATE TABLE event_type_schemas (
  tenant_id   text NOT NULL,
  event_type  text NOT NULL,
  version     integer NOT NULL,
  schema      jsonb NOT NULL,
  breaking    boolean NOT NULL DEFAULT false,
  reasons     jsonb NOT NULL DEFAULT '[]',
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_type, version),
  FOREIGN KEY (tenant_id, event_type) REFERENCES event_types (tenant_id, name) ON DELETE CASCADE
);
${isolate('event_type_schemas')}

CREATE TABLE replay_jobs (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  consumer_id  text NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
  endpoint_id  text NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  filter       jsonb NOT NULL,
  state        text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'completed', 'failed')),
  total        integer NOT NULL,
  queued       integer NOT NULL DEFAULT 0,
  cursor       text, -- the last message id queued: the next batch starts after it
  error        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX replay_jobs_running ON replay_jobs (created_at) WHERE state = 'running';
CREATE INDEX replay_jobs_endpoint ON replay_jobs (endpoint_id, id DESC);
${isolate('replay_jobs')}
`;
