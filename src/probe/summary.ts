// How a probe run is shown: one JSON object (for machines), or a few aligned lines (for people).
import type { ProbeResult } from './run.ts';
import { STEPS } from './step.ts';

export const summaryJson = (r: ProbeResult): string => JSON.stringify(r);

const secs = (s: number | null): string => (s === null ? '-' : `${s.toFixed(3)}s`);

export function summaryText(r: ProbeResult): string {
  const lines = [
    `${r.ok ? 'probe OK' : `probe FAILED at ${r.failedStep}`}  ${r.startedAt}  message ${r.messageId ?? '-'}  marker ${r.marker}`,
  ];
  for (const step of STEPS) {
    const s = r.steps[step];
    const time = s.status === 'skipped' ? '' : secs(s.seconds);
    lines.push(`  ${step.padEnd(10)} ${s.status.padEnd(8)} ${time.padStart(8)}${s.detail ? `  ${s.detail}` : ''}`);
  }
  lines.push(`  publish latency ${secs(r.publishSeconds)}, publish→delivered ${secs(r.publishToDeliveredSeconds)}`);
  for (const c of r.setupChanges) lines.push(`  setup: ${c}`);
  return lines.join('\n');
}
