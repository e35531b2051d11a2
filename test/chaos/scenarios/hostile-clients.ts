import { percentile } from '../lib/load.ts';
import { conservationChecks, conserve } from '../lib/conservation.ts';
import { createDatabase, startFleet } from '../lib/fleet.ts';
import { idleConnections, oversized, trickle } from '../lib/hostile-clients.ts';
import { provision, startLoad } from '../lib/load.ts';
import { startChaosReceiver } from '../lib/receiver.ts';
import type { Scenario } from '../lib/scenario.ts';

/**
 * (5) Hostile clients of the API: slowloris headers and bodies are closed within the request deadline
 * (TRAMLINE_REQUEST_TIMEOUT); a 2 MiB body gets the 413 problem document with Node's fetch, node:http, curl and
 * Python every time; thousands of idle connections (silent, and keep-alive after one request) do not stop real
 * publishes, which are all accepted and delivered.
 */
export const hostileClients: Scenario = {
  name: 'hostile-clients',
  guarantees:
    'slowloris headers and bodies are closed within the request deadline; a 2 MiB body gets the 413 problem document with fetch, node:http, curl and Python every time; thousands of idle connections do not stop real publishes',
  async run(size, log) {
    const p =
      size === 'full'
        ? { requestTimeoutMs: 30_000, slow: 100, oversizedRounds: 10, idle: 3_000, messages: 2_000 }
        : { requestTimeoutMs: 3_000, slow: 10, oversizedRounds: 2, idle: 500, messages: 100 };
    const db = await createDatabase();
    const rx = await startChaosReceiver();
    const fleet = await startFleet(db, [{ role: 'api' }, { role: 'worker' }], { TRAMLINE_REQUEST_TIMEOUT: `${p.requestTimeoutMs}ms` });
    const port = Number(new URL(fleet.apiUrls[0]!).port);
    try {
      const targets = await provision(fleet.apiUrls[0]!, rx, { tenants: 1, endpointsPerTenant: 2 });
      const t = targets[0]!;
      const path = `/v1/consumers/${t.consumer}/messages`;
      // The bound: the deadline, plus the server's once-a-second check, plus slack for a loaded machine.
      const bound = p.requestTimeoutMs + 1_000 + 4_000;
      const giveUp = bound + 10_000;
      const [slowHeaders, slowBodies] = await Promise.all([
        Promise.all(
          Array.from({ length: p.slow }, () => trickle(port, `POST ${path} HTTP/1.1\r\nHost: a\r\n`, 'X-Slow: 1\r\n', 1000, giveUp)),
        ),
        Promise.all(
          Array.from({ length: p.slow }, () =>
            trickle(
              port,
              `POST ${path} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${t.key}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
              '{',
              1000,
              giveUp,
            ),
          ),
        ),
      ]);
      log(
        `slowloris: headers closed after ${JSON.stringify(slowHeaders.map((s) => s.closedAfterMs))} ms, bodies ${JSON.stringify(slowBodies.map((s) => s.closedAfterMs))} ms`,
      );
      const big: Awaited<ReturnType<typeof oversized>> = [];
      for (let i = 0; i < p.oversizedRounds; i++) big.push(...(await oversized(fleet.apiUrls[0]!, path, t.key)));
      const bigFailures = big.filter((b) => b.status !== 413 || !b.problem);
      // Idle connections held open while real clients publish.
      const silent = await idleConnections(port, p.idle, false);
      const kept = await idleConnections(port, p.idle, true);
      const load = startLoad({ apiUrls: fleet.apiUrls, targets, messages: p.messages, concurrency: 4 });
      await load.done;
      const c = await conserve(rx, load, db, 60_000);
      const closedIdle = { silent: silent.closedByServer(), keepAlive: kept.closedByServer() };
      for (const s of [...silent.sockets, ...kept.sockets]) s.destroy();
      const worst = (xs: Array<{ closedAfterMs: number | null }>) =>
        xs.some((x) => x.closedAfterMs === null) ? null : Math.max(...xs.map((x) => x.closedAfterMs!));
      const figures = {
        conservation: c,
        requestTimeoutMs: p.requestTimeoutMs,
        slowHeadersClosedWithinMs: worst(slowHeaders),
        slowBodiesClosedWithinMs: worst(slowBodies),
        slowBodyAnswers: [...new Set(slowBodies.map((s) => s.answer))],
        oversized: Object.fromEntries(
          ['fetch', 'node:http', 'curl', 'python3'].map((k) => [k, big.filter((b) => b.client === k).map((b) => b.status ?? b.error)]),
        ),
        idleConnections: p.idle * 2,
        idleClosedByServerMeanwhile: closedIdle,
        publishP99WithIdleMs: percentile(load.latencies, 99),
        answers: load.answers,
      };
      return {
        figures,
        checks: [
          ...conservationChecks(c, rx),
          [
            `slowloris headers not all closed within ${bound} ms: ${figures.slowHeadersClosedWithinMs}`,
            (figures.slowHeadersClosedWithinMs ?? Infinity) <= bound,
          ],
          [
            `slowloris bodies not all closed within ${bound} ms: ${figures.slowBodiesClosedWithinMs}`,
            (figures.slowBodiesClosedWithinMs ?? Infinity) <= bound,
          ],
          [`slow bodies answered with a 5xx: ${figures.slowBodyAnswers}`, !slowBodies.some((s) => / 5\d\d /.test(s.answer))],
          [`oversized bodies without the 413 document: ${JSON.stringify(bigFailures)}`, bigFailures.length === 0],
          [`publishes beside idle connections: ${JSON.stringify(load.answers)}`, Object.keys(load.answers).every((k) => k === '202')],
        ],
      };
    } finally {
      await fleet.stop();
      await rx.close();
      await db.drop();
    }
  },
};
