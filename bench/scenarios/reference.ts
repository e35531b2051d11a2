import { costPerMillion, measureCpu, type Scenario } from '../lib/context.ts';
import { fixedRateStep, settle } from '../lib/fixed-rate.ts';
import { ms } from '../lib/stats.ts';
import { createDatabase } from '../lib/database.ts';
import type { PublishTarget } from '../lib/load.ts';
import { startRelay } from '../lib/relay-process.ts';
import { SAMPLE_PAYLOAD } from '../lib/api.ts';
import { searchMaxSustained } from '../lib/search.ts';

const TARGETS = 10;

/**
 * max-sustained against the bare reference relay (bench/reference/relay.ts) on Postgres, with the same
 * receiver and load generator, and the ratio Tramline / reference when max-sustained ran on Postgres
 * earlier in this invocation.
 */
export const run: Scenario = async (ctx) => {
  await ctx.receiver.reset();
  const db = await createDatabase('postgres', 'reference');
  const relay = await startRelay(db.url!, ctx.receiver.url).catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  try {
    const headers = { 'content-type': 'application/json' };
    const target: PublishTarget = {
      origin: relay.url,
      request: (i) => ({
        path: '/publish',
        headers,
        body: JSON.stringify({ target: `/r/${i % TARGETS}`, payload: { eventType: 'invoice.paid', ...SAMPLE_PAYLOAD } }),
      }),
    };
    const r = await searchMaxSustained(ctx, target, 'reference');
    const tramline = ctx.earlier.get('max-sustained.postgres')?.figures.maxSustained;
    const figures: Record<string, number> = { maxSustained: r.maxSustained, highestAchieved: r.highestAchieved };
    // The CPU the bare pipeline needs per event at the e2e scenario's 1,000/s, beside Tramline's.
    const cpuRate = ctx.smoke ? 100 : 1000;
    await settle(ctx.receiver, 500, ctx.smoke ? 10_000 : 60_000);
    ctx.log(`reference: ${cpuRate}/s for CPU accounting`);
    const cpu = await measureCpu(() => [relay.pid], db);
    const step = await fixedRateStep(target, ctx.receiver, { rate: cpuRate, durationMs: ctx.smoke ? 2000 : 10_000, drainMs: 5000 });
    const usage = await cpu.stop();
    const c = costPerMillion(ctx, usage.gatewayCpuS + usage.postgresCpuS, step.delivered);
    figures[`cpuSPerMillion@${cpuRate}`] = c.cpuSPerMillion;
    figures[`e2eP99Ms@${cpuRate}`] = ms(step.e2e.p99);
    if (tramline !== undefined && r.maxSustained > 0) figures.ratio = Math.round((tramline / r.maxSustained) * 100) / 100;
    return {
      scenario: 'reference',
      engine: 'reference',
      layout: 'one process (relay.ts)',
      rows: [
        ...r.rows,
        {
          'offered/s': `${cpuRate} (CPU)`,
          'achieved/s': step.achievedRate,
          published: step.published,
          delivered: step.delivered,
          'publish p99': ms(step.publish.p99),
          'e2e p50': ms(step.e2e.p50),
          'e2e p99': ms(step.e2e.p99),
          'relay CPU-s': usage.gatewayCpuS,
          'pg CPU-s': usage.postgresCpuS,
          'CPU-s/M (relay+pg)': c.cpuSPerMillion,
        },
      ],
      figures,
      notes: [
        'The least a durable relay can do: group-committed inserts into one table, SKIP LOCKED claims of 50, undici with keep-alive, batched completions; no auth, signing or tenants.',
        `Last row: a ${cpuRate}/s step with the CPU of the relay process and its Postgres backends, per million delivered (compare e2e's CPU-s/M).`,
        tramline === undefined
          ? 'No Tramline max-sustained on Postgres in this invocation: no ratio.'
          : `Tramline max-sustained (Postgres) ${tramline}/s ÷ reference ${r.maxSustained}/s = ${figures.ratio ?? 'n/a'}.`,
      ],
    };
  } finally {
    ctx.receiver.onArrivals(null);
    await relay.stop();
    await db.drop();
  }
};
