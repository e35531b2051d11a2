import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { statsRange } from './stats.ts';

const now = new Date('2026-11-30T10:07:31.500Z');

describe('statsRange', () => {
  it('defaults: the last 24 h, 15-minute buckets aligned on the epoch', () => {
    const r = statsRange({}, now);
    expect(r.stepSeconds).toBe(900);
    expect(r.to.toISOString()).toBe('2026-11-30T10:15:00.000Z');
    expect(r.from.toISOString()).toBe('2026-11-29T10:00:00.000Z');
  });

  it('takes a step as a duration and rounds the range out to it', () => {
    const r = statsRange({ from: '2026-11-30T08:59:10Z', to: '2026-11-30T10:00:05+01:00', step: '30s' }, now);
    expect(r).toEqual({ from: new Date('2026-11-30T08:59:00Z'), to: new Date('2026-11-30T09:00:30Z'), stepSeconds: 30 });
  });

  it('refuses bad input with the field named', () => {
    const field = (q: Record<string, string>): string | undefined => {
      try {
        statsRange(q, now);
        return undefined;
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        return (err as AppError).errors?.[0]?.field;
      }
    };
    expect(field({ from: '2026-11-30' })).toBe('querystring.from');
    expect(field({ to: '2026-11-30T25:00:00Z' })).toBe('querystring.to');
    expect(field({ from: '2026-11-30T11:00:00Z' })).toBe('querystring.from'); // after `to` (now)
    expect(field({ step: '1500ms' })).toBe('querystring.step');
    expect(field({ step: '5s' })).toBe('querystring.step');
    expect(field({ step: 'soon' })).toBe('querystring.step');
    expect(field({ step: '10s' })).toBe('querystring.step'); // 8640 buckets
    expect(field({ from: '2026-01-01T00:00:00Z' })).toBe('querystring.from'); // > 90 days
    expect(field({ step: '1m', from: '2026-11-30T00:00:00Z' })).toBeUndefined();
  });
});
