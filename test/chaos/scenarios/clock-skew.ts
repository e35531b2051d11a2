import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { conservationChecks, conserve } from '../lib/conservation.ts';
import { createDatabase, startFleet } from '../lib/fleet.ts';
import { provision, startLoad } from '../lib/load.ts';
import { flaky, startChaosReceiver } from '../lib/receiver.ts';
import type { Scenario } from '../lib/scenario.ts';

const PRELOAD = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '../lib/clock-skew.mjs')).href;
const SKEW_MS = 120_000;
const skewed = (ms: number) => ({ NODE_OPTIONS: `--import ${PRELOAD}`, CHAOS_CLOCK_SKEW_MS: String(ms) });

/**
 * (8) Clock skew of ±2 minutes between processes: the api and one worker run 2 min ahead, the other worker and
 * the scheduler 2 min behind (a preload that shifts Date in that process; faketime is not installed here).
 * Leases and due times are taken from the database's clock, so nothing is delivered twice because of the
 * skew. Workers read the database's clock too (delivery/db-clock.ts) for what they write beside those times
 * and for `webhook-timestamp`: before that, an endpoint paused by the worker 2 min ahead stayed paused 2 min
 * and its rate-limit slots waited 2 min on the worker behind (192 of 300 messages undelivered after 90 s).
 */
export const clockSkew: Scenario = {
  name: 'clock-skew',
  guarantees:
    'processes whose clocks differ by ±2 min: signatures verify and carry the database’s clock, no delivery is delayed or repeated because of the skew, lost 0',
  async run(size) {
    const p = size === 'full' ? { messages: 10_000 } : { messages: 300 };
    const db = await createDatabase();
    const rx = await startChaosReceiver(flaky(0.1, 0));
    const fleet = await startFleet(db, [
      { role: 'api', env: skewed(SKEW_MS) },
      { role: 'worker', env: skewed(SKEW_MS) },
      { role: 'worker', env: skewed(-SKEW_MS) },
      { role: 'scheduler', env: skewed(-SKEW_MS) },
    ]);
    try {
      const targets = await provision(fleet.apiUrls[0]!, rx, { tenants: 2, endpointsPerTenant: 4 });
      const load = startLoad({ apiUrls: fleet.apiUrls, targets, messages: p.messages, concurrency: 8 });
      const c = await conserve(rx, load, db, 90_000);
      // The receiver's clock is the database's (one host): a skew that leaked into webhook-timestamp shows here.
      const worstSkewS = Math.max(0, ...rx.timestampSkews.map((s) => Math.abs(s)));
      const workersUp = ['worker-0', 'worker-1'].filter((n) => fleet.proc(n).exit === null);
      return {
        figures: {
          conservation: c,
          skewMs: SKEW_MS,
          worstTimestampSkewS: Math.round(worstSkewS * 10) / 10,
          badSignatures: rx.badSignatures.length,
        },
        checks: [
          ...conservationChecks(c, rx),
          [`webhook-timestamp off the database's clock by ${worstSkewS.toFixed(1)} s (the workers' skew leaked)`, worstSkewS < 10],
          [`skewed workers running at the end: ${workersUp.join(', ')}`, workersUp.length === 2],
          [`duplicates ${c.duplicates} (expected 0: no process died)`, c.duplicates === 0],
          [`deliveries not all succeeded: ${JSON.stringify(c.states)}`, c.states.succeeded === c.accepted],
        ],
      };
    } finally {
      await fleet.stop();
      await rx.close();
      await db.drop();
    }
  },
};
