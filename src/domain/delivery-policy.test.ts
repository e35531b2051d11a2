import { describe, expect, it } from 'vitest';
import { decide, describeResult, endpointDisableReason } from './delivery-policy.ts';

const schedule = [0, 1000, 2000];
const mid = () => 0.5; // no jitter

describe('decide', () => {
  it('succeeds on any 2xx', () => {
    for (const status of [200, 201, 204, 299]) {
      expect(
        decide({ result: { kind: 'response', status, retryAfterMs: null }, attemptsInRound: 1, scheduleMs: schedule, random: mid }),
      ).toEqual({ state: 'succeeded' });
    }
  });

  it('retries failures on the schedule, then fails', () => {
    const fail = { kind: 'response' as const, status: 500, retryAfterMs: null };
    expect(decide({ result: fail, attemptsInRound: 1, scheduleMs: schedule, random: mid })).toEqual({ state: 'pending', retryInMs: 1000 });
    expect(decide({ result: fail, attemptsInRound: 2, scheduleMs: schedule, random: mid })).toEqual({ state: 'pending', retryInMs: 2000 });
    expect(decide({ result: fail, attemptsInRound: 3, scheduleMs: schedule, random: mid })).toEqual({
      state: 'failed',
      reason: 'attempts_exhausted',
    });
  });

  it('treats redirects, timeouts and refused egress as failures to retry', () => {
    for (const result of [
      { kind: 'response' as const, status: 302, retryAfterMs: null },
      { kind: 'error' as const, code: 'timeout', message: 't' },
      { kind: 'error' as const, code: 'egress_refused', message: 'e' },
    ]) {
      expect(decide({ result, attemptsInRound: 1, scheduleMs: schedule, random: mid }).state).toBe('pending');
    }
  });

  it('honours a longer Retry-After', () => {
    const r = decide({
      result: { kind: 'response', status: 429, retryAfterMs: 60_000 },
      attemptsInRound: 1,
      scheduleMs: schedule,
      random: mid,
    });
    expect(r).toEqual({ state: 'pending', retryInMs: 60_000 });
  });

  it('fails at once and disables the endpoint on 410 Gone', () => {
    const r = decide({
      result: { kind: 'response', status: 410, retryAfterMs: null },
      attemptsInRound: 1,
      scheduleMs: schedule,
      random: mid,
    });
    expect(r).toEqual({ state: 'failed', reason: 'endpoint_gone' });
    expect(endpointDisableReason(r)).toMatch(/410/);
    expect(endpointDisableReason({ state: 'failed', reason: 'attempts_exhausted' })).toBeNull();
  });

  it('describes what went wrong', () => {
    expect(describeResult({ kind: 'response', status: 200, retryAfterMs: null })).toBeNull();
    expect(describeResult({ kind: 'response', status: 503, retryAfterMs: null })).toBe('HTTP 503');
    expect(describeResult({ kind: 'error', code: 'timeout', message: 'after 15000 ms' })).toMatch(/^timeout: /);
    // What the transport said stays out of what tenants read: the same words whatever the address or port.
    const refused = describeResult({
      kind: 'error',
      code: 'egress_refused',
      message: 'ep.example resolved to a refused address: 10.0.0.7 is private',
    });
    const closed = describeResult({ kind: 'error', code: 'connect_failed', message: 'connect ECONNREFUSED 203.0.113.9:8443' });
    const dns = describeResult({ kind: 'error', code: 'dns_failed', message: 'getaddrinfo ENOTFOUND internal.corp' });
    expect(new Set([refused, closed, dns]).size).toBe(1);
    expect(refused).not.toMatch(/10\.0|8443|corp|refused address/);
  });
});
