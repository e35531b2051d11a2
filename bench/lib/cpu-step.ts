import { costPerMillion, measureCpu, type BenchContext } from './context.ts';
import { fixedRateStep, settle } from './fixed-rate.ts';
import type { PublishTarget } from './load.ts';
import { ms } from './stats.ts';

export interface CpuStep {
  row: Record<string, string | number>;
  /** `<name>@<label>`: CPU-s per million delivered, the pipeline's processes and Postgres apart and together. */
  figures: Record<string, number>;
}

/**
 * One fixed-rate step with the CPU of the pipeline's processes (the gateway's, or the relay's) and of its Postgres
 * backends, each per million delivered: the same accounting at 1,000/s and at the maximum, for Tramline and the relay
 * alike, so the cost per event can be read beside the relay's where it matters (issue 12).
 */
export async function cpuStep(
  ctx: BenchContext,
  target: PublishTarget,
  o: { rate: number; label: string; pids: () => number[]; db: { backendPids(): Promise<number[]> } },
): Promise<CpuStep> {
  await settle(ctx.receiver, 500, ctx.smoke ? 10_000 : 60_000);
  ctx.log(`${o.rate}/s for CPU accounting (${o.label})`);
  const cpu = await measureCpu(o.pids, o.db);
  const step = await fixedRateStep(target, ctx.receiver, { rate: o.rate, durationMs: ctx.smoke ? 2000 : 10_000, drainMs: 5000 });
  const usage = await cpu.stop();
  const proc = costPerMillion(ctx, usage.gatewayCpuS, step.delivered).cpuSPerMillion;
  const pg = costPerMillion(ctx, usage.postgresCpuS, step.delivered).cpuSPerMillion;
  const all = costPerMillion(ctx, usage.gatewayCpuS + usage.postgresCpuS, step.delivered).cpuSPerMillion;
  return {
    row: {
      'offered/s': `${o.rate} (CPU, ${o.label})`,
      'achieved/s': step.achievedRate,
      published: step.published,
      delivered: step.delivered,
      'publish p99': ms(step.publish.p99),
      'e2e p50': ms(step.e2e.p50),
      'e2e p99': ms(step.e2e.p99),
      'process CPU-s/M': proc,
      'pg CPU-s/M': pg,
      'CPU-s/M (process+pg)': all,
    },
    figures: {
      [`rate@${o.label}`]: o.rate,
      [`processCpuSPerMillion@${o.label}`]: proc,
      [`postgresCpuSPerMillion@${o.label}`]: pg,
      [`cpuSPerMillion@${o.label}`]: all,
      [`e2eP99Ms@${o.label}`]: ms(step.e2e.p99),
    },
  };
}

/** The rate to account CPU at "the maximum": the highest sustained, or (none held, a busy smoke run) the highest achieved. */
export function maxRate(r: { maxSustained: number; highestAchieved: number }): number {
  return Math.max(1, Math.round(r.maxSustained > 0 ? r.maxSustained : r.highestAchieved));
}
