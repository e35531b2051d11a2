import { startTcpProxy } from '../../helpers/tcp-proxy.ts';
import { sleep } from '../../helpers/process.ts';
import { conservationChecks, conserve } from '../lib/conservation.ts';
import { createDatabase, startFleet } from '../lib/fleet.ts';
import { provision, startLoad } from '../lib/load.ts';
import { startChaosReceiver } from '../lib/receiver.ts';
import type { Scenario } from '../lib/scenario.ts';

/**
 * (3) The database goes away under load: every process reaches Postgres through a TCP proxy, which drops every
 * connection and refuses new ones for 30 s (the machine's Postgres is shared, so the server itself is never
 * stopped). Publishes answer 503 with Retry-After (never 2xx without a commit, never another 5xx), readiness
 * goes red then green, the pools reconnect without any process being restarted, and the backlog drains.
 */
export const dbOutage: Scenario = {
  name: 'db-outage',
  guarantees:
    'Postgres unreachable for 30 s under load: publishes answer 503 + Retry-After, readiness red then green, every pool reconnects without a restart, the backlog drains, lost 0',
  async run(size, log) {
    const p =
      size === 'full' ? { outageMs: 30_000, beforeMs: 10_000, afterMs: 10_000 } : { outageMs: 4_000, beforeMs: 2_000, afterMs: 2_000 };
    const db = await createDatabase();
    const real = new URL(db.url);
    const proxy = await startTcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
    const via = new URL(db.url);
    via.host = `127.0.0.1:${proxy.port}`;
    const rx = await startChaosReceiver();
    const fleet = await startFleet(db, [{ role: 'api' }, { role: 'worker' }, { role: 'worker' }, { role: 'scheduler' }], {
      DATABASE_URL: via.toString(),
    });
    try {
      const api = fleet.apiUrls[0]!;
      const targets = await provision(api, rx, { tenants: 2, endpointsPerTenant: 3 });
      // Readiness as a load balancer probes it: every 250 ms, each answer noted with its time.
      const ready: Array<{ at: number; status: number }> = [];
      let probing = true;
      const prober = (async () => {
        while (probing) {
          const status = await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
            async (r) => (await r.arrayBuffer(), r.status),
            () => 0,
          );
          ready.push({ at: Date.now(), status });
          await sleep(250);
        }
      })();
      const load = startLoad({ apiUrls: fleet.apiUrls, targets, messages: 1_000_000, concurrency: 6, rate: 60 });
      await sleep(p.beforeMs);
      const acceptedBefore = load.accepted.length;
      await proxy.cut();
      const cutAt = Date.now();
      log(`database cut after ${acceptedBefore} accepted`);
      await sleep(p.outageMs);
      const restoring = Date.now();
      await proxy.restore();
      const restoredAt = Date.now();
      // Accepted during the outage: sent after the cut and answered before the database came back. A publish sent
      // just before the cut may commit then and be answered a moment after; one sent near the end may wait for
      // a connection and commit once the database is back. Both are right.
      const acceptedDuring = load.accepted.filter((a) => a.attemptAt >= cutAt && a.answeredAt < restoring).length;
      log('database back');
      await sleep(p.afterMs);
      load.stop();
      await load.done;
      const firstAcceptAfter = load.accepted.find((a) => a.sentAt >= restoredAt);
      const c = await conserve(rx, load, db, 120_000);
      probing = false;
      await prober;
      const during = ready.filter((r) => r.at > cutAt + 1000 && r.at < restoredAt);
      const after = ready.filter((r) => r.at > restoredAt);
      const greenAgainAt = after.find((r) => r.status === 200)?.at;
      const exited = fleet.names().filter((n) => fleet.proc(n).exit !== null);
      const figures = {
        conservation: c,
        outageMs: p.outageMs,
        answers: load.answers,
        unavailableWithoutRetryAfter: load.unavailableWithoutRetryAfter,
        acceptedDuringOutage: acceptedDuring,
        readinessDuring: [...new Set(during.map((r) => r.status))],
        readyAgainMs: greenAgainAt ? greenAgainAt - restoredAt : null,
        firstPublishAfterMs: firstAcceptAfter ? firstAcceptAfter.sentAt - restoredAt : null,
        reconnections: proxy.accepted,
        processesRestarted: 0,
      };
      return {
        figures,
        checks: [
          ...conservationChecks(c, rx),
          // 200: a retry replaying a publish that committed while its connection was cut (the server could not know
          // whether the COMMIT landed, so it said 503; the Idempotency-Key settles it without a second message).
          [
            `answers other than 202, 200 and 503: ${JSON.stringify(load.answers)}`,
            Object.keys(load.answers).every((k) => k === '202' || k === '200' || k === '503'),
          ],
          ['publishes were answered 503 during the outage', (load.answers['503'] ?? 0) > 0],
          [`${load.unavailableWithoutRetryAfter} answers 503 without Retry-After`, load.unavailableWithoutRetryAfter === 0],
          [`${acceptedDuring} publishes accepted while the database was away`, acceptedDuring === 0],
          [
            `readiness during the outage: ${JSON.stringify(figures.readinessDuring)}`,
            during.length > 0 && during.every((r) => r.status === 503),
          ],
          ['readiness green again after the outage', greenAgainAt !== undefined],
          ['publishing again after the outage', firstAcceptAfter !== undefined],
          [`processes that exited: ${exited.join(', ')}`, exited.length === 0],
          [`deliveries not all succeeded: ${JSON.stringify(c.states)}`, c.states.succeeded === c.accepted],
        ],
      };
    } finally {
      await fleet.stop();
      await proxy.close();
      await rx.close();
      await db.drop();
    }
  },
};
