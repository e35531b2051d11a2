import { randomBytes } from 'node:crypto';
import type { Db } from '../../store/db.ts';
import * as tenantKeys from '../../store/tenant-keys.ts';
import { open, seal } from './cipher.ts';
import type { KeyWrapper } from './key-wrapper.ts';

/**
 * Envelope encryption per tenant: each tenant has a random data key, stored wrapped by the
 * master key (or a KMS); values are sealed with the tenant's data key and bound to their row.
 * Unwrapped data keys are cached in memory, so sealing and opening cost no round trip.
 *
 * Callers seal before and open after their tenant transaction: the key lookup is a system
 * transaction of its own, and PGlite runs one transaction at a time.
 */
export interface TenantCipher {
  seal(tenantId: string, plaintext: string, aad: string): Promise<string>;
  open(tenantId: string, value: string, aad: string): Promise<string>;
  /** A new tenant's wrapped key, to insert in the transaction that creates the tenant. */
  newWrappedKey(tenantId: string): Promise<tenantKeys.WrappedKey>;
  /** Rewraps every tenant's data key with the current version of the current wrapper (master key or KMS); returns how many. */
  rewrapAll(): Promise<number>;
}

/** The encryption context a tenant's data key is wrapped under (restore checks the master key with it). */
export const dataKeyContext = (tenantId: string): string => `tenant-key:${tenantId}`;
const context = dataKeyContext;

export function createTenantCipher(db: Db, wrapper: KeyWrapper): TenantCipher {
  const cache = new Map<string, Promise<Buffer>>();

  async function load(tenantId: string): Promise<Buffer> {
    let stored = await db.system((q) => tenantKeys.getWrappedKey(q, tenantId));
    if (!stored) {
      // A tenant created before keys existed: give it one now (the first writer wins).
      const fresh = await newWrappedKey(tenantId);
      stored = await db.system((q) => tenantKeys.insertWrappedKey(q, fresh));
    }
    return wrapper.unwrap(stored.version, stored.wrapped, context(tenantId));
  }

  function keyOf(tenantId: string): Promise<Buffer> {
    let k = cache.get(tenantId);
    if (!k) {
      k = load(tenantId);
      k.catch(() => cache.delete(tenantId));
      cache.set(tenantId, k);
    }
    return k;
  }

  async function newWrappedKey(tenantId: string): Promise<tenantKeys.WrappedKey> {
    const { version, wrapped } = await wrapper.wrap(randomBytes(32), context(tenantId));
    return { tenantId, version, wrapped };
  }

  return {
    async seal(tenantId, plaintext, aad) {
      return seal(await keyOf(tenantId), plaintext, aad);
    },
    async open(tenantId, value, aad) {
      return open(await keyOf(tenantId), value, aad);
    },
    newWrappedKey,
    async rewrapAll() {
      const stale = await db.system((q) => tenantKeys.listWrappedKeysNotAt(q, wrapper.currentVersion, wrapper.currentScheme));
      let done = 0;
      // One tenant at a time, each committed: a failure part-way (KMS throttling, say) loses nothing, and running it again resumes.
      for (const k of stale) {
        const dataKey = await wrapper.unwrap(k.version, k.wrapped, context(k.tenantId));
        const { version, wrapped } = await wrapper.wrap(dataKey, context(k.tenantId));
        if (await db.system((q) => tenantKeys.replaceWrappedKey(q, { tenantId: k.tenantId, version, wrapped }, k))) done++;
      }
      return done;
    },
  };
}

/** The associated data of an endpoint's signing secret (current or previous: the same row). */
export const secretAad = (endpointId: string): string => `${endpointId}:signing-secret`;
export const headerAad = (endpointId: string, name: string): string => `${endpointId}:header:${name}`;

export async function sealHeaders(
  cipher: TenantCipher,
  tenantId: string,
  endpointId: string,
  headers: Record<string, string>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = await cipher.seal(tenantId, value, headerAad(endpointId, name));
  return out;
}

export async function openHeaders(
  cipher: TenantCipher,
  tenantId: string,
  endpointId: string,
  headers: Record<string, string>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = await cipher.open(tenantId, value, headerAad(endpointId, name));
  return out;
}
