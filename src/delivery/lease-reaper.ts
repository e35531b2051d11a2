import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import { reapExpiredLeases } from '../store/queue.ts';
import type { Metrics } from '../telemetry/metrics.ts';

/**
 * Hands deliveries whose lease expired (their worker died) back to the queue, counts and logs them.
 * Idempotent: every worker calls it now and then and the scheduler on its timer, so whichever runs
 * recovers them. Throws what the database threw; the caller decides how to report it.
 */
export function createLeaseReaper(o: { db: Db; log: Logger; metrics?: Metrics | undefined }): () => Promise<number> {
  return async () => {
    const n = await o.db.system((q) => reapExpiredLeases(q));
    o.metrics?.leasesExpired(n);
    if (n > 0) o.log.warn({ count: n }, 'took over deliveries whose lease expired');
    return n;
  };
}
