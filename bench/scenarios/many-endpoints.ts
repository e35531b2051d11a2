import { mapConcurrent, messageTarget } from '../lib/api.ts';
import { withGateway, type Scenario } from '../lib/context.ts';
import { fixedRateStep, settle, warmUp, type StepResult } from '../lib/fixed-rate.ts';
import { ms } from '../lib/stats.ts';

/** A small deterministic PRNG (mulberry32) so both phases publish to the same sequence of endpoints. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 10,000 endpoints (100 consumers × 100), each on its own channel so one publish reaches exactly one;
 * 1 % of them under /slow/. Fixed rate to random endpoints; p99 publish → delivered of the fast ones,
 * first with the slow receivers answering at once (baseline), then with them taking 2 s.
 */
export const run: Scenario = (ctx) =>
  withGateway(ctx, 'many', async ({ gw, api }) => {
    const consumers = ctx.smoke ? 10 : 100;
    const perConsumer = ctx.smoke ? 20 : 100;
    const total = consumers * perConsumer;
    ctx.log(`many-endpoints: creating ${consumers} consumers × ${perConsumer} endpoints`);
    const consumerIds = await mapConcurrent(
      Array.from({ length: consumers }, (_, i) => i),
      16,
      (i) => api.createConsumer(`many-${i}`),
    );
    const created = performance.now();
    const endpoints = await mapConcurrent(
      Array.from({ length: total }, (_, i) => i),
      32,
      async (i) => {
        const consumer = consumerIds[Math.floor(i / perConsumer)]!;
        const slow = i % 100 === 0;
        await api.createEndpoint(consumer, `${ctx.receiver.url}/${slow ? 'slow' : 'm'}/${i}`, { channels: [`ch-${i}`] });
        return { consumer, channel: `ch-${i}` };
      },
    );
    const createSeconds = (performance.now() - created) / 1000;
    const rateOffered = ctx.smoke ? 200 : 1000;
    const durationMs = ctx.smoke ? 2000 : 20_000;
    const phase = async (slow: boolean): Promise<StepResult> => {
      ctx.receiver.setSlow(slow);
      await settle(ctx.receiver, 500, ctx.smoke ? 10_000 : 60_000);
      const rnd = prng(42);
      ctx.log(`many-endpoints: ${rateOffered}/s for ${durationMs / 1000} s, slow receivers ${slow ? 'slow' : 'fast'}`);
      return fixedRateStep(
        messageTarget(api, () => endpoints[Math.floor(rnd() * total)]!),
        ctx.receiver,
        {
          rate: rateOffered,
          durationMs,
          drainMs: 5000,
          ignorePath: (p) => p.startsWith('/slow/'),
        },
      );
    };
    try {
      ctx.receiver.setSlow(false);
      ctx.log('many-endpoints: warming up');
      const rndWarm = prng(7);
      await warmUp(
        messageTarget(api, () => endpoints[Math.floor(rndWarm() * total)]!),
        ctx.receiver,
        { rate: rateOffered, durationMs: ctx.smoke ? 0 : 5000 },
      );
      const base = await phase(false);
      const slow = await phase(true);
      const change = ((slow.e2e.p99 - base.e2e.p99) / base.e2e.p99) * 100;
      const row = (name: string, s: StepResult) => ({
        phase: name,
        'rate/s': s.rate,
        'fast published': s.published,
        'fast delivered': s.delivered,
        'publish p99': ms(s.publish.p99),
        'fast e2e p50': ms(s.e2e.p50),
        'fast e2e p99': ms(s.e2e.p99),
      });
      return {
        scenario: 'many-endpoints',
        engine: ctx.engine,
        layout: gw.layout,
        rows: [row('slow receivers answer at once', base), row('1 % answer in 2 s', slow)],
        figures: {
          endpoints: total,
          baselineP99Ms: ms(base.e2e.p99),
          slowP99Ms: ms(slow.e2e.p99),
          p99ChangePct: Math.round(change * 10) / 10,
          createPerSec: Math.round(total / createSeconds),
        },
        notes: [
          `${total} endpoints created through the API in ${createSeconds.toFixed(1)} s. p99 change: ${change.toFixed(1)} % (target < 20 %).`,
        ],
      };
    } finally {
      ctx.receiver.setSlow(true);
    }
  });
