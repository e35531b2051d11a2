import { describe, expect, it } from 'vitest';
import { createFairShare } from './fair-share.ts';

const d = (tenantId: string, i: number) => ({ id: `${tenantId}-${i}`, tenantId });

describe('fair share of a worker’s slots', () => {
  it('lets a tenant alone use three quarters of the slots, never all, and skips it in claims once there', () => {
    const f = createFairShare(16, 4);
    expect(f.cap).toBe(12);
    const { take, giveBack } = f.admit(Array.from({ length: 16 }, (_, i) => d('noisy', i)));
    expect(take).toHaveLength(12);
    expect(giveBack).toHaveLength(4);
    expect(f.full()).toEqual(['noisy']);
    expect(f.admit([d('quiet', 1), d('quiet', 2)]).take).toHaveLength(2);
    // What the next claim may take of each tenant holding slots (a full one is skipped instead).
    expect(f.room()).toEqual(new Map([['quiet', 10]]));
    f.finished('noisy');
    expect(f.full()).toEqual([]);
    expect(f.admit([d('noisy', 99)]).take).toHaveLength(1);
  });

  it('never caps a tenant below one endpoint’s concurrency, nor above the worker’s', () => {
    expect(createFairShare(4, 16).cap).toBe(4);
    expect(createFairShare(8, 16).cap).toBe(8);
    expect(createFairShare(128, 16).cap).toBe(96);
  });
});
