import { APP_ROLE, SYSTEM_ROLE } from '../db.ts';

/**
 * Dashboard users, their invitations and sessions (issue 9).
 *
 * `users`, `invitations` and `sessions` belong to one tenant: RLS enabled and forced, with the same
 * two policies as every tenant table (the tenant role sees its tenant's rows only). Two look-ups
 * cannot know the tenant in advance and go through the system role, in narrow queries of their own
 * (src/store/sessions.ts, src/store/users.ts): a session by the hash of its cookie, and the accounts
 * of an email at sign-in.
 *
 * `sign_in_throttle` counts failed sign-ins per account (email) and per client address, keyed by a
 * hash of either, so neither is stored in clear; it belongs to no tenant (an email may not exist at
 * all, and must be throttled all the same) and only the system role may touch it.
 *
 * Secrets are stored hashed: a session's cookie (SHA-256: 256 random bits need no slow hash) and an
 * invitation's token (likewise); passwords as argon2id strings. The CSRF token of a session is
 * derived from its cookie (HMAC), so nothing more is stored for it.
 */
const isolate = (table: string): string => `
ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ${table} TO ${APP_ROLE}
  USING (tenant_id = current_setting('tramline.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('tramline.tenant_id', true));
CREATE POLICY system_access ON ${table} TO ${SYSTEM_ROLE} USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${APP_ROLE}, ${SYSTEM_ROLE};`;

export const sql = `
CREATE TABLE users (
  id              text PRIMARY KEY,
  tenant_id       text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email           text NOT NULL, -- trimmed and lower-cased
  password_hash   text,          -- argon2id; NULL while the invitation is pending
  role            text NOT NULL CHECK (role IN ('owner', 'developer', 'viewer')),
  last_sign_in_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, email)
);
CREATE INDEX users_email ON users (email);

CREATE TABLE invitations (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id      text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash   text NOT NULL UNIQUE,
  created_by   text,
  expires_at   timestamptz NOT NULL,
  accepted_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitations_user ON invitations (user_id);

CREATE TABLE sessions (
  id            text PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash    text NOT NULL UNIQUE,
  ip            text,
  user_agent    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id, id DESC);

${['users', 'invitations', 'sessions'].map(isolate).join('\n')}

CREATE TABLE sign_in_throttle (
  key              text PRIMARY KEY, -- 'account:' or 'ip:' + SHA-256 of the email or address
  failures         integer NOT NULL,
  last_failure_at  timestamptz NOT NULL,
  locked_until     timestamptz
);
ALTER TABLE sign_in_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE sign_in_throttle FORCE ROW LEVEL SECURITY;
CREATE POLICY system_access ON sign_in_throttle TO ${SYSTEM_ROLE} USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_throttle TO ${SYSTEM_ROLE};

-- Statistics (GET /v1/stats) read a tenant's messages and attempts by time.
CREATE INDEX messages_tenant_time ON messages (tenant_id, created_at);
CREATE INDEX attempts_tenant_time ON attempts (tenant_id, started_at);
`;
