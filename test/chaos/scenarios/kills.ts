import { sleep } from '../../helpers/process.ts';
import { conservationChecks, conserve } from '../lib/conservation.ts';
import { LEASE_MS, createDatabase, startFleet } from '../lib/fleet.ts';
import { provision, startLoad } from '../lib/load.ts';
import { flaky, startChaosReceiver } from '../lib/receiver.ts';
import type { Scenario } from '../lib/scenario.ts';

const WORKER_CONCURRENCY = 32;

/**
 * (2) kill -9 of workers and api replicas at random moments under load, each restarted a moment later.
 * Publishers move to the other replica when a connection fails and retry with the same Idempotency-Key.
 * Duplicates may only come from deliveries in flight at a worker's kill (at most its concurrency each);
 * what a dead worker held is delivered within about one lease.
 */
export const kills: Scenario = {
  name: 'kills',
  guarantees:
    'kill -9 of api and worker processes at random moments under load loses nothing; duplicates only for deliveries in flight at a kill; what a dead worker held is delivered after its lease',
  async run(size, log) {
    // The load runs until the last kill's replacement is up, and 3 s more: every kill lands mid-load, whatever the machine's speed.
    const p = size === 'full' ? { rate: 200, kills: 12, concurrency: 24 } : { rate: 100, kills: 3, concurrency: 12 };
    const db = await createDatabase();
    const rx = await startChaosReceiver(flaky(0.05, 0));
    const fleet = await startFleet(db, [{ role: 'api' }, { role: 'api' }, { role: 'worker' }, { role: 'worker' }, { role: 'scheduler' }], {
      TRAMLINE_WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      LOG_LEVEL: 'info',
    });
    try {
      const targets = await provision(fleet.apiUrls[0]!, rx, { tenants: 3, endpointsPerTenant: 4 });
      const load = startLoad({ apiUrls: fleet.apiUrls, targets, messages: 1_000_000, concurrency: p.concurrency, rate: p.rate });
      let loadDone = false;
      void load.done.then(
        () => (loadDone = true),
        () => (loadDone = true),
      );
      const victims = ['api-0', 'api-1', 'worker-0', 'worker-1'];
      const killed: Array<{ name: string; at: number; leased: string[] }> = [];
      // Kills while the load runs: a random victim every 1–3 s, restarted 0.2–1 s later (kill-to-ready measured).
      while (killed.length < p.kills && !loadDone) {
        await sleep(1000 + Math.random() * 2000);
        // Both kinds get killed: alternate the kind, pick the replica at random.
        const kind = killed.length % 2 === 0 ? 'worker' : 'api';
        const name = victims.filter((v) => v.startsWith(kind))[Math.floor(Math.random() * 2)]!;
        await fleet.kill(name);
        const at = Date.now();
        // What the dead worker held: its leased rows (a dead worker's owner id carries its pid).
        const pid = fleet.proc(name).pid;
        const leased =
          kind === 'worker'
            ? (
                await db.query<{ id: string }>(`SELECT id FROM deliveries WHERE state = 'sending' AND lease_owner LIKE $1`, [`%:${pid}:%`])
              ).map((r) => r.id)
            : [];
        killed.push({ name, at, leased });
        log(`kill -9 ${name} (pid ${pid}${kind === 'worker' ? `, ${leased.length} deliveries leased` : ''})`);
        await sleep(200 + Math.random() * 800);
        await fleet.start(name);
      }
      await sleep(3_000);
      load.stop();
      await load.done;
      const c = await conserve(rx, load, db, size === 'full' ? 300_000 : 90_000);
      // Time from each worker kill until everything it held had succeeded.
      const recoveries: number[] = [];
      for (const k of killed.filter((k) => k.leased.length)) {
        const rows = await db.query<{ t: Date | null }>(
          `SELECT max(a.started_at + make_interval(secs => a.duration_ms / 1000.0)) AS t FROM attempts a
            WHERE a.delivery_id = ANY($1) AND a.outcome = 'succeeded'`,
          [k.leased],
        );
        if (rows[0]?.t) recoveries.push(rows[0].t.getTime() - k.at);
      }
      const inFlightAtKills = killed.reduce((n, k) => n + k.leased.length, 0);
      const figures = {
        conservation: c,
        kills: killed.map((k) => k.name),
        workerKills: killed.filter((k) => k.name.startsWith('worker')).length,
        inFlightAtKills,
        maxRecoveryMs: recoveries.length ? Math.max(...recoveries) : null,
        leaseMs: LEASE_MS,
        answers: load.answers,
      };
      const outcomes = await db.query<{ outcome: string; n: number }>(`SELECT outcome, count(*)::int AS n FROM attempts GROUP BY outcome`);
      return {
        figures: { ...figures, attempts: Object.fromEntries(outcomes.map((o) => [o.outcome, o.n])) },
        checks: [
          ...conservationChecks(c, rx),
          [`${killed.length} kills (wanted ${p.kills}) before the load ended`, killed.length === p.kills],
          [`duplicates ${c.duplicates} ≤ deliveries in flight at the kills ${inFlightAtKills}`, c.duplicates <= inFlightAtKills],
          [`a message delivered ${c.maxCopies} times`, c.maxCopies <= 2],
          [
            `answers other than 202/200/no answer: ${JSON.stringify(load.answers)}`,
            Object.keys(load.answers).every((k) => ['202', '200', 'no answer'].includes(k)),
          ],
          [`deliveries not all succeeded: ${JSON.stringify(c.states)}`, c.states.succeeded === c.accepted],
          // Each dead worker's deliveries were taken over once its lease expired: within a lease, plus the reaper's poll
          // and the retry of a 5 % failure, plus slack for a loaded machine.
          [`recovery ${figures.maxRecoveryMs} ms ≤ lease ${LEASE_MS} ms + 8 s`, (figures.maxRecoveryMs ?? 0) <= LEASE_MS + 8_000],
        ],
      };
    } finally {
      await fleet.stop();
      await rx.close();
      await db.drop();
    }
  },
};
