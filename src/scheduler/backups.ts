import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { runScheduledBackup } from '../domain/backup/schedule.ts';
import type { Db } from '../store/db.ts';
import { openBackupStorage } from '../domain/backup/storage/open.ts';
import { VERSION } from '../boot/version.ts';

export interface BackupScheduler {
  /** Stops the timer and waits for a backup in progress to finish. */
  stop(): Promise<void>;
}

/**
 * The scheduler role's backups (TRAMLINE_BACKUP_DEST set): checks every minute, or every interval
 * when shorter, whether one is due; see runScheduledBackup for the fleet-wide lock and retention.
 * On the embedded database a backup's transaction holds the one connection while it runs, so the
 * gateway's other work waits for it.
 */
export function startBackupScheduler(config: Config, db: Db, log: Logger): BackupScheduler | null {
  const dest = config.backup.dest;
  if (!dest) return null;
  const storage = openBackupStorage(dest, config.backup.s3);
  const tickMs = Math.min(config.backup.intervalMs, 60_000);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = async (): Promise<void> => {
    const started = Date.now();
    try {
      const r = await runScheduledBackup({
        db,
        storage,
        clock: () => new Date(),
        intervalMs: config.backup.intervalMs,
        keep: config.backup.keep,
        tramlineVersion: VERSION,
      });
      if (r.taken) log.info({ backup: `${storage.location}/${r.taken}`, ms: Date.now() - started, deleted: r.deleted }, 'backup taken');
    } catch (err) {
      log.error({ err, dest: storage.location }, 'scheduled backup failed');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, tickMs);
    timer.unref();
  };
  running = tick().finally(schedule);
  log.info({ dest: storage.location, intervalMs: config.backup.intervalMs, keep: config.backup.keep }, 'scheduled backups on');
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
