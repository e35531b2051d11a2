import { describe, expect, it } from 'vitest';
import { paceRule, reserve, slotDelays } from './pacing.ts';

/** Replays reservations of `batch` deliveries every `everyMs` and returns each granted delivery's send time. */
function simulate(rate: number, batch: number, everyMs: number, untilMs: number): number[] {
  const rule = paceRule(rate);
  let next: number | null = null;
  const sends: number[] = [];
  for (let now = 0; now < untilMs; now += everyMs) {
    const r = reserve(next, rule, now, batch);
    next = r.nextSlotMs;
    for (const d of slotDelays(r.firstSlotMs, rule, now, r.granted)) sends.push(now + d);
  }
  return sends;
}

describe('pacing (GCRA slots)', () => {
  it('a fresh key sends its burst now and spaces the rest one interval apart', () => {
    const rule = paceRule(20); // burst 2, interval 50 ms
    const r = reserve(null, rule, 1_000, 5);
    expect(r.granted).toBe(5);
    expect(slotDelays(r.firstSlotMs, rule, 1_000, 5)).toEqual([0, 0, 50, 100, 150]);
    expect(r.nextSlotMs).toBe(1_200);
  });

  it('takes only the slots within the horizon; the rest are left for a later claim', () => {
    const rule = paceRule(10); // interval 100 ms
    const r = reserve(null, rule, 0, 50, 1_000);
    expect(r.granted).toBe(11); // slots at 0, 100, …, 1000 ms
    expect(r.nextSlotMs).toBe(1_100);
    expect(reserve(r.nextSlotMs, rule, 0, 5, 1_000).granted).toBe(0);
    expect(reserve(r.nextSlotMs, rule, 500, 50, 1_000).granted).toBe(5);
  });

  it('a second batch queues behind the first, never on the same slots', () => {
    const rule = paceRule(10);
    const a = reserve(null, rule, 0, 3);
    const b = reserve(a.nextSlotMs, rule, 10, 3);
    expect(slotDelays(b.firstSlotMs, rule, 10, 3)).toEqual([290, 390, 490]);
  });

  it('idle time earns no more than the burst', () => {
    const rule = paceRule(10); // burst 1
    const r = reserve(0, rule, 60_000, 3);
    expect(slotDelays(r.firstSlotMs, rule, 60_000, 3)).toEqual([0, 100, 200]);
  });

  it('however the demand comes, any window of T seconds holds at most rate × T + burst sends', () => {
    for (const [rate, batch, every] of [
      [20, 16, 5],
      [7, 50, 300],
      [100, 3, 1],
      [1, 2, 2_000],
    ] as const) {
      const sends = simulate(rate, batch, every, 20_000).sort((x, y) => x - y);
      const burst = paceRule(rate).burst;
      for (const windowMs of [1_000, 5_000]) {
        for (let i = 0; i < sends.length; i++) {
          let j = i;
          while (j < sends.length && sends[j]! < sends[i]! + windowMs) j++;
          expect(j - i).toBeLessThanOrEqual(Math.floor((rate * windowMs) / 1000) + burst);
        }
      }
    }
  });
});
