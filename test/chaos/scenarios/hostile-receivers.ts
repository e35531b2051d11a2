import { sleep } from '../../helpers/process.ts';
import { conservationChecks, conserve } from '../lib/conservation.ts';
import { DELIVERY_TIMEOUT_MS, createDatabase, startFleet } from '../lib/fleet.ts';
import { HOSTILE_KINDS, startHostileReceiver } from '../lib/hostile-receivers.ts';
import { percentile, provision, startLoad, type Accepted } from '../lib/load.ts';
import { startChaosReceiver } from '../lib/receiver.ts';
import { mb, type Scenario } from '../lib/scenario.ts';

/** The good tenant publishes at this pace alone and beside the hostile receivers: the same load, so the same p99. */
const GOOD_RATE = 100;
/**
 * The p99 beside them may exceed the one alone by 20 %, or by this much when that is more: on a loaded 2-core machine a
 * p99 of tens of ms moves by more than 20 % from one run to the next. A good delivery held behind a hostile attempt
 * would wait its 2 s deadline, four times this: that is what the check is there to catch.
 */
const P99_FLOOR_MS = 500;
/** undici closes a connection left idle this long (its default `keepAliveTimeout`; the gateway keeps the default). */
const UNDICI_KEEP_ALIVE_MS = 4_000;

/**
 * (4) Slow and hostile receivers: a body at 1 byte/s, a connection never answered, a 100 MB response, a reset
 * mid-response, a TLS handshake that stalls. Each attempt ends at its deadline ± 1 s (or sooner), the worker's
 * memory stays flat, and a well-behaved tenant beside them gets everything delivered, its p99 within 20 % of
 * its p99 alone (or 500 ms: P99_FLOOR_MS) in the full run.
 */
