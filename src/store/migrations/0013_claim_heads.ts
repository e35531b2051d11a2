/**
 * Pending deliveries by endpoint, in due order: a claim whose bounded scan in due order was filled by
 * endpoints at their window finds the other endpoints' due deliveries through this index, one probe per
 * endpoint (store/queue.ts claimAndPace), instead of reading the whole backlog of the busy one.
 */
export const sql = `
CREATE INDEX deliveries_pending_endpoint ON deliveries (endpoint_id, next_attempt_at) WHERE state = 'pending';
`;
