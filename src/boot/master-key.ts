import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import { secureDataDir } from '../store/data-dir.ts';
import { formatMasterKeys, newMasterKey, parseMasterKeys } from '../domain/secrets/key-wrapper.ts';

/**
 * Where the master keys come from: TRAMLINE_MASTER_KEY, or, for the embedded default only, a
 * file generated in the data folder on first start (mode 0600). A fleet on a Postgres server must
 * be given the key: processes that each generated their own could not read each other's secrets.
 */
export const masterKeyFile = (dataDir: string): string => path.join(dataDir, 'master-key');

export function loadMasterKeys(config: Config): { keys: Map<number, Buffer>; current: number } {
  if (config.masterKey) return config.masterKey;
  if (config.databaseUrl) {
    throw new ConfigError(
      'Invalid configuration:\n  TRAMLINE_MASTER_KEY: required with DATABASE_URL (every process of a fleet needs the same key); ' +
        'create one with `tramline keys generate`',
    );
  }
  const file = masterKeyFile(config.dataDir);
  if (!fs.existsSync(file)) {
    secureDataDir(config.dataDir);
    fs.writeFileSync(file, `${formatMasterKeys(new Map([[1, newMasterKey()]]), 1)}\n`, { mode: 0o600, flag: 'wx' });
  }
  return parseMasterKeys(fs.readFileSync(file, 'utf8').trim());
}

/** Embedded default: adds a new current version to the data folder's key file and returns it. */
export function addMasterKeyVersion(dataDir: string): { keys: Map<number, Buffer>; current: number } {
  const file = masterKeyFile(dataDir);
  const { keys } = parseMasterKeys(fs.readFileSync(file, 'utf8').trim());
  const current = Math.max(...keys.keys()) + 1;
  keys.set(current, newMasterKey());
  fs.writeFileSync(`${file}.tmp`, `${formatMasterKeys(keys, current)}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file); // atomic: a crash leaves the old file or the new one
  return { keys, current };
}
