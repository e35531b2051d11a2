import { randomBytes } from 'node:crypto';
import { open, SEALED_PREFIX, seal } from './cipher.ts';

/**
 * Wraps and unwraps tenants' data keys. The interface is the one a cloud KMS offers
 * (Encrypt/Decrypt with a key version and an encryption context), so AWS KMS, GCP KMS or Vault
 * Transit can stand in for the local master keys without touching anything else.
 */
export interface KeyWrapper {
  /** The version new wraps use. */
  readonly currentVersion: number;
  /**
   * How the values new wraps produce begin (`enc:1:` master key, `kms:1:` AWS KMS). Versions of different
   * wrappers may share a number, so a key is current only when its version and its scheme both match.
   */
  readonly currentScheme: string;
  wrap(dataKey: Buffer, context: string): Promise<{ version: number; wrapped: string }>;
  unwrap(version: number, wrapped: string, context: string): Promise<Buffer>;
}

export type MasterKeys = ReadonlyMap<number, Buffer>;

/** Master keys held by this process (TRAMLINE_MASTER_KEY); the first listed is current. */
export function createLocalKeyWrapper(keys: MasterKeys, currentVersion: number): KeyWrapper {
  const get = (v: number): Buffer => {
    const k = keys.get(v);
    if (!k) throw new Error(`master key version ${v} is not configured (TRAMLINE_MASTER_KEY)`);
    return k;
  };
  get(currentVersion);
  return {
    currentVersion,
    currentScheme: SEALED_PREFIX,
    async wrap(dataKey, context) {
      return { version: currentVersion, wrapped: seal(get(currentVersion), dataKey.toString('base64'), context) };
    },
    async unwrap(version, wrapped, context) {
      return Buffer.from(open(get(version), wrapped, context), 'base64');
    },
  };
}

/**
 * `TRAMLINE_MASTER_KEY`: `<version>:<base64 of 32 bytes>` entries, comma-separated, the current
 * one first (a bare base64 key is version 1). Older versions stay listed while a rotation rewraps.
 */
export function parseMasterKeys(text: string): { keys: Map<number, Buffer>; current: number } {
  const keys = new Map<number, Buffer>();
  let current: number | undefined;
  for (const entry of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(?:(\d+):)?([A-Za-z0-9+/=_-]+)$/.exec(entry);
    const key = m ? Buffer.from(m[2]!, 'base64') : Buffer.alloc(0);
    if (!m || key.length !== 32) throw new Error('each entry must be [<version>:]<base64 of 32 random bytes>');
    const version = m[1] ? Number(m[1]) : 1;
    if (keys.has(version)) throw new Error(`version ${version} is listed twice`);
    keys.set(version, key);
    current ??= version;
  }
  if (current === undefined) throw new Error('no key given');
  return { keys, current };
}

export function formatMasterKeys(keys: ReadonlyMap<number, Buffer>, current: number): string {
  const rest = [...keys].filter(([v]) => v !== current).sort((a, b) => b[0] - a[0]);
  return [[current, keys.get(current)!] as const, ...rest].map(([v, k]) => `${v}:${k.toString('base64')}`).join(',');
}

export const newMasterKey = (): Buffer => randomBytes(32);
