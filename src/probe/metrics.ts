// The probe's results as Prometheus metrics, in a registry of its own (never the gateway's).
import { Counter, Gauge, Histogram, Pushgateway, Registry } from 'prom-client';
import type { ProbeResult } from './run.ts';
import { STEPS } from './step.ts';

/** The gateway's delivery latency buckets (metrics contract), so the two histograms compare bucket for bucket. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export interface ProbeMetrics {
  readonly registry: Registry;
  record(result: ProbeResult, nowMs: number): void;
  /** Sends the registry to a Pushgateway (POST: replaces only the metrics pushed, so the last success survives a failed run). */
  push(url: string, instance: string): Promise<void>;
}

export function createProbeMetrics(): ProbeMetrics {
  const registry = new Registry();
  const registers = [registry];
  const success = new Gauge({
    name: 'tramline_probe_success',
    help: 'Whether each step of the last probe run passed (1) or failed (0); absent for a step that did not run (see tramline_probe_skipped)',
    labelNames: ['step'],
    registers,
  });
  const skippedStep = new Gauge({
    name: 'tramline_probe_skipped',
    help: 'Steps that did not run in the last probe run (1): an earlier step failed, or a tool is missing (Chromium for the browser step)',
    labelNames: ['step'],
    registers,
  });
  const duration = new Gauge({
    name: 'tramline_probe_duration_seconds',
    help: 'How long each step of the last probe run took (absent for a step that did not run)',
    labelNames: ['step'],
    registers,
  });
  const lastLatency = new Gauge({
    name: 'tramline_probe_publish_to_delivered_seconds',
    help: 'Last probe run: from sending the publish request to the signed delivery arriving at the probe',
    registers,
  });
  const latency = new Histogram({
    name: 'tramline_probe_delivery_latency_seconds',
    help: 'Probe runs: from sending the publish request to the signed delivery arriving at the probe',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const runs = new Counter({
    name: 'tramline_probe_runs_total',
    help: 'Probe runs by result (success: no step failed)',
    labelNames: ['result'],
    registers,
  });
  const lastRun = new Gauge({
    name: 'tramline_probe_last_run_timestamp_seconds',
    help: 'When the last probe run finished (unix seconds)',
    registers,
  });
  // Registered at the first success only: an unlabelled gauge would otherwise read 0 ("never"), and in
  // push mode a failed run would overwrite the last real success.
  const LAST_SUCCESS = 'tramline_probe_last_success_timestamp_seconds';
  const lastSuccess = new Gauge({
    name: LAST_SUCCESS,
    help: 'When a probe run last succeeded (unix seconds)',
    registers: [],
  });
  for (const r of ['success', 'failure']) runs.inc({ result: r }, 0);

  return {
    registry,
    record(result, nowMs) {
      for (const step of STEPS) {
        const s = result.steps[step];
        skippedStep.set({ step }, s.status === 'skipped' ? 1 : 0);
        if (s.status === 'skipped') {
          success.remove({ step });
          duration.remove({ step });
        } else {
          success.set({ step }, s.status === 'ok' ? 1 : 0);
          duration.set({ step }, s.seconds);
        }
      }
      if (result.publishToDeliveredSeconds !== null) {
        lastLatency.set(result.publishToDeliveredSeconds);
        latency.observe(result.publishToDeliveredSeconds);
      }
      runs.inc({ result: result.ok ? 'success' : 'failure' });
      lastRun.set(nowMs / 1000);
      if (result.ok) {
        if (!registry.getSingleMetric(LAST_SUCCESS)) registry.registerMetric(lastSuccess);
        lastSuccess.set(nowMs / 1000);
      }
    },
    async push(url, instance) {
      await new Pushgateway(url, { timeout: 10_000 }, registry).pushAdd({ jobName: 'tramline_probe', groupings: { instance } });
    },
  };
}
