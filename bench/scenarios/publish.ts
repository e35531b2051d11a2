import { mapConcurrent, messageTarget } from '../lib/api.ts';
import { measureCpu, withGateway, type Scenario } from '../lib/context.ts';
import { closedLoop } from '../lib/load.ts';
import { ms, rate, summarize } from '../lib/stats.ts';

const CONSUMERS = 10;
const CONNECTIONS = 32;

/** Accepted publishes per second and their latency, closed loop (each connection sends when answered). */
export const run: Scenario = (ctx) =>
  withGateway(ctx, 'publish', async ({ db, gw, api }) => {
    // Deliveries run alongside, as they would in production: 10 consumers with one endpoint each.
    const consumers = await mapConcurrent(
      Array.from({ length: CONSUMERS }, (_, i) => i),
      8,
      async (i) => {
        const c = await api.createConsumer(`publish-${i}`);
        await api.createEndpoint(c, `${ctx.receiver.url}/p/${i}`);
        return c;
      },
    );
    const durationMs = ctx.smoke ? 1000 : 20_000;
    const target = messageTarget(api, (i) => ({ consumer: consumers[i % CONSUMERS]! }));
    // Unmeasured: JIT warm-up, pools filling, first prepared statements.
    if (!ctx.smoke) await closedLoop(target, { connections: CONNECTIONS, durationMs: 3000 });
    ctx.log(`publish: closed loop, ${CONNECTIONS} connections, ${durationMs / 1000} s`);
    const cpu = await measureCpu(gw.pids, db);
    const load = await closedLoop(target, { connections: CONNECTIONS, durationMs });
    const usage = await cpu.stop();
    if (load.accepted === 0) throw new Error(`no publish was accepted: ${load.firstError}`);
    const lat = summarize(load.latencies);
    const perSec = rate(load.accepted, load.seconds);
    return {
      scenario: 'publish',
      engine: ctx.engine,
      layout: gw.layout,
      rows: [
        {
          connections: CONNECTIONS,
          seconds: ms(load.seconds),
          accepted: load.accepted,
          errors: load.errors,
          'accepted/s': perSec,
          'p50 ms': ms(lat.p50),
          'p99 ms': ms(lat.p99),
          'gateway CPU-s': usage.gatewayCpuS,
          'postgres CPU-s': usage.postgresCpuS,
        },
      ],
      figures: { acceptedPerSec: perSec, publishP50Ms: ms(lat.p50), publishP99Ms: ms(lat.p99), errors: load.errors },
      notes: load.firstError ? [`first error: ${load.firstError}`] : [],
    };
  });
