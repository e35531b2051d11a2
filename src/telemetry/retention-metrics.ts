import { Counter, Gauge, type Registry } from 'prom-client';
import type { Removed } from '../store/retention.ts';

/** The figures of the retention cleanup (scheduler role), registered on the gateway's registry. */
export interface RetentionMetrics {
  run(removed: Removed, durationSeconds: number, endedAtSeconds: number): void;
}

export function createRetentionMetrics(registry: Registry): RetentionMetrics {
  const removedRows = new Counter({
    name: 'tramline_retention_removed_total',
    help: 'Rows removed by the retention cleanup, by table (messages, deliveries, attempts).',
    labelNames: ['table'],
    registers: [registry],
  });
  for (const t of ['messages', 'deliveries', 'attempts']) removedRows.labels(t).inc(0);
  const runs = new Counter({ name: 'tramline_retention_runs_total', help: 'Retention cleanup runs completed.', registers: [registry] });
  const lastDuration = new Gauge({
    name: 'tramline_retention_last_run_duration_seconds',
    help: 'How long the last retention cleanup run took.',
    registers: [registry],
  });
  const lastEnd = new Gauge({
    name: 'tramline_retention_last_run_timestamp_seconds',
    help: 'When the last retention cleanup run ended (unix seconds): alert when it is old.',
    registers: [registry],
  });
  return {
    run(removed, durationSeconds, endedAtSeconds) {
      removedRows.labels('messages').inc(removed.messages);
      removedRows.labels('deliveries').inc(removed.deliveries);
      removedRows.labels('attempts').inc(removed.attempts);
      runs.inc();
      lastDuration.set(durationSeconds);
      lastEnd.set(endedAtSeconds);
    },
  };
}
