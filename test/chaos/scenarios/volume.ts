import { conservationChecks, conserve } from '../lib/conservation.ts';
import { createDatabase, startFleet } from '../lib/fleet.ts';
import { percentile, provision, startLoad } from '../lib/load.ts';
import { flaky, startChaosReceiver } from '../lib/receiver.ts';
import type { Scenario } from '../lib/scenario.ts';

/**
 * (1) Conservation at volume: many tenants and endpoints, receivers failing 20 % of attempts with a random
 * 5xx and 2 % by never answering (the worker's 2 s deadline ends those). Lost 0; duplicates counted.
 */
export const volume: Scenario = {
  name: 'volume',
  guarantees:
    'every accepted message is delivered (lost 0) through 20 % random 5xx and 2 % timeouts at the receivers; duplicates (a second 2xx for one webhook-id) ≤ 0.1 %',
  async run(size, log) {
    const p =
      size === 'full'
        ? { messages: 100_000, tenants: 50, perTenant: 10, apis: 2, workers: 2, concurrency: 32, drainMs: 600_000 }
        : { messages: 1_000, tenants: 5, perTenant: 4, apis: 1, workers: 2, concurrency: 16, drainMs: 90_000 };
    const db = await createDatabase();
    const rx = await startChaosReceiver(flaky(0.2, 0.02));
    const fleet = await startFleet(db, [
      ...Array.from({ length: p.apis }, () => ({ role: 'api' as const })),
      ...Array.from({ length: p.workers }, () => ({ role: 'worker' as const })),
      { role: 'scheduler' },
    ]);
    try {
      const targets = await provision(fleet.apiUrls[0]!, rx, { tenants: p.tenants, endpointsPerTenant: p.perTenant });
      log(`${targets.length} endpoints over ${p.tenants} tenants; publishing ${p.messages} messages`);
      const started = Date.now();
      const load = startLoad({ apiUrls: fleet.apiUrls, targets, messages: p.messages, concurrency: p.concurrency });
      await load.done;
      const publishMs = Date.now() - started;
      const c = await conserve(rx, load, db, p.drainMs);
      const figures = {
        conservation: c,
        publishPerSecond: Math.round(load.accepted.length / (publishMs / 1000)),
        publishP99Ms: percentile(load.latencies, 99),
        answers: load.answers,
        receiverRequests: rx.requests,
        answered5xx: rx.answered5xx,
        hung: rx.hung,
        totalMs: Date.now() - started,
      };
      return {
        figures,
        checks: [
          ...conservationChecks(c, rx),
          [`answers other than 202: ${JSON.stringify(load.answers)}`, Object.keys(load.answers).every((k) => k === '202')],
          [`duplicates ${c.duplicatePercent} % (target ≤ 0.1 %)`, c.duplicatePercent <= 0.1],
          [
            `deliveries not all succeeded: ${JSON.stringify(c.states)}`,
            c.states.succeeded === c.accepted && Object.keys(c.states).length === 1,
          ],
          ['the receivers failed some attempts', rx.answered5xx > 0],
        ],
      };
    } finally {
      await fleet.stop();
      await rx.close();
      await db.drop();
    }
  },
};
