import { spawn } from 'node:child_process';
import { freePort, sleep } from '../../helpers/process.ts';
import { conservationChecks, conserve } from '../lib/conservation.ts';
import { createDatabase, startFleet } from '../lib/fleet.ts';
import { provision, startLoad } from '../lib/load.ts';
import { startChaosReceiver } from '../lib/receiver.ts';
import type { Scenario } from '../lib/scenario.ts';

/**
 * (3b) Redis goes away under load: the api replicas share rate-limit counters in a redis-server of this
 * scenario's own (a free port; the machine's Redis is never touched), which is killed -9 mid-load.
 * Publishing goes on (every publish still answered 202), nothing is lost.
 */
export const redisOutage: Scenario = {
  name: 'redis-outage',
  guarantees: 'Redis killed under load: publishing goes on (every publish answered 202), lost 0',
  async run(size, log) {
    const p = size === 'full' ? { beforeMs: 10_000, afterMs: 20_000 } : { beforeMs: 2_000, afterMs: 3_000 };
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const redisExit = new Promise((resolve) => redis.once('exit', resolve));
    await sleep(300);
    const db = await createDatabase();
    const rx = await startChaosReceiver();
    const fleet = await startFleet(db, [{ role: 'api' }, { role: 'api' }, { role: 'worker' }], { REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      const targets = await provision(fleet.apiUrls[0]!, rx, { tenants: 2, endpointsPerTenant: 3 });
      const load = startLoad({ apiUrls: fleet.apiUrls, targets, messages: 1_000_000, concurrency: 6, rate: 60 });
      await sleep(p.beforeMs);
      const before = load.accepted.length;
      redis.kill('SIGKILL');
      await redisExit;
      log(`redis-server killed after ${before} accepted`);
      await sleep(p.afterMs);
      load.stop();
      await load.done;
      const after = load.accepted.length - before;
      const c = await conserve(rx, load, db, 60_000);
      const exited = fleet.names().filter((n) => fleet.proc(n).exit !== null);
      return {
        figures: { conservation: c, answers: load.answers, acceptedBeforeKill: before, acceptedAfterKill: after },
        checks: [
          ...conservationChecks(c, rx),
          [`answers other than 202: ${JSON.stringify(load.answers)}`, Object.keys(load.answers).every((k) => k === '202')],
          [`${after} publishes accepted after Redis died`, after > 0],
          [`processes that exited: ${exited.join(', ')}`, exited.length === 0],
          [`deliveries not all succeeded: ${JSON.stringify(c.states)}`, c.states.succeeded === c.accepted],
        ],
      };
    } finally {
      redis.kill('SIGKILL');
      await fleet.stop();
      await rx.close();
      await db.drop();
    }
  },
};
