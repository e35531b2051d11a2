import { expect } from 'vitest';
import type { Client, Response } from './client.ts';

/** The largest number of timestamps in any window of `windowMs` (sliding, half-open). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** Checks a 429 answer: problem+json, the rate-limited type, a Retry-After in whole seconds. */
export function expectRateLimited(r: Response, scope: 'key' | 'tenant', maxRetryAfter: number): number {
  expect(r.status).toBe(429);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ type: 'https://tramline.dev/problems/rate-limited', title: 'Too many requests', status: 429, scope });
  expect(JSON.stringify(r.body)).not.toMatch(/at .+\.(ts|js):\d+/); // no stack
  const retryAfter = Number(r.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxRetryAfter);
  return retryAfter;
}

/** `n` GETs of a cheap authenticated route; returns the statuses. */
export async function hit(api: Client, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await api.get('/v1/event-types')).status);
  return out;
}
