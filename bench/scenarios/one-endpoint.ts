import { SAMPLE_PAYLOAD, messageTarget } from '../lib/api.ts';
import { withGateway, type Scenario } from '../lib/context.ts';
import { createDatabase } from '../lib/database.ts';
import type { PublishTarget } from '../lib/load.ts';
import { startRelay } from '../lib/relay-process.ts';
import { cpuStep, maxRate, type CpuStep } from '../lib/cpu-step.ts';
import { searchMaxSustained, type SearchResult } from '../lib/search.ts';

/**
 * One busy customer, the common case (issue 12): one consumer, one endpoint, the whole load; and the bare
 * reference relay with one target, measured in the same invocation, for the ratio. The gateway runs with
 * its default configuration: a 429 here would be a default capping a tenant, and shows in `errors`.
 */
export const run: Scenario = async (ctx) => {
  const tramline = await withGateway(ctx, 'one', async ({ db, gw, api }) => {
    const consumer = await api.createConsumer('one');
    await api.createEndpoint(consumer, `${ctx.receiver.url}/s/0`);
    const target = messageTarget(api, () => ({ consumer }));
    const r = await searchMaxSustained(ctx, target, `one-endpoint (${ctx.engine})`);
    const cpu = await cpuStep(ctx, target, { rate: maxRate(r), label: 'max', pids: gw.pids, db });
    return { r, cpu, layout: gw.layout };
  });
  const relay = await relayOneTarget(ctx);
  const errors = tramline.r.steps.reduce((n, s) => n + s.load.errors, 0);
  const firstError = tramline.r.steps.find((s) => s.load.firstError)?.load.firstError ?? null;
  const ratio = relay.r.maxSustained > 0 ? Math.round((tramline.r.maxSustained / relay.r.maxSustained) * 100) / 100 : 0;
  return {
    scenario: 'one-endpoint',
    engine: ctx.engine,
    layout: tramline.layout,
    rows: [
      ...[...tramline.r.rows, tramline.cpu.row].map((row) => ({ pipeline: 'tramline', ...row })),
      ...[...relay.r.rows, relay.cpu.row].map((row) => ({ pipeline: 'reference', ...row })),
    ],
    figures: {
      maxSustained: tramline.r.maxSustained,
      highestAchieved: tramline.r.highestAchieved,
      referenceMaxSustained: relay.r.maxSustained,
      ratio,
      publishErrors: errors,
      ...tramline.cpu.figures,
      ...Object.fromEntries(Object.entries(relay.cpu.figures).map(([k, v]) => [`reference.${k}`, v])),
    },
    notes: [
      `One consumer, one endpoint: Tramline ${tramline.r.maxSustained}/s, the bare relay with one target ${relay.r.maxSustained}/s, ratio ${ratio} (target ≥ 0.75).`,
      'The last row of each: a step at its maximum with the CPU of the gateway (or relay) and of Postgres, apart, per million delivered.',
      errors === 0 ? 'No publish was refused (default configuration).' : `${errors} publishes refused; the first: ${firstError}`,
    ],
  };
};

async function relayOneTarget(ctx: Parameters<Scenario>[0]): Promise<{ r: SearchResult; cpu: CpuStep }> {
  await ctx.receiver.reset();
  const db = await createDatabase('postgres', 'reference-one');
  const relay = await startRelay(db.url!, ctx.receiver.url).catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  try {
    const headers = { 'content-type': 'application/json' };
    const body = JSON.stringify({ target: '/r/0', payload: { eventType: 'invoice.paid', ...SAMPLE_PAYLOAD } });
    const target: PublishTarget = { origin: relay.url, request: () => ({ path: '/publish', headers, body }) };
    const r = await searchMaxSustained(ctx, target, 'reference (one target)');
    return { r, cpu: await cpuStep(ctx, target, { rate: maxRate(r), label: 'max', pids: () => [relay.pid], db }) };
  } finally {
    ctx.receiver.onArrivals(null);
    await relay.stop();
    await db.drop();
  }
}
