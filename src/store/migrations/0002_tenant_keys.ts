import { APP_ROLE, SYSTEM_ROLE } from '../db.ts';

/** Per-tenant data keys for secrets at rest, wrapped by a master key version. */
export const sql = `
CREATE TABLE tenant_keys (
  tenant_id       text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  master_version  integer NOT NULL,
  wrapped_key     text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  rotated_at      timestamptz
);
ALTER TABLE tenant_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_keys FORCE ROW LEVEL SECURITY;
-- Only the system role reads data keys: the tenant role has no grant here. Its policy is the
-- standard one all the same, so the table passes the same isolation audit as every other.
CREATE POLICY tenant_isolation ON tenant_keys TO ${APP_ROLE}
  USING (tenant_id = current_setting('tramline.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('tramline.tenant_id', true));
CREATE POLICY system_access ON tenant_keys TO ${SYSTEM_ROLE} USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON tenant_keys TO ${SYSTEM_ROLE};
`;
