import { describe, expect, it } from 'vitest';
import { createProbeMetrics } from './metrics.ts';
import type { ProbeResult } from './run.ts';
import { skipped, STEPS, type StepName, type StepResult } from './step.ts';

function result(overrides: Partial<Record<StepName, StepResult>>, latency: number | null): ProbeResult {
  const steps = Object.fromEntries(STEPS.map((n) => [n, { status: 'ok', seconds: 0.01 }])) as Record<StepName, StepResult>;
  Object.assign(steps, overrides);
  const failed = STEPS.find((n) => steps[n].status === 'failed') ?? null;
  return {
    ok: failed === null,
    failedStep: failed,
    error: failed ? 'x' : null,
    startedAt: '2026-11-26T00:00:00.000Z',
    marker: 'probe_x',
    messageId: 'msg_x',
    endpointId: 'ep_x',
    setupChanges: [],
    publishSeconds: 0.01,
    publishToDeliveredSeconds: latency,
    steps,
  };
}

describe('probe metrics', () => {
  it('has no success series for a skipped step, marks it skipped, and counts runs', async () => {
    const m = createProbeMetrics();
    m.record(result({ browser: skipped('no Chromium') }, 0.03), 1_000_000);
    const text = await m.registry.metrics();
    expect(text).toContain('tramline_probe_success{step="deliver"} 1');
    expect(text).not.toContain('tramline_probe_success{step="browser"}');
    expect(text).toContain('tramline_probe_skipped{step="browser"} 1');
    expect(text).toContain('tramline_probe_publish_to_delivered_seconds 0.03');
    expect(text).toContain('tramline_probe_delivery_latency_seconds_bucket{le="0.05"} 1');
    expect(text).toContain('tramline_probe_runs_total{result="success"} 1');
    expect(text).toContain('tramline_probe_last_success_timestamp_seconds 1000');
  });

  it('has no last-success series before the first success, and keeps it through a later failure', async () => {
    const m = createProbeMetrics();
    const failing = result(
      {
        deliver: { status: 'failed', seconds: 30, detail: 'deliver: …' },
        signature: skipped('not reached'),
        readback: skipped('not reached'),
      },
      null,
    );
    m.record(failing, 1_000_000);
    let text = await m.registry.metrics();
    expect(text).not.toContain('tramline_probe_last_success_timestamp_seconds');
    expect(text).toContain('tramline_probe_success{step="deliver"} 0');
    expect(text).not.toContain('tramline_probe_success{step="signature"}');
    expect(text).toContain('tramline_probe_runs_total{result="failure"} 1');
    expect(text).toContain('tramline_probe_delivery_latency_seconds_count 0');

    m.record(result({}, 0.02), 2_000_000);
    m.record(failing, 3_000_000);
    text = await m.registry.metrics();
    expect(text).toContain('tramline_probe_last_success_timestamp_seconds 2000');
    expect(text).toContain('tramline_probe_last_run_timestamp_seconds 3000');
    expect(text).toContain('tramline_probe_success{step="deliver"} 0');
  });
});
