import type { Config } from '../config.ts';
import { formatMasterKeys, newMasterKey } from '../domain/secrets/key-wrapper.ts';
import { createTenantCipher } from '../domain/secrets/tenant-cipher.ts';
import { withClosers } from '../boot/closers.ts';
import { type Db, openDb } from '../boot/deps.ts';
import { KeyWrapperError, openKeyWrapper, probeKms, reason } from '../boot/key-wrapper.ts';
import { addMasterKeyVersion, loadMasterKeys } from '../boot/master-key.ts';

/** Prints a new master key entry for TRAMLINE_MASTER_KEY. */
export function runKeysGenerate(version: number): void {
  process.stdout.write(`${formatMasterKeys(new Map([[version, newMasterKey()]]), version)}\n`);
}

/**
 * Rewraps every tenant's data key with the current version of what wraps new keys: the master key, or
 * AWS KMS with TRAMLINE_KMS_KEYS (docs/security.md). List the new version first (or set TRAMLINE_KMS_KEYS)
 * on every process, keep the old one until this has run on the fleet's database; deliveries go on
 * meanwhile, as every process can unwrap both. Without TRAMLINE_MASTER_KEY and KMS, the embedded default
 * adds a new version to its key file itself (the gateway must be stopped: its data folder is locked).
 */
export async function runKeysRotate(config: Config): Promise<void> {
  await withClosers(async (closers) => {
    // The database first: the embedded default adds a key version only once it holds the data folder.
    const { db } = await openDb(config, closers);
    process.stdout.write(`${await rotateKeys(config, db)}\n`);
  });
}

/** The rotation on an open database; returns what to tell the operator. */
export async function rotateKeys(config: Config, db: Db): Promise<string> {
  const toKms = config.kms?.wrapNewKeys === true;
  // Moving to KMS, a new master key version would protect nothing: the embedded key file stays as it is.
  const masterKeys = config.masterKey || config.databaseUrl || toKms ? loadMasterKeys(config) : addMasterKeyVersion(config.dataDir);
  const { wrapper, kms } = await openKeyWrapper(config, masterKeys);
  await probeKms(config, kms);
  let n: number;
  try {
    n = await createTenantCipher(db, wrapper).rewrapAll();
  } catch (err) {
    throw new KeyWrapperError(
      `${reason(err)}. Keys rewrapped before the failure stay rewrapped; run \`tramline keys rotate\` again to go on.`,
    );
  }
  if (toKms) {
    const older = [...config.kms!.keys.keys()].filter((v) => v !== wrapper.currentVersion);
    return (
      `Rewrapped ${n} tenant data key(s) with AWS KMS key version ${wrapper.currentVersion} (${config.kms!.keys.get(wrapper.currentVersion)}). ` +
      'No tenant data key depends on the master key any more (keep TRAMLINE_MASTER_KEY: it still keys portal links).' +
      (older.length > 0 ? ` KMS key version(s) ${older.join(', ')} no longer protect anything and can be removed.` : '')
    );
  }
  const older = [...masterKeys.keys.keys()].filter((v) => v !== masterKeys.current);
  return (
    `Rewrapped ${n} tenant data key(s) with master key version ${masterKeys.current}.` +
    (older.length > 0 ? ` Version(s) ${older.join(', ')} no longer protect anything and can be removed.` : '') +
    (config.kms ? ' No tenant data key is wrapped by AWS KMS any more: TRAMLINE_KMS_KEYS can be removed.' : '')
  );
}
