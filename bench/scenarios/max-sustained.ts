import { mapConcurrent, messageTarget } from '../lib/api.ts';
import { withGateway, type Scenario } from '../lib/context.ts';
import { cpuStep, maxRate } from '../lib/cpu-step.ts';
import { searchMaxSustained } from '../lib/search.ts';

const CONSUMERS = 10;

/**
 * The highest offered rate at which publishing keeps up, deliveries keep up and the backlog does not grow; then a
 * step at that rate with the CPU of the gateway and of Postgres, apart, per million delivered.
 */
export const run: Scenario = (ctx) =>
  withGateway(ctx, 'max', async ({ db, gw, api }) => {
    const consumers = await mapConcurrent(
      Array.from({ length: CONSUMERS }, (_, i) => i),
      8,
      async (i) => {
        const c = await api.createConsumer(`max-${i}`);
        await api.createEndpoint(c, `${ctx.receiver.url}/s/${i}`);
        return c;
      },
    );
    const target = messageTarget(api, (i) => ({ consumer: consumers[i % CONSUMERS]! }));
    const r = await searchMaxSustained(ctx, target, `max-sustained (${ctx.engine})`);
    const cpu = await cpuStep(ctx, target, { rate: maxRate(r), label: 'max', pids: gw.pids, db });
    return {
      scenario: 'max-sustained',
      engine: ctx.engine,
      layout: gw.layout,
      rows: [...r.rows, cpu.row],
      figures: { maxSustained: r.maxSustained, highestAchieved: r.highestAchieved, ...cpu.figures },
      notes: [
        `${CONSUMERS} consumers × 1 endpoint, round-robin. Sustained: ≥ 98 % of the offered rate accepted within the step, ≥ 98 % delivered by 2 s after it, backlog growth ≤ 2 % of the rate (at least 10) per second over the step's second half.`,
        'Last row: a step at the maximum with the CPU of the gateway process(es) and of its Postgres backends, apart, per million delivered (compare the relay’s at its maximum).',
      ],
    };
  });
