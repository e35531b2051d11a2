import { APP_ROLE } from '../db.ts';

/**
 * A tenant's plan: its API requests per second, all its keys together (NULL: the operator's default,
 * TRAMLINE_RATE_LIMIT_PER_TENANT). Set by the operator only: the tenant role keeps UPDATE on `settings`
 * (and `name`), the only columns its code writes, so no tenant query can raise its own plan.
 */
export const sql = `
ALTER TABLE tenants ADD COLUMN rate_limit_per_second integer CHECK (rate_limit_per_second > 0);
REVOKE UPDATE ON tenants FROM ${APP_ROLE};
GRANT UPDATE (name, settings) ON tenants TO ${APP_ROLE};
`;
