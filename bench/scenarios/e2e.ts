import { mapConcurrent, messageTarget } from '../lib/api.ts';
import { costPerMillion, measureCpu, withGateway, type Scenario } from '../lib/context.ts';
import { fixedRateStep, settle, warmUp } from '../lib/fixed-rate.ts';
import { ms } from '../lib/stats.ts';

const CONSUMERS = 10;

/**
 * End to end at fixed offered rates (open loop): publish latency, publish → delivered latency, and the
 * CPU the gateway and Postgres spent per delivered event, turned into a cost per million events.
 */
export const run: Scenario = (ctx) =>
  withGateway(ctx, 'e2e', async ({ db, gw, api }) => {
    const consumers = await mapConcurrent(
      Array.from({ length: CONSUMERS }, (_, i) => i),
      8,
      async (i) => {
        const c = await api.createConsumer(`e2e-${i}`);
        await api.createEndpoint(c, `${ctx.receiver.url}/e/${i}`);
        return c;
      },
    );
    const target = messageTarget(api, (i) => ({ consumer: consumers[i % CONSUMERS]! }));
    const rates = ctx.smoke ? [200] : [500, 1000, 2000];
    const durationMs = ctx.smoke ? 2000 : 20_000;
    const rows: Record<string, string | number>[] = [];
    const figures: Record<string, number> = {};
    ctx.log('e2e: warming up');
    await warmUp(target, ctx.receiver, { rate: rates[0]!, durationMs: ctx.smoke ? 0 : 5000 });
    for (const r of rates) {
      await settle(ctx.receiver);
      ctx.log(`e2e: ${r}/s for ${durationMs / 1000} s`);
      const cpu = await measureCpu(gw.pids, db);
      const step = await fixedRateStep(target, ctx.receiver, { rate: r, durationMs, drainMs: ctx.smoke ? 5000 : 15_000 });
      const usage = await cpu.stop();
      const gwCost = costPerMillion(ctx, usage.gatewayCpuS, step.delivered);
      const allCost = costPerMillion(ctx, usage.gatewayCpuS + usage.postgresCpuS, step.delivered);
      rows.push({
        'rate/s': r,
        published: step.published,
        delivered: step.delivered,
        'achieved/s': step.achievedRate,
        'publish p50': ms(step.publish.p50),
        'publish p99': ms(step.publish.p99),
        'e2e p50': ms(step.e2e.p50),
        'e2e p95': ms(step.e2e.p95),
        'e2e p99': ms(step.e2e.p99),
        'loadgen CPU %': step.loadGeneratorCpuPct,
        'gw CPU-s': usage.gatewayCpuS,
        'pg CPU-s': usage.postgresCpuS,
        'CPU-s/M (gw+pg)': allCost.cpuSPerMillion,
        [`$/M on ${ctx.cost.instance}`]: allCost.costPerMillion,
      });
      Object.assign(figures, {
        [`publishP50Ms@${r}`]: ms(step.publish.p50),
        [`publishP99Ms@${r}`]: ms(step.publish.p99),
        [`e2eP50Ms@${r}`]: ms(step.e2e.p50),
        [`e2eP95Ms@${r}`]: ms(step.e2e.p95),
        [`e2eP99Ms@${r}`]: ms(step.e2e.p99),
        [`delivered@${r}`]: step.delivered,
        [`gatewayCpuSPerMillion@${r}`]: gwCost.cpuSPerMillion,
        [`postgresCpuSPerMillion@${r}`]: costPerMillion(ctx, usage.postgresCpuS, step.delivered).cpuSPerMillion,
        [`cpuSPerMillion@${r}`]: allCost.cpuSPerMillion,
        [`costPerMillion@${r}`]: allCost.costPerMillion,
      });
    }
    return {
      scenario: 'e2e',
      engine: ctx.engine,
      layout: gw.layout,
      rows,
      figures,
      notes: [
        `${CONSUMERS} consumers × 1 endpoint, publishes round-robin: one endpoint alone starts at TRAMLINE_ENDPOINT_CONCURRENCY deliveries in flight and grows its window while it answers fast (up to TRAMLINE_ENDPOINT_CONCURRENCY_MAX).`,
        `Latencies in ms, measured from each publish's scheduled send time (open loop). Cost = $${ctx.cost.pricePerHour}/h ÷ ${ctx.cost.vcpus} vCPU ÷ 3600 × CPU-s per million (gateway + this database's Postgres backends).`,
      ],
    };
  });
