import { mapConcurrent, messageTarget } from '../lib/api.ts';
import { withGateway, type Scenario } from '../lib/context.ts';
import { searchMaxSustained } from '../lib/search.ts';

const CONSUMERS = 10;

/** The highest offered rate at which publishing keeps up, deliveries keep up and the backlog does not grow. */
export const run: Scenario = (ctx) =>
  withGateway(ctx, 'max', async ({ gw, api }) => {
    const consumers = await mapConcurrent(
      Array.from({ length: CONSUMERS }, (_, i) => i),
      8,
      async (i) => {
        const c = await api.createConsumer(`max-${i}`);
        await api.createEndpoint(c, `${ctx.receiver.url}/s/${i}`);
        return c;
      },
    );
    const r = await searchMaxSustained(
      ctx,
      messageTarget(api, (i) => ({ consumer: consumers[i % CONSUMERS]! })),
      `max-sustained (${ctx.engine})`,
    );
    return {
      scenario: 'max-sustained',
      engine: ctx.engine,
      layout: gw.layout,
      rows: r.rows,
      figures: { maxSustained: r.maxSustained, highestAchieved: r.highestAchieved },
      notes: [
        `${CONSUMERS} consumers × 1 endpoint, round-robin. Sustained: ≥ 98 % of the offered rate accepted within the step, ≥ 98 % delivered by 2 s after it, backlog growth ≤ 2 % of the rate (at least 10) per second over the step's second half.`,
      ],
    };
  });
