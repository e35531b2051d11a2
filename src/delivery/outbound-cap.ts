import { fullBucket, take, type Bucket, type BucketRule } from '../domain/token-bucket.ts';

/**
 * The cap on outbound delivery requests per tenant (TRAMLINE_OUTBOUND_PER_TENANT), so that no
 * tenant can turn the gateway into an amplifier against a third party, however many endpoints
 * point at the same host. One token bucket per tenant in each worker process; the capacity is a
 * tenth of a second's worth, so any 1-second window sees at most 1.1 × the rate.
 *
 * A claimed delivery over the cap is not attempted: it is handed back to the queue, due when the
 * tenant's bucket will have a token for it (the k-th one waits k slots more), with no attempt
 * recorded. The cap is per worker process: a fleet of N workers sends at most N × the rate.
 */
export interface OutboundCap {
  split<T extends { id: string; tenantId: string }>(claimed: readonly T[], nowMs: number): { send: T[]; later: Array<{ id: string; delayMs: number }> };
}

export function createOutboundCap(ratePerSecond: number): OutboundCap {
  const rule: BucketRule = { ratePerSecond, capacity: Math.max(1, Math.ceil(ratePerSecond / 10)) };
  const slotMs = 1000 / ratePerSecond;
  const buckets = new Map<string, Bucket>();
  return {
    split(claimed, nowMs) {
      const send: typeof claimed[number][] = [];
      const later: Array<{ id: string; delayMs: number }> = [];
      const overflow = new Map<string, number>();
      for (const d of claimed) {
        const t = take(buckets.get(d.tenantId) ?? fullBucket(rule, nowMs), rule, nowMs);
        buckets.set(d.tenantId, t.bucket);
        if (t.ok) {
          send.push(d);
          continue;
        }
        const k = overflow.get(d.tenantId) ?? 0;
        overflow.set(d.tenantId, k + 1);
        later.push({ id: d.id, delayMs: Math.ceil(t.waitMs + k * slotMs) });
      }
      // Forget idle tenants now and then (a bucket that would be full again is as good as none).
      if (buckets.size > 10_000) {
        for (const [tenant, b] of buckets) if (nowMs - b.atMs > 1000 * (rule.capacity / ratePerSecond) + 1000) buckets.delete(tenant);
      }
      return { send, later };
    },
  };
}