export const hostileReceivers: Scenario = {
  name: 'hostile-receivers',
  guarantees:
    'receivers answering 1 byte/s, never answering, with 100 MB, with a reset mid-response or a stalled TLS handshake: every attempt ends by its deadline + 1 s, worker memory stays flat, other tenants get everything, their p99 within 20 % (or 500 ms) of theirs alone',
  async run(size, log) {
    // The back-off also halves a failing endpoint's in-flight window down to one: a hostile endpoint's attempts then run
    // one after another (up to 2 s each, plus the pauses), so `perHostile` × 3 attempts must fit in `drainMs`.
    const p = size === 'full' ? { perHostile: 12, good: 3_000, drainMs: 240_000 } : { perHostile: 4, good: 300, drainMs: 120_000 };
    const db = await createDatabase();
    const rx = await startChaosReceiver();
    const hostile = await Promise.all(HOSTILE_KINDS.map(startHostileReceiver));
    // Three attempts: the hostile deliveries end `failed` (or succeed: the 100 MB answer is a 200) within the run.
    // The back-off pauses an endpoint that times out, doubling up to TRAMLINE_BACKOFF_MAX_PAUSE (1 min): 30 hostile
    // messages would then take most of an hour to run out of attempts. Capped at 1 s, every attempt is made within
    // the run, and the good tenant meets the hostile receivers at full strength rather than paused.
    const fleet = await startFleet(db, [{ role: 'api' }, { role: 'worker' }], {
      TRAMLINE_RETRY_SCHEDULE: '0s,500ms,1s',
      TRAMLINE_BACKOFF_MAX_PAUSE: '1s',
    });
    const rss: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        rss.push(fleet.rss('worker-0'));
        await sleep(250);
      }
    })();
    try {
      const api = fleet.apiUrls[0]!;
      const good = await provision(api, rx, { tenants: 1, endpointsPerTenant: 4, prefix: 'good' });
      const bad = await provision(api, rx, {
        tenants: 1,
        endpointsPerTenant: hostile.length,
        prefix: 'hostile',
        urlFor: (key) => hostile[Number(key.split('-c')[1])]!.url,
      });
      // Before: the good tenant alone (its latency at rest: the baseline, at the same pace as beside them), then the
      // worker's memory at rest.
      const before = startLoad({ apiUrls: fleet.apiUrls, targets: good, messages: p.good / 3, concurrency: 4, rate: GOOD_RATE });
      const cBefore = await conserve(rx, before, db, 60_000);
      const rssAtRest = Math.max(...rss.slice(-4));
      const during = startLoad({ apiUrls: fleet.apiUrls, targets: good, messages: p.good, concurrency: 4, rate: GOOD_RATE });
      const attack = startLoad({ apiUrls: fleet.apiUrls, targets: bad, messages: p.perHostile * hostile.length, concurrency: 4 });
      await attack.done;
      const c = await conserve(rx, during, db, 120_000);
      // Every hostile delivery has run out of attempts (or succeeded).
      const deadline = Date.now() + p.drainMs;
      let open: number;
      do {
        await sleep(500);
        open = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE state IN ('pending', 'sending')`))[0]!.n;
      } while (open > 0 && Date.now() < deadline);
      sampling = false;
      await sampler;
      const byKind: Record<
        string,
        {
          attempts: number;
          maxMs: number;
          outcomes: Record<string, number>;
          connectionMaxMs: number;
          idleConnections: number;
          idleConnectionMaxMs: number;
        }
      > = {};
      for (const [i, h] of hostile.entries()) {
        const rows = await db.query<{ duration_ms: number; outcome: string; error: string | null }>(
          `SELECT duration_ms, outcome, error FROM attempts WHERE endpoint_id = $1`,
          [bad[i]!.endpointId],
        );
        const outcomes: Record<string, number> = {};
        for (const r of rows) {
          const k = r.outcome === 'succeeded' ? 'succeeded' : (r.error ?? 'failed').split(/[ :]/)[0]!;
          outcomes[k] = (outcomes[k] ?? 0) + 1;
        }
        byKind[h.kind] = {
          attempts: rows.length,
          maxMs: Math.max(0, ...rows.map((r) => r.duration_ms)),
          outcomes,
          connectionMaxMs: Math.max(0, ...h.connectionMs),
          idleConnections: h.idleConnectionMs.length,
          idleConnectionMaxMs: Math.max(0, ...h.idleConnectionMs),
        };
      }
      const latency = (l: { accepted: Accepted[] }) =>
        l.accepted.map((a) => (rx.firstOkAt.get(`${a.endpointKey} ${a.messageId}`) ?? a.sentAt) - a.sentAt);
      const bound = DELIVERY_TIMEOUT_MS + 1_000;
      const figures = {
        conservation: c,
        conservationBefore: { accepted: cBefore.accepted, lost: cBefore.lost },
        deadlineMs: DELIVERY_TIMEOUT_MS,
        hostile: byKind,
        workerRssAtRestMb: mb(rssAtRest),
        workerRssMaxMb: mb(Math.max(...rss)),
        goodTenantP99Ms: { alone: percentile(latency(before), 99), beside: percentile(latency(during), 99) },
        goodTenantP99BoundMs: 0,
        stillOpen: open,
      };
      const { alone, beside } = figures.goodTenantP99Ms;
      figures.goodTenantP99BoundMs = Math.max(Math.round(alone * 1.2), alone + P99_FLOOR_MS);
      const p99Check: [string, boolean] = [
        `the good tenant's publish → delivered p99 beside them ${beside} ms, alone ${alone} ms (bound ${figures.goodTenantP99BoundMs} ms: +20 % or +${P99_FLOOR_MS} ms)`,
        beside <= figures.goodTenantP99BoundMs,
      ];
      // The short run's p99 is the worst of ~100 deliveries on a shared machine: printed there, asserted in the full run.
      if (size === 'short') log(`${p99Check[0]} (printed, not asserted, in the short run)`);
      return {
        figures,
        checks: [
          ...(size === 'full' ? [p99Check] : []),
          ...conservationChecks(c, rx),
          [`good tenant lost ${cBefore.lost} before the attack`, cBefore.lost === 0],
          ...Object.entries(byKind).map(([k, v]): [string, boolean] => [
            `${k}: ${v.attempts} attempts, longest ${v.maxMs} ms (bound ${bound} ms)`,
            v.attempts > 0 && v.maxMs <= bound,
          ]),
          // Seen from the receiver too: a connection that carried an attempt is gone soon after the deadline (two
          // seconds more of slack: the receiver shares its process with the load generator on a loaded machine, and
          // notices the close late). One that never carried a byte is closed by undici's 4 s keep-alive timeout.
          ...Object.entries(byKind).map(([k, v]): [string, boolean] => [
            `${k}: a connection stayed open ${v.connectionMaxMs} ms after its first byte at the receiver (bound ${bound + 2_000} ms)`,
            v.connectionMaxMs <= bound + 2_000,
          ]),
          ...Object.entries(byKind).map(([k, v]): [string, boolean] => [
            `${k}: ${v.idleConnections} connections never carried a byte, the longest open ${v.idleConnectionMaxMs} ms (bound ${UNDICI_KEEP_ALIVE_MS + 2_000} ms)`,
            v.idleConnectionMaxMs <= UNDICI_KEEP_ALIVE_MS + 2_000,
          ]),
          [`${open} hostile deliveries still open after their attempts`, open === 0],
          [
            `worker memory grew from ${figures.workerRssAtRestMb} MB to ${figures.workerRssMaxMb} MB (at most +100 MB)`,
            figures.workerRssMaxMb - figures.workerRssAtRestMb <= 100,
          ],
        ],
      };
    } finally {
      sampling = false;
      await fleet.stop();
      for (const h of hostile) await h.close();
      await rx.close();
      await db.drop();
      log('stopped');
    }
  },
};
