import { describe, it, expect } from 'vitest';
import { parseDuration, parseDurationList } from './durations.ts';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['250ms', 250],
    ['5s', 5_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['0.5ms', 1], // rounded to whole ms
    [' 10s ', 10_000],
  ])('%j -> %d', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', '-5s', '5 s', '5S', '5sec', '1w', 's', '.5s', '5.s', '1e3ms', 'abc', '5s5'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/Invalid duration/);
  });

  it('explains a missing unit', () => {
    expect(() => parseDuration('5')).toThrow(/missing unit/);
  });
});

describe('parseDurationList', () => {
  it('parses the default schedule', () => {
    expect(parseDurationList('0s,5s,5m,30m,2h,5h,10h,10h')).toEqual([
      0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
  });

  it('trims spaces around items', () => {
    expect(parseDurationList(' 1s , 2m,3h ')).toEqual([1_000, 120_000, 10_800_000]);
  });

  it.each(['', '   '])('rejects the empty list %j', (text) => {
    expect(() => parseDurationList(text)).toThrow(/empty/);
  });

  it.each(['1s,,2s', '1s,', ',1s'])('rejects an empty item in %j', (text) => {
    expect(() => parseDurationList(text)).toThrow(/item \d+ is empty/);
  });

  it('names the bad item', () => {
    expect(() => parseDurationList('1s,2x')).toThrow(/item 2/);
  });
});
