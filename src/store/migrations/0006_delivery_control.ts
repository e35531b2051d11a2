import { APP_ROLE, SYSTEM_ROLE } from '../db.ts';

/**
 * Delivery control (issue 13, items 1–4). Expand-only: new tables, defaulted or nullable columns, triggers
 * that keep the new columns true whichever release's code writes the old ones.
 *
 * - `delivery_pacing`: fleet-wide rate limits. One row per limited key (`endpoint:<id>`, `tenant:<id>`)
 *   holding the limit's next free slot (a GCRA's theoretical arrival time). Workers reserve slots through
 *   `tramline_reserve_slots` (row lock, then move the slot on), at most a short horizon ahead; only the
 *   system role (the workers) touches it.
 * - `endpoint_health`: an endpoint under pressure or failing: its in-flight window (AIMD), a pause until
 *   (Retry-After, or a back-off), and the breaker's streak. A row exists only while the endpoint is not
 *   healthy, so the claim's join stays small.
 * - `endpoints.disabled_at`: since when an endpoint is disabled (shown in the API beside the reason).
 * - `consumers.operational`: the tenant's own consumer that receives operational events (endpoint.disabled…).
 */
export const sql = `
CREATE TABLE delivery_pacing (
  key        text PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  tat        timestamptz NOT NULL
);
-- Only the workers' system role reads or writes it; RLS as on every table with a tenant_id all the same.
ALTER TABLE delivery_pacing ENABLE ROW LEVEL SECURITY;
ALTER TABLE delivery_pacing FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON delivery_pacing TO ${APP_ROLE}
  USING (tenant_id = current_setting('tramline.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('tramline.tenant_id', true));
CREATE POLICY system_access ON delivery_pacing TO ${SYSTEM_ROLE} USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery_pacing TO ${SYSTEM_ROLE};

-- domain/pacing.ts reserve(), atomically: lock the key's row, take up to n slots from its next free one (or
-- from now minus the idle credit) that fall within the horizon, move it on. Answers when the first slot is
-- (unix ms on the database's clock, one clock for the fleet) and how many were taken.
CREATE FUNCTION tramline_reserve_slots(p_key text, p_tenant text, p_interval_ms double precision, p_tolerance_ms double precision,
    p_horizon_ms double precision, p_n integer, OUT first_at_ms double precision, OUT granted integer)
LANGUAGE plpgsql AS $$
DECLARE
  t timestamptz;
  f timestamptz;
  now_ts timestamptz;
BEGIN
  SELECT tat INTO t FROM delivery_pacing WHERE key = p_key FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO delivery_pacing (key, tenant_id, tat) VALUES (p_key, p_tenant, '-infinity') ON CONFLICT (key) DO NOTHING;
    SELECT tat INTO t FROM delivery_pacing WHERE key = p_key FOR UPDATE;
  END IF;
  now_ts := clock_timestamp();
  f := greatest(t, now_ts - p_tolerance_ms * interval '1 millisecond');
  granted := least(p_n, greatest(0, floor(extract(epoch FROM (now_ts - f)) * 1000 / p_interval_ms + p_horizon_ms / p_interval_ms)::integer + 1));
  UPDATE delivery_pacing SET tat = f + granted * p_interval_ms * interval '1 millisecond' WHERE key = p_key;
  first_at_ms := extract(epoch FROM f) * 1000;
END $$;
GRANT EXECUTE ON FUNCTION tramline_reserve_slots(text, text, double precision, double precision, double precision, integer) TO ${SYSTEM_ROLE};

CREATE TABLE endpoint_health (
  endpoint_id       text PRIMARY KEY REFERENCES endpoints(id) ON DELETE CASCADE,
  tenant_id         text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  max_in_flight     real NOT NULL,
  paused_until      timestamptz,
  pressure_streak   integer NOT NULL DEFAULT 0,
  last_decrease_at  timestamptz,
  failing_since     timestamptz,
  failed_messages   integer NOT NULL DEFAULT 0,
  notified          boolean NOT NULL DEFAULT false,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoint_health_paused ON endpoint_health (paused_until) WHERE paused_until IS NOT NULL;
ALTER TABLE endpoint_health ENABLE ROW LEVEL SECURITY;
ALTER TABLE endpoint_health FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON endpoint_health TO ${APP_ROLE}
  USING (tenant_id = current_setting('tramline.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('tramline.tenant_id', true));
CREATE POLICY system_access ON endpoint_health TO ${SYSTEM_ROLE} USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON endpoint_health TO ${APP_ROLE}, ${SYSTEM_ROLE};

ALTER TABLE endpoints ADD COLUMN disabled_at timestamptz;
UPDATE endpoints SET disabled_at = updated_at WHERE disabled;
ALTER TABLE consumers ADD COLUMN operational boolean NOT NULL DEFAULT false;

-- Whoever flips endpoints.disabled (this release, the previous one, the API or the breaker), disabled_at
-- follows, and the endpoint's health starts afresh: re-enabled after days off, it must not be judged on
-- the failing streak it was disabled for.
CREATE FUNCTION tramline_endpoint_disabled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.disabled AND (CASE WHEN TG_OP = 'INSERT' THEN NEW.disabled_at IS NULL ELSE NOT OLD.disabled END) THEN
    NEW.disabled_at := now(); -- an insert that brings its own (a restore) keeps it
  ELSIF NOT NEW.disabled THEN
    NEW.disabled_at := NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.disabled IS DISTINCT FROM OLD.disabled THEN
    DELETE FROM endpoint_health WHERE endpoint_id = NEW.id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER endpoints_disabled BEFORE INSERT OR UPDATE OF disabled ON endpoints
  FOR EACH ROW EXECUTE FUNCTION tramline_endpoint_disabled();
`;
