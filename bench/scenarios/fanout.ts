import { mapConcurrent, messageTarget } from '../lib/api.ts';
import { costPerMillion, measureCpu, withGateway, type Scenario } from '../lib/context.ts';
import { closedLoop } from '../lib/load.ts';
import { rate, wallNow } from '../lib/stats.ts';

const ENDPOINTS = 100;

/** One consumer with 100 endpoints: each message fans out to all of them. Deliveries/s from the first publish to the last arrival. */
export const run: Scenario = (ctx) =>
  withGateway(ctx, 'fanout', async ({ db, gw, api }) => {
    const consumer = await api.createConsumer('fanout');
    await mapConcurrent(
      Array.from({ length: ENDPOINTS }, (_, i) => i),
      16,
      (i) => api.createEndpoint(consumer, `${ctx.receiver.url}/f/${i}`),
    );
    const messages = ctx.smoke ? 5 : 500;
    const expected = messages * ENDPOINTS;
    ctx.log(`fanout: ${messages} messages × ${ENDPOINTS} endpoints`);
    const cpu = await measureCpu(gw.pids, db);
    const t0 = wallNow();
    const load = await closedLoop(
      messageTarget(api, () => ({ consumer })),
      { connections: 8, count: messages },
    );
    if (load.accepted !== messages) throw new Error(`only ${load.accepted} of ${messages} publishes accepted: ${load.firstError}`);
    await ctx.receiver.waitForDelivered(expected, ctx.smoke ? 60_000 : 600_000);
    const usage = await cpu.stop();
    const seconds = (ctx.receiver.lastArrivalAt - t0) / 1000;
    const perSec = rate(expected, seconds);
    const c = costPerMillion(ctx, usage.gatewayCpuS + usage.postgresCpuS, expected);
    return {
      scenario: 'fanout',
      engine: ctx.engine,
      layout: gw.layout,
      rows: [
        {
          messages,
          endpoints: ENDPOINTS,
          deliveries: expected,
          seconds: Math.round(seconds * 100) / 100,
          'deliveries/s': perSec,
          'gw CPU-s': usage.gatewayCpuS,
          'pg CPU-s': usage.postgresCpuS,
          'CPU-s/M deliveries': c.cpuSPerMillion,
        },
      ],
      figures: { deliveriesPerSec: perSec, cpuSPerMillion: c.cpuSPerMillion },
      notes: [
        `Each endpoint starts at TRAMLINE_ENDPOINT_CONCURRENCY deliveries in flight and grows while it answers fast; with 100 endpoints the worker's own concurrency is the cap.`,
      ],
    };
  });
