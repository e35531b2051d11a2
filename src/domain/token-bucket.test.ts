import { describe, expect, it } from 'vitest';
import { fullBucket, refill, take, type Bucket, type BucketRule } from './token-bucket.ts';

const rule: BucketRule = { ratePerSecond: 5, capacity: 1 };

/** Takes as fast as allowed from t=0 to `untilMs`, stepping 1 ms; returns the times of the tokens taken. */
function drain(r: BucketRule, untilMs: number): number[] {
  let b: Bucket = fullBucket(r, 0);
  const taken: number[] = [];
  for (let t = 0; t <= untilMs; t++) {
    for (;;) {
      const x = take(b, r, t);
      b = x.bucket;
      if (!x.ok) break;
      taken.push(t);
    }
  }
  return taken;
}

const maxInWindow = (times: number[], windowMs: number): number => {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
};

describe('token bucket', () => {
  it('starts full, empties, and says how long until the next token', () => {
    const b = fullBucket(rule, 1000);
    const first = take(b, rule, 1000);
    expect(first.ok).toBe(true);
    const second = take(first.bucket, rule, 1000);
    expect(second).toMatchObject({ ok: false, waitMs: 200 });
    const half = take(first.bucket, rule, 1100);
    expect(half).toMatchObject({ ok: false, waitMs: 100 });
    expect(take(first.bucket, rule, 1200).ok).toBe(true);
  });

  it('never holds more than its capacity, and a clock going backwards adds nothing', () => {
    const b = refill({ tokens: 0, atMs: 0 }, { ratePerSecond: 100, capacity: 10 }, 60_000);
    expect(b.tokens).toBe(10);
    expect(refill({ tokens: 0.5, atMs: 5000 }, rule, 4000)).toEqual({ tokens: 0.5, atMs: 5000 });
  });

  it('keeps any 1-second window at the rate (capacity 1) or rate + capacity', () => {
    const times = drain(rule, 10_000);
    expect(times).toHaveLength(51); // one at t=0, then one every 200 ms
    expect(maxInWindow(times, 1000)).toBe(5);
    const bursty = drain({ ratePerSecond: 50, capacity: 5 }, 10_000);
    expect(maxInWindow(bursty, 1000)).toBeLessThanOrEqual(55);
    expect(bursty.length).toBeGreaterThanOrEqual(500);
  });
});
