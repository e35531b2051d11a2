import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import { listTenantRetention, removeExpired, type Removed } from '../store/retention.ts';
import type { RetentionMetrics } from '../telemetry/retention-metrics.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Batches per tenant per run: a tenant with a huge backlog is finished over several runs, never starving the others. */
const MAX_BATCHES_PER_TENANT = 100;

export interface RetentionRun extends Removed {
  tenants: number;
  durationMs: number;
}

/**
 * One retention pass: for every tenant, remove what was created before now − its retention (or the operator's
 * default), in batches of `batch` messages, each batch its own short transaction under the tenant's role.
 * `now` is passed in, so a test (or an operator's dry reasoning) controls the window.
 */
export async function runRetention(
  o: { db: Db; defaultDays: number; batch: number; metrics?: RetentionMetrics | undefined },
  now: Date,
): Promise<RetentionRun> {
  const started = performance.now();
  const total: Removed = { messages: 0, deliveries: 0, attempts: 0 };
  const tenants = await o.db.system((q) => listTenantRetention(q));
  for (const t of tenants) {
    const cutoff = new Date(now.getTime() - (t.days ?? o.defaultDays) * DAY_MS);
    for (let i = 0; i < MAX_BATCHES_PER_TENANT; i++) {
      const r = await o.db.tenant(t.id, (q) => removeExpired(q, cutoff, o.batch));
      total.messages += r.messages;
      total.deliveries += r.deliveries;
      total.attempts += r.attempts;
      if (r.messages < o.batch) break;
    }
  }
  const durationMs = performance.now() - started;
  o.metrics?.run(total, durationMs / 1000, Date.now() / 1000);
  return { ...total, tenants: tenants.length, durationMs };
}

/** Runs retention every `intervalMs` (first run after one interval); a run still going is never doubled. */
export function startRetention(o: {
  db: Db;
  log: Logger;
  clock: () => Date;
  defaultDays: number;
  batch: number;
  intervalMs: number;
  metrics?: RetentionMetrics | undefined;
}): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    runRetention(o, o.clock())
      .then((r) => {
        if (r.messages > 0) o.log.info({ retention: r }, 'retention: old messages removed');
      })
      .catch((err: unknown) => o.log.error({ err }, 'retention run failed'))
      .finally(() => {
        running = false;
      });
  }, o.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
