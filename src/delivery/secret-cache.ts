import type { TenantCipher } from '../domain/secrets/tenant-cipher.ts';

/**
 * The worker opens the same endpoint secrets and headers for every delivery; an AES-GCM open per
 * value per delivery is wasted work. Keyed by the exact ciphertext and its associated data: a
 * rotated secret is a new ciphertext, so nothing stale is ever served. Bounded: the oldest entry
 * goes when full. The plaintexts stay in this process's memory, where each delivery puts them anyway.
 */
export function withOpenCache(cipher: TenantCipher, max = 10_000): TenantCipher {
  const opened = new Map<string, Promise<string>>();
  return {
    ...cipher,
    open(tenantId, value, aad) {
      const key = `${tenantId}\u0000${aad}\u0000${value}`;
      let p = opened.get(key);
      if (!p) {
        p = cipher.open(tenantId, value, aad);
        p.catch(() => opened.delete(key));
        if (opened.size >= max) opened.delete(opened.keys().next().value!);
        opened.set(key, p);
      }
      return p;
    },
  };
}
