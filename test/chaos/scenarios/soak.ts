import { sleep } from '../../helpers/process.ts';
import { conservationChecks, conserve } from '../lib/conservation.ts';
import { createDatabase, startFleet } from '../lib/fleet.ts';
import { percentile, provision, startLoad } from '../lib/load.ts';
import { flaky, startChaosReceiver } from '../lib/receiver.ts';
import { mb, type Scenario } from '../lib/scenario.ts';

interface Sample {
  minute: number;
  rssMb: Record<string, number>;
  publishP99Ms: number;
  tablesMb: Record<string, number>;
  deadTuples: Record<string, number>;
}

/**
 * (10) Soak: CHAOS_SOAK_MINUTES (default 30) at CHAOS_SOAK_RATE publishes per second (default 50, about half of
 * what this 2-core machine sustains beside its other work), receivers failing 5 %. Every minute: each process's
 * RSS, the publish p99 of that minute, table sizes and dead tuples. Memory and latency stay flat; autovacuum (or the
 * scheduler's own pass where it is off) keeps dead tuples bounded. Full size only (`npm run test:chaos -- soak`); the short run is two minutes.
 */
export const soak: Scenario = {
  name: 'soak',
  fullOnlyByName: true,
  guarantees:
    'a steady load for 30 minutes: RSS and publish latency flat, dead tuples kept down (by autovacuum, or by the scheduler where it is off), lost 0',
  async run(size, log) {
    const minutes = size === 'full' ? Number(process.env.CHAOS_SOAK_MINUTES ?? 30) : 2;
    const rate = Number(process.env.CHAOS_SOAK_RATE ?? 50);
    const db = await createDatabase();
    const rx = await startChaosReceiver(flaky(0.05, 0));
    const fleet = await startFleet(db, [{ role: 'api' }, { role: 'worker' }, { role: 'scheduler' }]);
    try {
      const targets = await provision(fleet.apiUrls[0]!, rx, { tenants: 5, endpointsPerTenant: 4 });
      const load = startLoad({ apiUrls: fleet.apiUrls, targets, messages: Math.ceil(minutes * 60 * rate), concurrency: 8, rate });
      const samples: Sample[] = [];
      let seen = 0;
      for (let m = 1; m <= minutes; m++) {
        await sleep(60_000);
        const tables = await db.query<{ relname: string; bytes: string; dead: number }>(
          `SELECT relname, pg_total_relation_size(relid)::text AS bytes, n_dead_tup::int AS dead FROM pg_stat_user_tables
            WHERE relname IN ('messages', 'deliveries', 'attempts')`,
        );
        const s: Sample = {
          minute: m,
          rssMb: Object.fromEntries(fleet.names().map((n) => [n, mb(fleet.rss(n))])),
          publishP99Ms: percentile(load.latencies.slice(seen), 99),
          tablesMb: Object.fromEntries(tables.map((t) => [t.relname, mb(Number(t.bytes))])),
          deadTuples: Object.fromEntries(tables.map((t) => [t.relname, t.dead])),
        };
        seen = load.latencies.length;
        samples.push(s);
        log(`minute ${m}: ${JSON.stringify(s)}`);
      }
      load.stop();
      const c = await conserve(rx, load, db, 120_000);
      const first = samples[0]!;
      const last = samples[samples.length - 1]!;
      const rssGrowth = Object.fromEntries(fleet.names().map((n) => [n, last.rssMb[n]! - first.rssMb[n]!]));
      const deadDeliveries = Math.max(...samples.map((x) => x.deadTuples.deliveries ?? 0));
      // With autovacuum off (this machine's shared server), the fleet's scheduler vacuums instead (scheduler/vacuum.ts).
      const autovacuum = (await db.query<{ autovacuum: string }>('SHOW autovacuum'))[0]!.autovacuum;
      return {
        figures: { conservation: c, minutes, rate, first, last, rssGrowthMb: rssGrowth, maxDeadDeliveries: deadDeliveries, autovacuum },
        checks: [
          ...conservationChecks(c, rx),
          [
            `RSS grew ${JSON.stringify(rssGrowth)} MB from the first minute to the last (at most 100)`,
            Object.values(rssGrowth).every((g) => g <= 100),
          ],
          // Each message's delivery row is updated two or three times; unvacuumed, dead rows would pile up.
          [
            `dead delivery tuples reached ${deadDeliveries} (vacuumed by ${autovacuum === 'on' ? 'autovacuum' : 'the scheduler: autovacuum is off'})`,
            deadDeliveries <= Math.max(20_000, rate * 60 * 3),
          ],
          [
            `publish p99 ${first.publishP99Ms} ms in the first minute, ${last.publishP99Ms} ms in the last (at most 3× + 100 ms)`,
            last.publishP99Ms <= first.publishP99Ms * 3 + 100,
          ],
        ],
      };
    } finally {
      await fleet.stop();
      await rx.close();
      await db.drop();
    }
  },
};
