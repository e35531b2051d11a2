import { APP_ROLE, SYSTEM_ROLE } from '../db.ts';

/**
 * Password resets of dashboard users (issue 9). There is no mail server: an owner (or an admin key, or
 * the operator) issues a one-time link and passes it on. The token is stored as its SHA-256 only (256
 * random bits need no slow hash); a reset works once (`used_at`) and until `expires_at`. Issuing a new
 * one closes the user's earlier open ones. Like invitations, the table belongs to one tenant (RLS), and
 * only the look-up by token hash goes through the system role (the tenant is not known before it).
 * Expand-only: the previous release never reads it.
 */
export const sql = `
CREATE TABLE password_resets (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  text NOT NULL UNIQUE,
  created_by  text,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_resets_user ON password_resets (user_id) WHERE used_at IS NULL;
ALTER TABLE password_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE password_resets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON password_resets TO ${APP_ROLE}
  USING (tenant_id = current_setting('tramline.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('tramline.tenant_id', true));
CREATE POLICY system_access ON password_resets TO ${SYSTEM_ROLE} USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON password_resets TO ${APP_ROLE}, ${SYSTEM_ROLE};
`;
