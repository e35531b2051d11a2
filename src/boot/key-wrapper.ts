import { randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { createCompositeKeyWrapper } from '../domain/secrets/composite-key-wrapper.ts';
import { createLocalKeyWrapper, type KeyWrapper } from '../domain/secrets/key-wrapper.ts';
import { createKmsKeyWrapper, KMS_PREFIX } from '../domain/secrets/kms-key-wrapper.ts';
import { dataKeyContext } from '../domain/secrets/tenant-cipher.ts';
import type { Db } from '../store/db.ts';
import { wrappedKeyVersionsInUse } from '../store/tenant-keys.ts';

export interface MasterKeys {
  keys: Map<number, Buffer>;
  current: number;
}

/** A start-up failure of secrets at rest, worded for the operator (printed without a stack). */
export class KeyWrapperError extends Error {}

export interface KeyWrappers {
  /** What the tenant cipher uses: the master keys and KMS, new keys wrapped by the configured one. */
  wrapper: KeyWrapper;
  kms: KeyWrapper | null;
}

/**
 * The key wrapper the configuration asks for. The AWS SDK is imported only when TRAMLINE_KMS_KEYS is
 * set: a gateway without KMS starts without loading it.
 */
export async function openKeyWrapper(config: Config, masterKeys: MasterKeys | null): Promise<KeyWrappers> {
  const local = masterKeys ? createLocalKeyWrapper(masterKeys.keys, masterKeys.current) : null;
  let kms: KeyWrapper | null = null;
  if (config.kms) {
    const { sdkKmsApi } = await import('./kms-client.ts');
    kms = createKmsKeyWrapper(sdkKmsApi(config.kms), config.kms.keys, config.kms.current);
  }
  const wrapWith = config.kms?.wrapNewKeys ? 'kms' : 'master';
  return { wrapper: createCompositeKeyWrapper({ local, kms, wrapWith }), kms };
}

/**
 * What a process does with tenant data keys, so the start checks what it needs and no more: the api wraps
 * (new tenants) and unwraps, a worker only unwraps (deploy/aws grants it kms:Decrypt only), the scheduler
 * never opens a secret (and has no KMS grant at all).
 */
export type KeyUse = 'wrap' | 'unwrap' | 'none';

/** A context of the same shape as a tenant's, so an IAM condition on `tenant-key:*` admits the probe too. */
const PROBE_CONTEXT = dataKeyContext('start-probe');

/**
 * Before the database: KMS wraps and unwraps with the current key (reachable, the role may use the key),
 * so a missing grant or endpoint fails the start with its reason instead of the first tenant's request.
 */
export async function probeKms(config: Config, kms: KeyWrapper | null, use: KeyUse = 'wrap'): Promise<void> {
  if (!kms || !config.kms || use !== 'wrap') return;
  const keyId = config.kms.keys.get(kms.currentVersion);
  try {
    const probe = randomBytes(32);
    const w = await kms.wrap(probe, PROBE_CONTEXT);
    if (!(await kms.unwrap(w.version, w.wrapped, PROBE_CONTEXT)).equals(probe)) throw new Error('Decrypt returned other bytes');
  } catch (err) {
    throw new KeyWrapperError(
      `AWS KMS cannot wrap tenant data keys with ${keyId} (TRAMLINE_KMS_KEYS version ${kms.currentVersion}): ${reason(err)}. ` +
        'Check the key, its region (the ARN’s, else AWS_REGION), TRAMLINE_KMS_ENDPOINT, and that this process’s role may call kms:Encrypt and kms:Decrypt on it. Nothing was started.',
    );
  }
}

/**
 * After the database: one stored data key of each wrapper version in use opens. It names a KMS-wrapped key
 * without TRAMLINE_KMS_KEYS, a KMS key version no longer listed, or a role that may not decrypt an older key,
 * at the start instead of at each tenant's first delivery. Skipped when neither KMS nor KMS-wrapped keys are
 * involved (the master keys alone behave as before).
 */
export async function checkStoredKeys(config: Config, db: Db, wrapper: KeyWrapper, use: KeyUse = 'wrap'): Promise<void> {
  if (use === 'none') return;
  const inUse = await db.system((q) => wrappedKeyVersionsInUse(q));
  for (const k of inUse) {
    const isKms = k.wrapped.startsWith(KMS_PREFIX);
    if (!isKms && !config.kms) continue;
    try {
      await wrapper.unwrap(k.version, k.wrapped, dataKeyContext(k.tenantId));
    } catch (err) {
      throw new KeyWrapperError(
        `Tenant ${k.tenantId}'s data key (${isKms ? 'AWS KMS' : 'master'} key version ${k.version}) does not open: ${reason(err)}. Nothing was started.`,
      );
    }
  }
}

export function reason(err: unknown): string {
  const e = err as Error;
  // The API shows KMS failures by name only; the operator at the console gets the SDK's full message.
  const cause = e instanceof AppError && e.cause instanceof Error ? e.cause : null;
  return cause ? `${cause.name}: ${cause.message}` : e.message;
}
