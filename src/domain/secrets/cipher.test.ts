import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptError, isSealed, open, seal } from './cipher.ts';
import { createLocalKeyWrapper, formatMasterKeys, parseMasterKeys } from './key-wrapper.ts';

const key = randomBytes(32);

describe('seal / open', () => {
  it('round-trips, with a fresh IV each time', () => {
    const a = seal(key, 'whsec_abc', 'ep_1:signing-secret');
    const b = seal(key, 'whsec_abc', 'ep_1:signing-secret');
    expect(isSealed(a)).toBe(true);
    expect(a).not.toBe(b);
    expect(a).not.toContain('whsec_abc');
    expect(open(key, a, 'ep_1:signing-secret')).toBe('whsec_abc');
  });

  it('refuses a ciphertext moved to another row, a wrong key, or a changed byte', () => {
    const sealed = seal(key, 'secret', 'ep_1:signing-secret');
    expect(() => open(key, sealed, 'ep_2:signing-secret')).toThrow(DecryptError);
    expect(() => open(randomBytes(32), sealed, 'ep_1:signing-secret')).toThrow(DecryptError);
    const raw = Buffer.from(sealed.slice('enc:1:'.length), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => open(key, `enc:1:${raw.toString('base64')}`, 'ep_1:signing-secret')).toThrow(DecryptError);
    expect(() => open(key, 'plain', 'x')).toThrow(DecryptError);
  });
});

describe('master keys', () => {
  it('parses versions, the first listed being current, and formats them back', () => {
    const k1 = randomBytes(32).toString('base64');
    const k2 = randomBytes(32).toString('base64');
    const parsed = parseMasterKeys(`2:${k2}, 1:${k1}`);
    expect(parsed.current).toBe(2);
    expect([...parsed.keys.keys()]).toEqual([2, 1]);
    expect(parseMasterKeys(formatMasterKeys(parsed.keys, 2))).toEqual(parsed);
    expect(parseMasterKeys(k1).current).toBe(1);
  });

  it('refuses short keys, duplicates and empty lists', () => {
    expect(() => parseMasterKeys('1:' + randomBytes(16).toString('base64'))).toThrow(/32/);
    const k = randomBytes(32).toString('base64');
    expect(() => parseMasterKeys(`1:${k},1:${k}`)).toThrow(/twice/);
    expect(() => parseMasterKeys('')).toThrow();
  });

  it('wraps with the current version and unwraps any configured one, bound to its context', async () => {
    const keys = new Map([
      [1, randomBytes(32)],
      [2, randomBytes(32)],
    ]);
    const old = createLocalKeyWrapper(keys, 1);
    const dataKey = randomBytes(32);
    const w = await old.wrap(dataKey, 'tenant-key:ten_a');
    expect(w.version).toBe(1);
    const next = createLocalKeyWrapper(keys, 2);
    expect(await next.unwrap(w.version, w.wrapped, 'tenant-key:ten_a')).toEqual(dataKey);
    await expect(next.unwrap(w.version, w.wrapped, 'tenant-key:ten_b')).rejects.toThrow(DecryptError);
    await expect(createLocalKeyWrapper(new Map([[2, keys.get(2)!]]), 2).unwrap(1, w.wrapped, 'tenant-key:ten_a')).rejects.toThrow(
      /version 1/,
    );
  });
});
