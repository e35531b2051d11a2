import type { Scenario } from '../lib/context.ts';
import { cpuStep, maxRate } from '../lib/cpu-step.ts';
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
    // The CPU the bare pipeline needs per event at the e2e scenario's 1,000/s and at its maximum, beside Tramline's.
    const cpuRate = ctx.smoke ? 100 : 1000;
    const relayDb = { pids: () => [relay.pid], db };
    const atRate = await cpuStep(ctx, target, { rate: cpuRate, label: String(cpuRate), ...relayDb });
    const atMax = await cpuStep(ctx, target, { rate: maxRate(r), label: 'max', ...relayDb });
    const figures: Record<string, number> = {
      maxSustained: r.maxSustained,
      highestAchieved: r.highestAchieved,
      ...atRate.figures,
      ...atMax.figures,
    };
    if (tramline !== undefined && r.maxSustained > 0) figures.ratio = Math.round((tramline / r.maxSustained) * 100) / 100;
    return {
      scenario: 'reference',
      engine: 'reference',
      layout: 'one process (relay.ts)',
      rows: [...r.rows, atRate.row, atMax.row],
      figures,
      notes: [
        'The least a durable relay can do: group-committed inserts into one table, SKIP LOCKED claims of 50, undici with keep-alive, batched completions; no auth, signing or tenants.',
        `Last rows: a ${cpuRate}/s step and a step at the maximum, with the CPU of the relay process and of its Postgres backends, apart, per million delivered (compare e2e's and max-sustained's).`,
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
