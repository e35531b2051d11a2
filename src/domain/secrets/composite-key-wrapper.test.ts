import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.ts';
import { createCompositeKeyWrapper } from './composite-key-wrapper.ts';
import { createLocalKeyWrapper } from './key-wrapper.ts';
import { createKmsKeyWrapper, type KmsApi } from './kms-key-wrapper.ts';

/** Enough of KMS for dispatching: the "ciphertext" is the key id, the context and the plaintext. */
const echoKms: KmsApi = {
  async encrypt(i) {
    return { CiphertextBlob: Buffer.from(JSON.stringify([i.KeyId, i.EncryptionContext, Buffer.from(i.Plaintext).toString('base64')])) };
  },
  async decrypt(i) {
    const [keyId, ctx, p] = JSON.parse(Buffer.from(i.CiphertextBlob).toString()) as [string, unknown, string];
    if (keyId !== i.KeyId || JSON.stringify(ctx) !== JSON.stringify(i.EncryptionContext))
      throw Object.assign(new Error('no'), { name: 'InvalidCiphertextException' });
    return { Plaintext: Buffer.from(p, 'base64') };
  },
};
const ARN = 'arn:aws:kms:eu-west-1:123456789012:key/0e5d8f3c-1111-4a4a-9b9b-123456789abc';

describe('composite key wrapper', () => {
  const local = createLocalKeyWrapper(new Map([[1, randomBytes(32)]]), 1);
  const kms = createKmsKeyWrapper(echoKms, new Map([[1, ARN]]), 1);
  const dataKey = randomBytes(32);

  it('wraps with the chosen wrapper and unwraps either by the stored prefix, though both versions are 1', async () => {
    const toKms = createCompositeKeyWrapper({ local, kms, wrapWith: 'kms' });
    expect([toKms.currentVersion, toKms.currentScheme]).toEqual([1, 'kms:1:']);
    const byLocal = await local.wrap(dataKey, 'tenant-key:ten_a');
    const byKms = await toKms.wrap(dataKey, 'tenant-key:ten_a');
    expect(byKms.wrapped).toMatch(/^kms:1:/);
    expect((await toKms.unwrap(1, byLocal.wrapped, 'tenant-key:ten_a')).equals(dataKey)).toBe(true);
    expect((await toKms.unwrap(1, byKms.wrapped, 'tenant-key:ten_a')).equals(dataKey)).toBe(true);
    const back = createCompositeKeyWrapper({ local, kms, wrapWith: 'master' });
    expect([back.currentVersion, back.currentScheme]).toEqual([1, 'enc:1:']);
    expect((await back.unwrap(1, byKms.wrapped, 'tenant-key:ten_a')).equals(dataKey)).toBe(true);
  });

  it('names the way back when a KMS-wrapped key meets a process without KMS', async () => {
    const byKms = await kms.wrap(dataKey, 'tenant-key:ten_a');
    const masterOnly = createCompositeKeyWrapper({ local, kms: null, wrapWith: 'master' });
    await expect(masterOnly.unwrap(1, byKms.wrapped, 'tenant-key:ten_a')).rejects.toThrow(
      /wrapped by AWS KMS \(key version 1\) and TRAMLINE_KMS_KEYS is not set.*TRAMLINE_KEY_WRAPPER=master/,
    );
    expect(() => createCompositeKeyWrapper({ local: null, kms: null, wrapWith: 'kms' })).toThrow(/TRAMLINE_KMS_KEYS/);
  });

  it('a KMS failure other than a refused ciphertext is UNAVAILABLE (503), named but without the key', async () => {
    const down = createKmsKeyWrapper(
      {
        encrypt: () => Promise.reject(Object.assign(new Error(`denied on ${ARN}`), { name: 'AccessDeniedException' })),
        decrypt: echoKms.decrypt,
      },
      new Map([[1, ARN]]),
      1,
    );
    const err = (await down.wrap(dataKey, 'c').then(
      () => null,
      (e: unknown) => e,
    )) as Error & { code?: string };
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/AWS KMS Encrypt with key version 1 failed \(AccessDeniedException\)/);
    expect(err.message).not.toContain(ARN);
  });
});

describe('key settings', () => {
  const base = { TRAMLINE_MASTER_KEY: randomBytes(32).toString('base64') };
  it('TRAMLINE_KMS_KEYS selects KMS for new keys; TRAMLINE_KEY_WRAPPER=master goes back; AWS_REGION stays optional for KMS', () => {
    expect(loadConfig(base).kms).toBeUndefined();
    expect(loadConfig(base).backup.s3.region).toBe('us-east-1');
    const c = loadConfig({ ...base, TRAMLINE_KMS_KEYS: `2:${ARN},1:alias/old`, TRAMLINE_KMS_ENDPOINT: 'http://127.0.0.1:4566' });
    expect(c.kms).toEqual({
      keys: new Map([
        [2, ARN],
        [1, 'alias/old'],
      ]),
      current: 2,
      wrapNewKeys: true,
      region: undefined,
      endpoint: 'http://127.0.0.1:4566',
    });
    expect(loadConfig({ ...base, TRAMLINE_KMS_KEYS: ARN, TRAMLINE_KEY_WRAPPER: 'master', AWS_REGION: 'eu-west-1' }).kms).toMatchObject({
      wrapNewKeys: false,
      region: 'eu-west-1',
    });
  });

  it('refuses a malformed key list, and kms without keys, naming the setting', () => {
    expect(() => loadConfig({ ...base, TRAMLINE_KMS_KEYS: 'my-key' })).toThrow(/TRAMLINE_KMS_KEYS: each entry must be/);
    expect(() => loadConfig({ ...base, TRAMLINE_KEY_WRAPPER: 'kms' })).toThrow(/TRAMLINE_KEY_WRAPPER: kms needs TRAMLINE_KMS_KEYS/);
    expect(() => loadConfig({ ...base, TRAMLINE_KEY_WRAPPER: 'vault' })).toThrow(/TRAMLINE_KEY_WRAPPER/);
  });
});
