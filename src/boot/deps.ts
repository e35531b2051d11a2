import type { Config } from '../config.ts';
import type { DomainDeps } from '../domain/deps.ts';
import { createTenantCipher } from '../domain/secrets/tenant-cipher.ts';
import { DataDirLockedError, type Db } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { openStore } from '../store/open.ts';
import type { Closers } from './closers.ts';
import { checkStoredKeys, type KeyUse, type MasterKeys, openKeyWrapper, probeKms } from './key-wrapper.ts';
import { loadMasterKeys } from './master-key.ts';

export { DataDirLockedError };
export type { Db, MasterKeys };

/** What every role of the gateway and every CLI command that touches the data builds on. */
export interface Deps extends DomainDeps {
  readonly config: Config;
  readonly masterKeys: MasterKeys;
  /** Migrations applied while opening (empty when there were none, or when opened without migrating). */
  readonly applied: readonly string[];
}

export interface OpenDbOptions {
  /** A database the caller opened and closes itself (tests: a migrated template); it is migrated, not closed. */
  db?: Db | undefined;
  /** Apply pending migrations (default). A backup reads the schema as it is and never changes it. */
  migrate?: boolean;
}

/**
 * The configured database (Postgres with DATABASE_URL, else the locked embedded data folder), migrated.
 * Its closers (the connection, then the data folder's lock) go on `closers`.
 */
export async function openDb(config: Config, closers: Closers, opts: OpenDbOptions = {}): Promise<{ db: Db; applied: string[] }> {
  if (opts.db) return { db: opts.db, applied: opts.migrate === false ? [] : await migrate(opts.db) };
  const { db, release, applied } = await openStore(config, { migrate: opts.migrate !== false });
  closers.push('data folder lock', release);
  closers.push('database', () => db.close());
  return { db, applied };
}

/**
 * The one dependency builder. The keys come first: a fleet without its master key, or whose KMS key
 * cannot be used, must not even open the database (and the embedded default generates its key on first start).
 */
export async function openDeps(
  config: Config,
  closers: Closers,
  opts: OpenDbOptions & { clock?: () => Date; keyUse?: KeyUse } = {},
): Promise<Deps> {
  const masterKeys = loadMasterKeys(config);
  const { wrapper, kms } = await openKeyWrapper(config, masterKeys);
  await probeKms(config, kms, opts.keyUse);
  const { db, applied } = await openDb(config, closers, opts);
  await checkStoredKeys(config, db, wrapper, opts.keyUse);
  return {
    config,
    db,
    applied,
    masterKeys,
    clock: opts.clock ?? (() => new Date()),
    egressAllow: config.egressAllow,
    cipher: createTenantCipher(db, wrapper),
  };
}
