import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import { createLeaseReaper } from '../delivery/lease-reaper.ts';
import { processReplays } from '../domain/replays.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export interface Scheduler {
  start(): void;
  stop(): void;
}

/**
 * Periodic housekeeping: hand deliveries whose lease expired (their worker died) back to the queue,
 * with the workers' own reaper, and move bulk replays on by a few batches. Idempotent (replay jobs
 * are locked while advanced), so several schedulers may run.
 */
export function createScheduler(o: { db: Db; log: Logger; intervalMs: number; metrics?: Metrics }): Scheduler {
  let timer: NodeJS.Timeout | undefined;
  const reap = createLeaseReaper(o);
  const tick = async (): Promise<void> => {
    try {
      await reap();
    } catch (err) {
      o.log.error({ err }, 'lease reaper failed');
    }
    try {
      await processReplays(o.db);
    } catch (err) {
      o.log.error({ err }, 'bulk replay batch failed');
    }
  };
  return {
    start() {
      timer = setInterval(() => void tick(), o.intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
