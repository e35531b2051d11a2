import type { BenchContext } from './context.ts';
import { fixedRateStep, settle, warmUp, type StepResult } from './fixed-rate.ts';
import type { PublishTarget } from './load.ts';
import { ms } from './stats.ts';

export interface SearchResult {
  maxSustained: number;
  /** The highest publish rate achieved in any step, sustained or not. */
  highestAchieved: number;
  steps: StepResult[];
  rows: Record<string, string | number>[];
}

/**
 * The highest fixed rate the pipeline sustains (see fixedRateStep): from `start`, ×1.4 per step while it
 * holds, then two bisections between the last rate that held and the first that did not. Smoke: two
 * short steps, no bisection. Between steps the previous step's backlog drains first.
 */
export async function searchMaxSustained(ctx: BenchContext, target: PublishTarget, label: string): Promise<SearchResult> {
  const durationMs = ctx.smoke ? 2000 : 10_000;
  const maxUp = ctx.smoke ? 2 : 12;
  const bisections = ctx.smoke ? 0 : 2;
  const steps: StepResult[] = [];
  let good = 0;
  let bad = Infinity;
  const step = async (rate: number): Promise<boolean> => {
    await settle(ctx.receiver, 500, ctx.smoke ? 10_000 : 60_000);
    ctx.log(`${label}: ${Math.round(rate)}/s for ${durationMs / 1000} s`);
    const s = await fixedRateStep(target, ctx.receiver, { rate: Math.round(rate), durationMs, drainMs: 2000 });
    steps.push(s);
    if (s.sustained) good = Math.max(good, s.rate);
    else bad = Math.min(bad, s.rate);
    return s.sustained;
  };
  let rate = ctx.smoke ? 100 : 1000;
  ctx.log(`${label}: warming up`);
  await warmUp(target, ctx.receiver, { rate: rate / 2, durationMs: ctx.smoke ? 0 : 5000 });
  for (let i = 0; i < maxUp; i++) {
    if (!(await step(rate))) break;
    rate *= 1.4;
  }
  // Even the first step failed: come down until one holds.
  while (good === 0 && rate > 20 && steps.length < maxUp + (ctx.smoke ? 1 : 6)) {
    rate /= 2;
    await step(rate);
  }
  for (let i = 0; i < bisections && Number.isFinite(bad) && good > 0; i++) await step((good + bad) / 2);
  const rows = steps.map((s) => ({
    'offered/s': s.rate,
    'achieved/s': s.achievedRate,
    published: s.published,
    delivered: s.delivered,
    'skipped sends': s.load.skipped,
    errors: s.load.errors,
    'backlog growth/s': s.backlogGrowthPerSec,
    'publish p99': ms(s.publish.p99),
    'e2e p50': ms(s.e2e.p50),
    'e2e p99': ms(s.e2e.p99),
    'loadgen CPU %': s.loadGeneratorCpuPct,
    'receiver CPU %': s.receiverCpuPct,
    sustained: s.sustained ? 'yes' : 'no',
  }));
  return { maxSustained: good, highestAchieved: Math.max(...steps.map((s) => s.achievedRate)), steps, rows };
}
