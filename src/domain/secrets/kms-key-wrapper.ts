import { AppError } from '../../errors.ts';
import { DecryptError } from './cipher.ts';
import type { KeyWrapper } from './key-wrapper.ts';

/**
 * A KeyWrapper over AWS KMS: each tenant's data key is encrypted by a KMS key (deploy/aws creates it,
 * rotating yearly; only the api and worker roles may use it) instead of a master key held in the
 * process's environment. KMS never hands the key out: a stolen database dump or environment is useless
 * without the pod's role.
 *
 * The wrap is bound to its context (`tenant-key:ten_…`) through the KMS encryption context, the
 * equivalent of the local wrapper's associated data: a wrapped key copied to another tenant's row does
 * not decrypt. Versions name KMS keys (`TRAMLINE_KMS_KEYS=2:arn:aws:kms:…,1:alias/…`, current first), so
 * moving to another KMS key is the same rotation as for master keys (`tramline keys rotate`); KMS' own
 * yearly rotation of a key needs nothing (its old material still decrypts).
 *
 * The two calls come in as a small interface shaped like KMS' Encrypt and Decrypt, so domain/ never
 * imports an SDK: boot/kms-client.ts implements it with `@aws-sdk/client-kms`, loaded only when KMS is configured.
 *
 * A ciphertext KMS refuses (another key, another context, altered) is a DecryptError like the local
 * wrapper's; anything else (unreachable, throttled, access denied, key disabled) is `UNAVAILABLE`: the
 * API answers 503 with Retry-After, nothing was written, and a data key already unwrapped stays cached.
 */
export interface KmsApi {
  encrypt(input: {
    KeyId: string;
    Plaintext: Uint8Array;
    EncryptionContext: Record<string, string>;
  }): Promise<{ CiphertextBlob?: Uint8Array }>;
  decrypt(input: {
    KeyId: string;
    CiphertextBlob: Uint8Array;
    EncryptionContext: Record<string, string>;
  }): Promise<{ Plaintext?: Uint8Array }>;
}

export type KmsKeys = ReadonlyMap<number, string>;

export const KMS_PREFIX = 'kms:1:';
const PREFIX = KMS_PREFIX;
const CONTEXT_KEY = 'tramline:context';
const REFUSED_CIPHERTEXT = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

/** What a failed KMS call means to the caller: a ciphertext that does not open, or a service to retry later. */
export function kmsFailure(op: 'Encrypt' | 'Decrypt', version: number, err: unknown): Error {
  const name = (err as Error)?.name || 'Error';
  if (REFUSED_CIPHERTEXT.has(name))
    return new DecryptError(`${name}: KMS key version ${version} does not open this wrapped key in its context`);
  // The name only (no ARN, no account): this text can reach an API client; the cause is logged.
  return new AppError('UNAVAILABLE', `AWS KMS ${op} with key version ${version} failed (${name}); retry shortly`, { cause: err });
}

export function createKmsKeyWrapper(kms: KmsApi, keys: KmsKeys, currentVersion: number): KeyWrapper {
  const keyId = (v: number): string => {
    const k = keys.get(v);
    if (!k) throw new Error(`KMS key version ${v} is not configured (TRAMLINE_KMS_KEYS)`);
    return k;
  };
  keyId(currentVersion);
  return {
    currentVersion,
    currentScheme: PREFIX,
    async wrap(dataKey, context) {
      const out = await kms
        .encrypt({ KeyId: keyId(currentVersion), Plaintext: dataKey, EncryptionContext: { [CONTEXT_KEY]: context } })
        .catch((err: unknown) => {
          throw kmsFailure('Encrypt', currentVersion, err);
        });
      if (!out.CiphertextBlob) throw new Error('KMS Encrypt returned no ciphertext');
      return { version: currentVersion, wrapped: PREFIX + Buffer.from(out.CiphertextBlob).toString('base64') };
    },
    async unwrap(version, wrapped, context) {
      if (!wrapped.startsWith(PREFIX)) throw new Error('not a KMS-wrapped key');
      // KeyId is passed so KMS refuses a ciphertext of any other key (IncorrectKeyException).
      const out = await kms
        .decrypt({
          KeyId: keyId(version),
          CiphertextBlob: Buffer.from(wrapped.slice(PREFIX.length), 'base64'),
          EncryptionContext: { [CONTEXT_KEY]: context },
        })
        .catch((err: unknown) => {
          throw kmsFailure('Decrypt', version, err);
        });
      if (!out.Plaintext) throw new Error('KMS Decrypt returned no plaintext');
      return Buffer.from(out.Plaintext);
    },
  };
}

/** `TRAMLINE_KMS_KEYS`: `[<version>:]<key id, ARN or alias>`, comma-separated, the current one first. */
export function parseKmsKeys(text: string): { keys: Map<number, string>; current: number } {
  const keys = new Map<number, string>();
  let current: number | undefined;
  for (const entry of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(?:(\d+):)?((?:arn:[\w-]+:kms:[\w-]+:\d{12}:(?:key|alias)\/[\w/-]+)|(?:alias\/[\w/-]+)|[0-9a-f-]{36})$/.exec(entry);
    if (!m) throw new Error(`each entry must be [<version>:]<KMS key ARN, alias/… or key id>: ${entry}`);
    const version = m[1] ? Number(m[1]) : 1;
    if (keys.has(version)) throw new Error(`version ${version} is listed twice`);
    keys.set(version, m[2]!);
    current ??= version;
  }
  if (current === undefined) throw new Error('no key given');
  return { keys, current };
}
