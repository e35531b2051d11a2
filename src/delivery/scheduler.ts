import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import { reapExpiredLeases } from '../store/queue.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export interface Scheduler {
  start(): void;
  stop(): void;
}

/**
 * Periodic housekeeping. For now: hand deliveries whose lease expired (their worker died)
 * back to the queue. Idempotent, so several schedulers may run; workers reap too.
 */
export function createScheduler(o: { db: Db; log: Logger; intervalMs: number; metrics?: Metrics }): Scheduler {
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      const n = await o.db.system((q) => reapExpiredLeases(q));
      o.metrics?.leasesExpired(n);
      if (n > 0) o.log.warn({ count: n }, 'took over deliveries whose lease expired');
    } catch (err) {
      o.log.error({ err }, 'lease reaper failed');
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
