import { describe, it, expect } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_MS, nextRetryDelay } from './retry-schedule.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const mid = () => 0.5; // factor exactly 1: no jitter
const ALMOST_ONE = 1 - Number.EPSILON;

describe('DEFAULT_RETRY_SCHEDULE_MS', () => {
  it('is immediately, 5s, 5m, 30m, 2h, 5h, 10h, 10h', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([0, 5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H]);
  });
});

describe('nextRetryDelay', () => {
  it.each([
    [1, 5 * S],
    [2, 5 * M],
    [3, 30 * M],
    [4, 2 * H],
    [5, 5 * H],
    [6, 10 * H],
    [7, 10 * H],
    [8, null],
    [9, null],
  ])('after %d attempts -> %s', (attemptsMade, expected) => {
    expect(nextRetryDelay({ attemptsMade, scheduleMs: DEFAULT_RETRY_SCHEDULE_MS, random: mid })).toBe(expected);
  });

  it.each([
    // [random, jitter, base, expected]
    [0, 0.2, 5 * S, 4 * S],
    [ALMOST_ONE, 0.2, 5 * S, 6 * S],
    [0.75, 0.2, 5 * S, 5_500],
    [0, 0, 5 * S, 5 * S],
    [ALMOST_ONE, 0, 5 * S, 5 * S],
    [0, 1, 5 * S, 0], // never negative
    [0.5, 0.2, 333, 333],
    [0.1, 0.2, 7, 6], // 7 * 0.84 = 5.88 -> rounded
  ])('random=%d jitter=%d base=%d -> %d', (r, jitter, base, expected) => {
    expect(nextRetryDelay({ attemptsMade: 1, scheduleMs: [0, base], random: () => r, jitter })).toBe(expected);
  });

  it('stays within ±20% by default across the schedule', () => {
    for (let attemptsMade = 1; attemptsMade < DEFAULT_RETRY_SCHEDULE_MS.length; attemptsMade++) {
      const base = DEFAULT_RETRY_SCHEDULE_MS[attemptsMade] as number;
      const lo = nextRetryDelay({ attemptsMade, scheduleMs: DEFAULT_RETRY_SCHEDULE_MS, random: () => 0 });
      const hi = nextRetryDelay({ attemptsMade, scheduleMs: DEFAULT_RETRY_SCHEDULE_MS, random: () => ALMOST_ONE });
      expect(lo).toBe(Math.round(base * 0.8));
      expect(hi).toBeLessThanOrEqual(Math.round(base * 1.2));
      expect(hi).toBeGreaterThan(Math.round(base * 1.2) - 2);
    }
  });

  it('returns null when the schedule is exhausted, even with Retry-After', () => {
    expect(nextRetryDelay({ attemptsMade: 2, scheduleMs: [0, 1 * S], random: mid, retryAfterMs: 10 * S })).toBeNull();
  });

  it('a single-entry schedule means one attempt only', () => {
    expect(nextRetryDelay({ attemptsMade: 1, scheduleMs: [0], random: mid })).toBeNull();
  });

  describe('Retry-After', () => {
    const base = { attemptsMade: 1, scheduleMs: [0, 5 * S], random: mid };

    it.each([
      [null, 5 * S], // absent
      [undefined, 5 * S],
      [1 * S, 5 * S], // shorter than schedule: ignored
      [5 * S, 5 * S],
      [60 * S, 60 * S], // longer: honoured
      [48 * H, 24 * H], // clamped to default max
      [Number.POSITIVE_INFINITY, 5 * S], // nonsense: ignored
      [Number.NaN, 5 * S],
      [-1, 5 * S],
    ])('retryAfterMs=%s -> %d', (retryAfterMs, expected) => {
      expect(nextRetryDelay({ ...base, retryAfterMs })).toBe(expected);
    });

    it('uses a custom clamp', () => {
      expect(nextRetryDelay({ ...base, retryAfterMs: 10 * M, maxRetryAfterMs: 1 * M })).toBe(1 * M);
    });

    it('never goes below the schedule even if the clamp is smaller', () => {
      expect(nextRetryDelay({ ...base, retryAfterMs: 10 * M, maxRetryAfterMs: 1 * S })).toBe(5 * S);
    });
  });

  it.each([0, -1, 1.5])('rejects attemptsMade=%d', (attemptsMade) => {
    expect(() => nextRetryDelay({ attemptsMade, scheduleMs: DEFAULT_RETRY_SCHEDULE_MS, random: mid })).toThrow(RangeError);
  });

  it.each([-0.1, 1.5, Number.NaN])('rejects jitter=%d', (jitter) => {
    expect(() => nextRetryDelay({ attemptsMade: 1, scheduleMs: DEFAULT_RETRY_SCHEDULE_MS, random: mid, jitter })).toThrow(RangeError);
  });
});
