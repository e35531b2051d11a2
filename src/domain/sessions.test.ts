import { describe, expect, it } from 'vitest';
import { csrfMatches, csrfTokenOf, lockMs, THROTTLE } from './sessions.ts';
import { resolveSettings } from './settings.ts';
import { roleScopes } from './users.ts';

describe('lock-out schedule', () => {
  it('nothing below the threshold; 30 s at it, doubling, capped at 15 minutes', () => {
    expect([1, 4].map((n) => lockMs(n, 5))).toEqual([0, 0]);
    expect([5, 6, 7].map((n) => lockMs(n, 5))).toEqual([30_000, 60_000, 120_000]);
    expect(lockMs(50, 5)).toBe(THROTTLE.maxLockMs);
    expect(lockMs(1_000_000, 5)).toBe(THROTTLE.maxLockMs);
  });
});

describe('CSRF token', () => {
  it('is derived from the session secret, and only its own token matches', () => {
    const a = 'tls_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const b = 'tls_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
    expect(csrfTokenOf(a)).toBe(csrfTokenOf(a));
    expect(csrfTokenOf(a)).not.toBe(csrfTokenOf(b));
    expect(csrfMatches(a, csrfTokenOf(a))).toBe(true);
    expect(csrfMatches(a, csrfTokenOf(b))).toBe(false);
    expect(csrfMatches(a, undefined)).toBe(false);
    expect(csrfMatches(a, '')).toBe(false);
    expect(csrfTokenOf(a)).not.toContain(a.slice(4, 20));
  });
});

describe('roles and settings', () => {
  it('role scopes', () => {
    expect(roleScopes('owner')).toEqual(['admin', 'publish', 'read']);
    expect(roleScopes('developer')).toEqual(['admin', 'publish', 'read']);
    expect(roleScopes('viewer')).toEqual(['read']);
  });

  it('resolveSettings fills defaults and ignores stored values of the wrong type', () => {
    const s = resolveSettings('Acme', {
      branding: { primaryColor: '#123456', radius: '12', mode: 3 },
      embedOrigins: ['https://a.test', 7],
      retry: {},
    });
    expect(s.branding).toMatchObject({ name: 'Acme', primaryColor: '#123456', radius: 8, mode: 'auto', logoUrl: null });
    expect(s.embedOrigins).toEqual(['https://a.test']);
  });
});
