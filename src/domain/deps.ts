import type { Db } from '../store/db.ts';
import type { CidrList } from './egress-guard.ts';
import type { TenantCipher } from './secrets/tenant-cipher.ts';

/** What the use-cases need, passed in; the clock too, so tests control time. */
export interface DomainDeps {
  readonly db: Db;
  readonly clock: () => Date;
  readonly egressAllow: CidrList;
  /** Seals endpoint secrets and header values at rest. */
  readonly cipher: TenantCipher;
}
