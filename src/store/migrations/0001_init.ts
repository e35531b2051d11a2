import { APP_ROLE, SYSTEM_ROLE } from '../db.ts';

/** Tables that belong to one tenant: each has tenant_id, RLS enabled and forced. */
export const TENANT_TABLES = ['api_keys', 'event_types', 'consumers', 'endpoints', 'messages', 'deliveries', 'attempts'] as const;

// A role that already exists (created by hand by an administrator, or by another database of the
// cluster) is not created again, so a database owner without CREATEROLE can migrate once they exist.
const createRole = (name: string): string => `
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${name}') THEN
    CREATE ROLE ${name} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; -- roles are cluster-wide: another database created it
END $$;
DO $$ BEGIN
  IF NOT pg_has_role(current_user, '${name}', 'MEMBER') THEN
    GRANT ${name} TO CURRENT_USER;
  END IF;
END $$;`;

const isolate = (table: string, column = 'tenant_id'): string => `
ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ${table} TO ${APP_ROLE}
  USING (${column} = current_setting('tramline.tenant_id', true))
  WITH CHECK (${column} = current_setting('tramline.tenant_id', true));
CREATE POLICY system_access ON ${table} TO ${SYSTEM_ROLE} USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${APP_ROLE}, ${SYSTEM_ROLE};`;

export const sql = `
${createRole(APP_ROLE)}
${createRole(SYSTEM_ROLE)}
GRANT USAGE ON SCHEMA public TO ${APP_ROLE}, ${SYSTEM_ROLE};

CREATE TABLE tenants (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  settings    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name          text NOT NULL DEFAULT '',
  prefix        text NOT NULL,
  hash          text NOT NULL UNIQUE,
  scopes        text[] NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  last_used_at  timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE event_types (
  tenant_id    text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  schema       jsonb,
  archived     boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE consumers (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  uid         text,
  name        text NOT NULL,
  metadata    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, uid)
);
CREATE INDEX consumers_tenant ON consumers (tenant_id, id);

CREATE TABLE endpoints (
  id                          text PRIMARY KEY,
  tenant_id                   text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  consumer_id                 text NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
  url                         text NOT NULL,
  description                 text NOT NULL DEFAULT '',
  event_types                 text[],
  channels                    text[],
  headers                     jsonb NOT NULL DEFAULT '{}',
  secret                      text NOT NULL,
  previous_secret             text,
  previous_secret_expires_at  timestamptz,
  rate_limit_per_second       integer,
  disabled                    boolean NOT NULL DEFAULT false,
  disabled_reason             text,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoints_consumer ON endpoints (consumer_id, id);

CREATE TABLE messages (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  consumer_id  text NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
  event_type   text NOT NULL,
  event_id     text NOT NULL,
  payload      text NOT NULL, -- validated JSON text, stored once and sent as is
  channels     text[],
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (consumer_id, event_id)
);
CREATE INDEX messages_consumer ON messages (consumer_id, id DESC);

CREATE TABLE deliveries (
  id               text PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  message_id       text NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  endpoint_id      text NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'succeeded', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  round_start      integer NOT NULL DEFAULT 0, -- attempts made before the last resend/recover: each starts a new retry schedule
  next_attempt_at  timestamptz,
  lease_until      timestamptz,
  lease_owner      text,
  last_status      integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (message_id, endpoint_id)
);
-- The queue: only due rows are indexed, so the claim stays cheap however much history there is.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_sending ON deliveries (endpoint_id, lease_until) WHERE state = 'sending';
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, state, created_at);

CREATE TABLE attempts (
  id             text PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  delivery_id    text NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  message_id     text NOT NULL,
  endpoint_id    text NOT NULL,
  attempt        integer NOT NULL,
  outcome        text NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
  status_code    integer,
  error          text,
  response_body  text,
  started_at     timestamptz NOT NULL,
  duration_ms    integer NOT NULL
);
CREATE INDEX attempts_message ON attempts (message_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id DESC);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants TO ${APP_ROLE} USING (id = current_setting('tramline.tenant_id', true));
CREATE POLICY system_access ON tenants TO ${SYSTEM_ROLE} USING (true) WITH CHECK (true);
GRANT SELECT, UPDATE ON tenants TO ${APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants TO ${SYSTEM_ROLE};
${TENANT_TABLES.map((t) => isolate(t)).join('\n')}
`;
