import { z } from 'zod';
import { parseMasterKeys } from './domain/secrets/key-wrapper.ts';
import { parseKmsKeys } from './domain/secrets/kms-key-wrapper.ts';

/**
 * The settings of secrets at rest (part of config.ts' schema, kept here to keep that file small): the
 * master keys, and AWS KMS keys that can take over wrapping the tenants' data keys (docs/security.md).
 */
export const KEY_SETTINGS = {
  TRAMLINE_MASTER_KEY: z
    .string()
    .optional()
    .describe(
      'Master key(s) for secrets at rest: `[<version>:]<base64 of 32 bytes>`, comma-separated, current first (`tramline keys generate`). Required with DATABASE_URL, with or without KMS (it also keys portal links, and unwraps data keys not yet moved to KMS); unset with the embedded database: generated into the data folder.',
    ),
  TRAMLINE_KMS_KEYS: z
    .string()
    .optional()
    .describe(
      'AWS KMS keys that wrap new tenant data keys instead of the master key: `[<version>:]<key ARN, alias/… or key id>`, comma-separated, current first (several while moving from one KMS key to another). Then `tramline keys rotate` moves existing data keys to KMS. Credentials come from the AWS SDK chain (pod or instance role); the start fails, naming the key, when KMS cannot wrap and unwrap with it.',
    ),
  TRAMLINE_KEY_WRAPPER: z
    .enum(['kms', 'master'])
    .optional()
    .describe(
      'What wraps new tenant data keys: `kms` (the default when TRAMLINE_KMS_KEYS is set) or `master` (the default otherwise). `master` with TRAMLINE_KMS_KEYS still set moves keys back from KMS at the next `tramline keys rotate`.',
    ),
  TRAMLINE_KMS_ENDPOINT: z
    .url()
    .optional()
    .describe('Another KMS endpoint (a VPC endpoint, LocalStack); unset: the region’s AWS endpoint.'),
};

const KeySchema = z.object(KEY_SETTINGS);

export interface KmsSettings {
  /** Key ids by version; the current one wraps new data keys when `wrapNewKeys`. */
  readonly keys: ReadonlyMap<number, string>;
  readonly current: number;
  readonly wrapNewKeys: boolean;
  /** For keys given as alias or key id (an ARN names its own region); unset: the SDK's chain. */
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
}

/** Parsed key settings, or the offending setting's name with the reason. */
export function parseKeySettings(
  e: z.infer<typeof KeySchema> & { AWS_REGION?: string | undefined },
): { masterKey: { keys: Map<number, Buffer>; current: number } | undefined; kms: KmsSettings | undefined } | { error: string } {
  let masterKey: { keys: Map<number, Buffer>; current: number } | undefined;
  try {
    masterKey = e.TRAMLINE_MASTER_KEY ? parseMasterKeys(e.TRAMLINE_MASTER_KEY) : undefined;
  } catch (err) {
    return { error: `TRAMLINE_MASTER_KEY: ${(err as Error).message}` };
  }
  if (!e.TRAMLINE_KMS_KEYS) {
    if (e.TRAMLINE_KEY_WRAPPER === 'kms') return { error: 'TRAMLINE_KEY_WRAPPER: kms needs TRAMLINE_KMS_KEYS' };
    return { masterKey, kms: undefined };
  }
  try {
    const { keys, current } = parseKmsKeys(e.TRAMLINE_KMS_KEYS);
    return {
      masterKey,
      kms: { keys, current, wrapNewKeys: e.TRAMLINE_KEY_WRAPPER !== 'master', region: e.AWS_REGION, endpoint: e.TRAMLINE_KMS_ENDPOINT },
    };
  } catch (err) {
    return { error: `TRAMLINE_KMS_KEYS: ${(err as Error).message}` };
  }
}
