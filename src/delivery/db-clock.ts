import type { Db } from '../store/db.ts';
import { databaseTimeMs } from '../store/queue.ts';

/** How often the worker re-reads the database's clock. */
const SYNC_EVERY_MS = 10_000;

export interface DbClock {
  /** The local clock moved onto the database's: what the worker compares with, and writes beside, the database's times. */
  now(): number;
  /** Re-reads the database's clock when due (the first call always does). */
  sync(): Promise<void>;
}

/**
 * The database's clock, read on this host. Due times, leases and pauses live in the database, and its
 * `now()` decides them; a worker whose clock is off (the chaos suite's ±2 min) must not write a pause or a
 * failing-since of its own time beside them: an endpoint paused by a worker 2 min ahead stayed paused 2 min.
 * The offset is taken as the midpoint of the round trip, so its error is half of one.
 */
export function createDbClock(db: Db, local: () => number): DbClock {
  let offsetMs = 0;
  let lastSync = Number.NEGATIVE_INFINITY;
  return {
    now: () => local() + offsetMs,
    async sync() {
      const sent = local();
      if (sent - lastSync < SYNC_EVERY_MS) return;
      const dbMs = await db.system((q) => databaseTimeMs(q));
      const received = local();
      offsetMs = dbMs - (sent + received) / 2;
      lastSync = received;
    },
  };
}
