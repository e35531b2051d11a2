import { describe, expect, it } from 'vitest';
import { derivePortalKey, signPortalToken, verifyPortalToken } from './portal-tokens.ts';

const master = Buffer.alloc(32, 7);
const key = derivePortalKey(master);
const now = new Date('2026-01-01T00:00:00Z');
const inAnHour = now.getTime() / 1000 + 3600;
const claims = { t: 'ten_a', c: 'con_a', exp: inAnHour };

describe('portal tokens', () => {
  it('derives a 32-byte key that is not the master key, deterministically', () => {
    expect(key).toHaveLength(32);
    expect(key.equals(master)).toBe(false);
    expect(derivePortalKey(master).equals(key)).toBe(true);
    expect(derivePortalKey(Buffer.alloc(32, 8)).equals(key)).toBe(false);
  });

  it('round-trips, with the tlp_ prefix and no whitespace', () => {
    const token = signPortalToken(key, claims);
    expect(token).toMatch(/^tlp_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyPortalToken(key, token, now)).toEqual(claims);
  });

  it('refuses an expired token, at the second of expiry and after', () => {
    const token = signPortalToken(key, claims);
    expect(verifyPortalToken(key, token, new Date(inAnHour * 1000 - 1))).toEqual(claims);
    expect(verifyPortalToken(key, token, new Date(inAnHour * 1000))).toBeNull();
    expect(verifyPortalToken(key, signPortalToken(key, { ...claims, exp: now.getTime() / 1000 - 1 }), now)).toBeNull();
  });

  it('refuses a tampered body, a tampered signature, another key and malformed tokens', () => {
    const token = signPortalToken(key, claims);
    const [body, sig] = token.slice(4).split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...claims, c: 'con_b' })).toString('base64url');
    expect(verifyPortalToken(key, `tlp_${forged}.${sig}`, now)).toBeNull();
    const longer = Buffer.from(JSON.stringify({ ...claims, exp: inAnHour + 86_400 })).toString('base64url');
    expect(verifyPortalToken(key, `tlp_${longer}.${sig}`, now)).toBeNull();
    const flipped = sig.slice(0, -2) + (sig.at(-2) === 'A' ? 'B' : 'A') + sig.at(-1);
    expect(verifyPortalToken(key, `tlp_${body}.${flipped}`, now)).toBeNull();
    expect(verifyPortalToken(key, `tlp_${body}.${sig.slice(0, 10)}`, now)).toBeNull();
    expect(verifyPortalToken(derivePortalKey(Buffer.alloc(32, 8)), token, now)).toBeNull();
    for (const bad of ['', 'tlp_', 'tl_x', `tlp_${body}`, `tlp_.${sig}`, `tlp_${body}.${sig}.x`, `x${token}`, `tlp_${body}.${sig}=`]) {
      expect(verifyPortalToken(key, bad, now), bad).toBeNull();
    }
  });

  it('accepts one spelling only: the same bytes with unused base64url bits set are refused', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const token = signPortalToken(key, claims);
    const [body, sig] = token.slice(4).split('.') as [string, string];
    // 32 bytes in 43 characters: the last one carries 4 bits and 2 unused ones.
    const last = alphabet.indexOf(sig.at(-1)!);
    const respelled = [1, 2, 3].map((bits) => sig.slice(0, -1) + alphabet[last ^ bits]);
    for (const alt of respelled) {
      expect(Buffer.from(alt, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
      expect(verifyPortalToken(key, `tlp_${body}.${alt}`, now), alt).toBeNull();
    }
    expect(verifyPortalToken(key, token, now)).toEqual(claims);
  });

  it('refuses a correctly signed body that is not a claims object', () => {
    for (const odd of [
      { t: 'ten_a', c: 'con_a' },
      { t: '', c: 'con_a', exp: inAnHour },
      { t: 'ten_a', c: 1, exp: inAnHour },
      { t: 'ten_a', c: 'con_a', exp: '9999999999' },
    ]) {
      expect(verifyPortalToken(key, signPortalToken(key, odd as never), now), JSON.stringify(odd)).toBeNull();
    }
  });
});
