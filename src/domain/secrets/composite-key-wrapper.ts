import { KMS_PREFIX } from './kms-key-wrapper.ts';
import type { KeyWrapper } from './key-wrapper.ts';

/**
 * The master keys and AWS KMS side by side, so a fleet moves its tenant data keys from one to the
 * other with `tramline keys rotate` while every process keeps reading both. A stored wrapped key says
 * which wrapped it by its prefix (`kms:1:` or `enc:1:`); versions are numbered per wrapper, so master
 * key version 1 and KMS key version 1 are different keys. New keys are wrapped by `wrapWith`.
 */
export function createCompositeKeyWrapper(parts: {
  local: KeyWrapper | null;
  kms: KeyWrapper | null;
  wrapWith: 'kms' | 'master';
}): KeyWrapper {
  const { local, kms } = parts;
  const writer = parts.wrapWith === 'kms' ? kms : local;
  if (!writer) throw new Error(`no ${parts.wrapWith === 'kms' ? 'KMS key (TRAMLINE_KMS_KEYS)' : 'master key'} to wrap new data keys with`);
  return {
    currentVersion: writer.currentVersion,
    currentScheme: writer.currentScheme,
    wrap: (dataKey, context) => writer.wrap(dataKey, context),
    async unwrap(version, wrapped, context) {
      if (wrapped.startsWith(KMS_PREFIX)) {
        if (!kms) {
          throw new Error(
            `${context}: the data key is wrapped by AWS KMS (key version ${version}) and TRAMLINE_KMS_KEYS is not set. ` +
              'To move back to the master key, keep TRAMLINE_KMS_KEYS, set TRAMLINE_KEY_WRAPPER=master and run `tramline keys rotate`; then remove TRAMLINE_KMS_KEYS.',
          );
        }
        return kms.unwrap(version, wrapped, context);
      }
      if (!local) throw new Error(`${context}: the data key is wrapped by master key version ${version}, and no master key is configured`);
      return local.unwrap(version, wrapped, context);
    },
  };
}
