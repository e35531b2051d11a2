import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKmsKeyWrapper, type KmsApi, parseKmsKeys } from './kms-key-wrapper.ts';

/**
 * A KMS stand-in with KMS' contract: ciphertexts are bound to their key and to the encryption
 * context (AES-GCM, context as associated data), Decrypt with another KeyId or context fails.
 * No AWS endpoint can be reached from the test machines; this checks the wrapper's side of the contract.
 */
function fakeKms(): KmsApi & { calls: number } {
  const material = new Map<string, Buffer>();
  const keyOf = (id: string) => {
    if (!material.has(id)) material.set(id, randomBytes(32));
    return material.get(id)!;
  };
  const aad = (id: string, ctx: Record<string, string>) => Buffer.from(JSON.stringify([id, Object.entries(ctx).sort()]));
  const api = {
    calls: 0,
    async encrypt(i: { KeyId: string; Plaintext: Uint8Array; EncryptionContext: Record<string, string> }) {
      api.calls++;
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', keyOf(i.KeyId), iv).setAAD(aad(i.KeyId, i.EncryptionContext));
      const ct = Buffer.concat([c.update(i.Plaintext), c.final()]);
      return { CiphertextBlob: Buffer.concat([iv, c.getAuthTag(), ct]) };
    },
    async decrypt(i: { KeyId: string; CiphertextBlob: Uint8Array; EncryptionContext: Record<string, string> }) {
      api.calls++;
      const raw = Buffer.from(i.CiphertextBlob);
      const d = createDecipheriv('aes-256-gcm', keyOf(i.KeyId), raw.subarray(0, 12)).setAAD(aad(i.KeyId, i.EncryptionContext));
      d.setAuthTag(raw.subarray(12, 28));
      try {
        return { Plaintext: Buffer.concat([d.update(raw.subarray(28)), d.final()]) };
      } catch {
        throw Object.assign(new Error('InvalidCiphertextException'), { name: 'InvalidCiphertextException' });
      }
    },
  };
  return api;
}

const ARN1 = 'arn:aws:kms:eu-west-1:123456789012:key/0e5d8f3c-1111-4a4a-9b9b-123456789abc';
const ARN2 = 'arn:aws:kms:eu-west-1:123456789012:key/7f2a1c9e-2222-4b4b-8c8c-abcdef012345';

describe('KMS key wrapper', () => {
  it('wraps and unwraps a data key, bound to its context', async () => {
    const w = createKmsKeyWrapper(fakeKms(), new Map([[1, ARN1]]), 1);
    const dataKey = randomBytes(32);
    const { version, wrapped } = await w.wrap(dataKey, 'tenant-key:ten_a');
    expect(version).toBe(1);
    expect(wrapped).toMatch(/^kms:1:/);
    expect(wrapped).not.toContain(dataKey.toString('base64'));
    expect((await w.unwrap(1, wrapped, 'tenant-key:ten_a')).equals(dataKey)).toBe(true);
    await expect(w.unwrap(1, wrapped, 'tenant-key:ten_b')).rejects.toThrow(/InvalidCiphertext/);
  });

  it('rotation between KMS keys: new wraps use the current one, older versions still unwrap, a missing version is named', async () => {
    const kms = fakeKms();
    const old = createKmsKeyWrapper(kms, new Map([[1, ARN1]]), 1);
    const w1 = await old.wrap(Buffer.alloc(32, 7), 'tenant-key:ten_a');
    const next = createKmsKeyWrapper(
      kms,
      new Map([
        [2, ARN2],
        [1, ARN1],
      ]),
      2,
    );
    expect((await next.wrap(Buffer.alloc(32, 1), 'c')).version).toBe(2);
    expect((await next.unwrap(1, w1.wrapped, 'tenant-key:ten_a')).equals(Buffer.alloc(32, 7))).toBe(true);
    // Decrypt names the expected key: a ciphertext of key 1 presented as version 2 is refused.
    await expect(next.unwrap(2, w1.wrapped, 'tenant-key:ten_a')).rejects.toThrow();
    await expect(createKmsKeyWrapper(kms, new Map([[2, ARN2]]), 2).unwrap(1, w1.wrapped, 'tenant-key:ten_a')).rejects.toThrow(/version 1/);
    await expect(next.unwrap(1, 'enc:1:abc', 'x')).rejects.toThrow(/not a KMS-wrapped key/);
  });

  it('TRAMLINE_KMS_KEYS: versions of ARNs, aliases or key ids, the current first', () => {
    expect(parseKmsKeys(`2:${ARN2}, 1:alias/tramline-tenant-keys`)).toEqual({
      keys: new Map([
        [2, ARN2],
        [1, 'alias/tramline-tenant-keys'],
      ]),
      current: 2,
    });
    expect(parseKmsKeys(ARN1)).toEqual({ keys: new Map([[1, ARN1]]), current: 1 });
    expect(() => parseKmsKeys('1:not a key')).toThrow(/KMS key ARN/);
    expect(() => parseKmsKeys(`1:${ARN1},1:${ARN2}`)).toThrow(/twice/);
    expect(() => parseKmsKeys('')).toThrow(/no key/);
  });
});
