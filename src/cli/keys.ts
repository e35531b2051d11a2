import type { Config } from '../config.ts';
import { createLocalKeyWrapper, formatMasterKeys, newMasterKey } from '../domain/secrets/key-wrapper.ts';
import { createTenantCipher } from '../domain/secrets/tenant-cipher.ts';
import { addMasterKeyVersion, loadMasterKeys } from '../master-key.ts';
import { openStore } from '../store/open.ts';

/** Prints a new master key entry for TRAMLINE_MASTER_KEY. */
export function runKeysGenerate(version: number): void {
  process.stdout.write(`${formatMasterKeys(new Map([[version, newMasterKey()]]), version)}\n`);
}

/**
 * Rewraps every tenant's data key with the current master key version. With TRAMLINE_MASTER_KEY,
 * list the new version first and keep the old one until this has run on the fleet's database;
 * deliveries go on meanwhile, as every process can unwrap both. The embedded default adds a new
 * version to its key file itself (the gateway must be stopped: its data folder is locked).
 */
export async function runKeysRotate(config: Config): Promise<void> {
  const { db, release } = await openStore(config);
  try {
    const { keys, current } = config.masterKey || config.databaseUrl ? loadMasterKeys(config) : addMasterKeyVersion(config.dataDir);
    const n = await createTenantCipher(db, createLocalKeyWrapper(keys, current)).rewrapAll();
    const older = [...keys.keys()].filter((v) => v !== current);
    process.stdout.write(
      `Rewrapped ${n} tenant data key(s) with master key version ${current}.` +
        (older.length > 0 ? ` Version(s) ${older.join(', ')} no longer protect anything and can be removed.\n` : '\n'),
    );
  } finally {
    await db.close();
    release();
  }
}
