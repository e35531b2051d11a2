/**
 * A token bucket as pure functions of the time (`nowMs` is passed in, never read from a clock).
 * The bucket refills continuously at `ratePerSecond` up to `capacity`; taking a token either
 * succeeds or says how long until one is there.
 *
 * In any window of T seconds at most `capacity + ratePerSecond × T` tokens are taken, so a small
 * capacity keeps bursts close to the rate (the outbound cap uses a tenth of a second's worth).
 */
export interface Bucket {
  readonly tokens: number;
  readonly atMs: number;
}

export interface BucketRule {
  readonly ratePerSecond: number;
  readonly capacity: number;
}

/** A full bucket, as one that has not been used for a long time. */
export const fullBucket = (rule: BucketRule, nowMs: number): Bucket => ({ tokens: rule.capacity, atMs: nowMs });

/** The bucket refilled up to `nowMs` (a clock going backwards adds nothing). */
export function refill(b: Bucket, rule: BucketRule, nowMs: number): Bucket {
  if (nowMs <= b.atMs) return b;
  return { tokens: Math.min(rule.capacity, b.tokens + ((nowMs - b.atMs) * rule.ratePerSecond) / 1000), atMs: nowMs };
}

export type Take = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; waitMs: number };

/** Takes one token at `nowMs`, or answers how long until there is one. */
export function take(b: Bucket, rule: BucketRule, nowMs: number): Take {
  const r = refill(b, rule, nowMs);
  if (r.tokens >= 1) return { ok: true, bucket: { tokens: r.tokens - 1, atMs: r.atMs } };
  return { ok: false, bucket: r, waitMs: Math.ceil(((1 - r.tokens) * 1000) / rule.ratePerSecond) };
}
