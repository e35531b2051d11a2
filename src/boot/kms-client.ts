import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { KmsApi } from '../domain/secrets/kms-key-wrapper.ts';

/**
 * KmsApi over `@aws-sdk/client-kms`. This module is imported (dynamically) only when TRAMLINE_KMS_KEYS
 * is set, so the default start never loads the SDK. A key ARN names its region and KMS answers for a
 * key only in that region, so there is one client per region: the ARN's, else `region` (unset: the
 * SDK's chain). Credentials come from the SDK's chain (pod or instance role, profile, environment).
 */
export function sdkKmsApi(opts: { region: string | undefined; endpoint: string | undefined }): KmsApi {
  const clients = new Map<string, KMSClient>();
  const clientFor = (keyId: string): KMSClient => {
    const region = /^arn:[\w-]+:kms:([\w-]+):/.exec(keyId)?.[1] ?? opts.region;
    const name = region ?? '';
    let c = clients.get(name);
    if (!c) {
      c = new KMSClient({
        ...(region ? { region } : {}),
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        // A KMS that does not answer must not hold a request (or the start) for minutes: 3 tries of 5 s at most.
        maxAttempts: 3,
        requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
      });
      clients.set(name, c);
    }
    return c;
  };
  return {
    encrypt: (i) => clientFor(i.KeyId).send(new EncryptCommand(i)),
    decrypt: (i) => clientFor(i.KeyId).send(new DecryptCommand(i)),
  };
}
