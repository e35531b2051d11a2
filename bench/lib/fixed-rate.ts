import { openLoop, type LoadResult, type PublishTarget } from './load.ts';
import type { Receiver } from './receiver.ts';
import { sleep, slope, summarize, type Summary } from './stats.ts';
import { LatencyTracker } from './tracker.ts';
import { cpuSeconds } from './cpu.ts';

export interface StepResult {
  rate: number;
  load: LoadResult;
  publish: Summary;
  e2e: Summary;
  published: number;
  /** Deliveries of this step's messages seen by drainMs after the last publish. */
  delivered: number;
  /** Publishes accepted within the step, per second. */
  achievedRate: number;
  /** Growth of (published − delivered) over the second half of the step, events per second. */
  backlogGrowthPerSec: number;
  sustained: boolean;
  /** CPU of the load generator (this process) and of the receiver process during the step, in % of one core. */
  loadGeneratorCpuPct: number;
  receiverCpuPct: number;
}

/**
 * One step of a fixed offered rate: open-loop publishing for durationMs, then up to drainMs for the
 * deliveries to catch up. Sustained = the publisher achieved ≥ 98 % of the rate, ≥ 98 % of what was
 * published arrived by drainMs after the step, and the backlog did not grow (≤ 2 % of the rate, or 10,
 * per second over the second half of the step: at low rates 2 % is within the sampling noise).
 */
export async function fixedRateStep(
  target: PublishTarget,
  receiver: Receiver,
  o: { rate: number; durationMs: number; drainMs?: number; ignorePath?: (path: string) => boolean; connections?: number },
): Promise<StepResult> {
  const tracker = new LatencyTracker(o.ignorePath);
  receiver.onArrivals(tracker.onArrivals);
  const samples: { x: number; y: number }[] = [];
  const t0 = performance.now();
  const selfCpu0 = cpuSeconds(process.pid) ?? 0;
  const receiverCpu0 = cpuSeconds(receiver.pid) ?? 0;
  const sampler = setInterval(() => samples.push({ x: (performance.now() - t0) / 1000, y: tracker.backlog }), 250);
  const load = await openLoop(target, {
    rate: o.rate,
    durationMs: o.durationMs,
    connections: o.connections,
    onAccepted: tracker.onAccepted,
  });
  clearInterval(sampler);
  const stepSeconds = (performance.now() - t0) / 1000;
  const pct = (cpu: number | null, cpu0: number): number => Math.round((((cpu ?? cpu0) - cpu0) / stepSeconds) * 100);
  const loadGeneratorCpuPct = pct(cpuSeconds(process.pid), selfCpu0);
  const receiverCpuPct = pct(cpuSeconds(receiver.pid), receiverCpu0);
  const deadline = performance.now() + (o.drainMs ?? 2000);
  while (tracker.backlog > 0 && performance.now() < deadline) await sleep(25);
  const secondHalf = samples.filter((s) => s.x >= o.durationMs / 2000);
  const achievedRate = load.acceptedInWindow / (o.durationMs / 1000);
  const backlogGrowthPerSec = slope(secondHalf);
  const sustained =
    achievedRate >= 0.98 * o.rate && tracker.delivered >= 0.98 * tracker.published && backlogGrowthPerSec <= Math.max(0.02 * o.rate, 10);
  return {
    rate: o.rate,
    load,
    publish: summarize(load.latencies),
    e2e: summarize(tracker.latencies),
    published: tracker.published,
    delivered: tracker.delivered,
    achievedRate: Math.round(achievedRate),
    backlogGrowthPerSec: Math.round(backlogGrowthPerSec),
    sustained,
    loadGeneratorCpuPct,
    receiverCpuPct,
  };
}

/** Waits until the receiver has seen nothing new for quietMs (or timeoutMs passed): the previous step's stragglers. */
export async function settle(receiver: Receiver, quietMs = 500, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = receiver.delivered;
  let since = performance.now();
  while (performance.now() < deadline) {
    await sleep(100);
    if (receiver.delivered !== last) {
      last = receiver.delivered;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) return;
  }
}

/**
 * A short unmeasured run first, so the measured steps do not include the gateway's JIT warm-up, the
 * first connections of each pool and the first prepared statements.
 */
export async function warmUp(target: PublishTarget, receiver: Receiver, o: { rate: number; durationMs: number }): Promise<void> {
  if (o.durationMs <= 0) return;
  await fixedRateStep(target, receiver, { rate: o.rate, durationMs: o.durationMs, drainMs: 5000 });
  receiver.onArrivals(null);
  await settle(receiver);
}
