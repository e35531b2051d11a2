/**
 * The tables written once or more per event no longer reference `tenants` directly. Each such foreign key
 * checked and share-locked the tenant's one row on every insert: a WAL record per transaction, and a new
 * multixact whenever the API's and the workers' transactions held it at once, on the row every event of
 * the tenant shares. A tenant's rows are still deleted with it, through consumers → messages → deliveries
 * → attempts and endpoints → deliveries, and row-level security still confines each row to its tenant.
 */
export const sql = `
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_tenant_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_tenant_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT IF EXISTS attempts_tenant_id_fkey;
`;
