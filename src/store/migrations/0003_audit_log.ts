import { APP_ROLE, SYSTEM_ROLE } from '../db.ts';

/** Who changed what, when and from where: append-only for the runtime roles (no UPDATE or DELETE grant). */
export const sql = `
CREATE TABLE audit_log (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  actor       text NOT NULL,
  action      text NOT NULL,
  target      text,
  ip          text,
  request_id  text,
  status      integer,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id DESC);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log TO ${APP_ROLE}
  USING (tenant_id = current_setting('tramline.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('tramline.tenant_id', true));
CREATE POLICY system_access ON audit_log TO ${SYSTEM_ROLE} USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON audit_log TO ${APP_ROLE}, ${SYSTEM_ROLE};
`;
