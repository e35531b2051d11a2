import { describe, expect, it } from 'vitest';
import type { TenantCipher } from '../domain/secrets/tenant-cipher.ts';
import { withOpenCache } from './secret-cache.ts';

function counting(): TenantCipher & { calls: number } {
  const c = {
    calls: 0,
    async open(_t: string, value: string, aad: string) {
      c.calls++;
      if (value === 'bad') throw new Error('cannot open');
      return `${aad}:${value}`;
    },
    seal: async () => '',
    newWrappedKey: async () => ({ tenantId: '', version: 1, wrapped: '' }),
    rewrapAll: async () => 0,
  };
  return c;
}

describe('withOpenCache', () => {
  it('opens each (tenant, ciphertext, aad) once and keeps them apart', async () => {
    const inner = counting();
    const cipher = withOpenCache(inner);
    expect(await cipher.open('t1', 'c1', 'a')).toBe('a:c1');
    expect(await cipher.open('t1', 'c1', 'a')).toBe('a:c1');
    expect(inner.calls).toBe(1);
    expect(await cipher.open('t1', 'c1', 'b')).toBe('b:c1');
    expect(await cipher.open('t2', 'c1', 'a')).toBe('a:c1');
    expect(inner.calls).toBe(3);
  });

  it('does not keep failures, and evicts the oldest entry when full', async () => {
    const inner = counting();
    const cipher = withOpenCache(inner, 2);
    await expect(cipher.open('t', 'bad', 'a')).rejects.toThrow('cannot open');
    await expect(cipher.open('t', 'bad', 'a')).rejects.toThrow('cannot open');
    expect(inner.calls).toBe(2);
    await cipher.open('t', 'x', 'a');
    await cipher.open('t', 'y', 'a');
    await cipher.open('t', 'z', 'a'); // evicts x
    await cipher.open('t', 'y', 'a');
    expect(inner.calls).toBe(5);
    await cipher.open('t', 'x', 'a');
    expect(inner.calls).toBe(6);
  });
});
