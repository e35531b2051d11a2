import { mapConcurrent, TramlineApi } from '../lib/api.ts';
import { costPerMillion, measureCpu, type Scenario } from '../lib/context.ts';
import { peakRssMiB } from '../lib/cpu.ts';
import { asOwner, createDatabase } from '../lib/database.ts';
import { startGateway, type RunningGateway } from '../lib/gateway.ts';
import { rate, wallNow } from '../lib/stats.ts';

const ENDPOINTS = 100;

/**
 * A backlog of N due deliveries (one message each, spread over 100 endpoints) written straight into the
 * tables while the gateway is down, then drained by a fresh gateway: deliveries/s and its peak RSS.
 * Postgres only (the SQL goes in over a second connection, which embedded PGlite does not have).
 */
export const run: Scenario = async (ctx) => {
  if (ctx.engine !== 'postgres') throw new Error('backlog runs on Postgres only');
  const n = ctx.options.backlog ?? (ctx.smoke ? 5000 : 1_000_000);
  await ctx.receiver.reset();
  const db = await createDatabase('postgres', 'backlog');
  let gw: RunningGateway | null = null;
  try {
    gw = await startGateway({ dbEnv: db.env, layout: ctx.layout });
    const api = new TramlineApi(gw.url);
    await api.createTenant();
    const consumer = await api.createConsumer('backlog');
    const endpoints = await mapConcurrent(
      Array.from({ length: ENDPOINTS }, (_, i) => i),
      16,
      (i) => api.createEndpoint(consumer, `${ctx.receiver.url}/b/${i}`),
    );
    await api.close();
    await gw.stop();
    gw = null;

    ctx.log(`backlog: inserting ${n} messages and due deliveries`);
    const seedStart = performance.now();
    await asOwner(db.url!, async (c) => {
      // Ids only need to be unique text with the right prefix (see src/store/ids.ts).
      await c.query(
        `INSERT INTO messages (id, tenant_id, consumer_id, event_type, event_id, payload)
         SELECT 'msg_bk' || lpad(i::text, 10, '0'), $1, $2, 'invoice.paid', 'bk_' || i,
                json_build_object('invoice', 'inv_' || i, 'amount', i % 100000, 'currency', 'EUR')::text
           FROM generate_series(1, $3::int) i`,
        [api.tenantId, consumer, n],
      );
      await c.query(
        `INSERT INTO deliveries (id, tenant_id, message_id, endpoint_id, state, next_attempt_at)
         SELECT 'dlv_bk' || lpad(i::text, 10, '0'), $1, 'msg_bk' || lpad(i::text, 10, '0'), ($2::text[])[1 + i % ${ENDPOINTS}], 'pending', now()
           FROM generate_series(1, $3::int) i`,
        [api.tenantId, endpoints, n],
      );
      await c.query('ANALYZE messages; ANALYZE deliveries');
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;

    ctx.log(`backlog: draining ${n} deliveries`);
    const started = wallNow();
    gw = await startGateway({ dbEnv: db.env, layout: ctx.layout });
    const cpu = await measureCpu(gw.pids, db);
    await ctx.receiver.waitForDelivered(n, ctx.smoke ? 60_000 : Math.max(600_000, n * 2));
    const usage = await cpu.stop();
    const rss = gw.pids().map((p) => peakRssMiB(p) ?? 0);
    const drainSeconds = (ctx.receiver.lastArrivalAt - ctx.receiver.firstArrivalAt) / 1000;
    const totalSeconds = (ctx.receiver.lastArrivalAt - started) / 1000;
    const c = costPerMillion(ctx, usage.gatewayCpuS + usage.postgresCpuS, n);
    const drainPerSec = rate(n, drainSeconds);
    return {
      scenario: 'backlog',
      engine: 'postgres',
      layout: gw.layout,
      rows: [
        {
          deliveries: n,
          'seed s': Math.round(seedSeconds * 10) / 10,
          'drain s (first→last arrival)': Math.round(drainSeconds * 10) / 10,
          'drained/s': drainPerSec,
          'drained/s incl. start-up': rate(n, totalSeconds),
          'peak RSS MiB': rss.join(' + '),
          'gw CPU-s': usage.gatewayCpuS,
          'pg CPU-s': usage.postgresCpuS,
          'CPU-s/M': c.cpuSPerMillion,
        },
      ],
      figures: { drainPerSec, peakRssMiB: Math.max(...rss), cpuSPerMillion: c.cpuSPerMillion },
      notes: ['Peak RSS is VmHWM of each gateway process. Deliveries go to 100 endpoints round-robin, one message each.'],
    };
  } finally {
    ctx.receiver.onArrivals(null);
    await gw?.stop();
    await db.drop();
  }
};
