import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engine, openTestDb, type TestDb } from '../helpers/db.ts';
import { freePort, killAll, printChildOutputOnFailure, sleep, spawnTramline } from '../helpers/process.ts';

/**
 * The API's stop sequence under the two conditions that failed requests in the rollout test on a starved
 * machine (docs/rollout.md): a load balancer that goes on sending after TRAMLINE_DRAIN_DELAY, and a process
 * that has not read requests already sitting in its sockets when the delay ends. Both are played for real: a
 * `tramline start` process, a keep-alive client (as nginx's upstream pool is), and SIGSTOP/SIGCONT for the
 * starvation. Every request that reached the process must be answered, none reset.
 */
const OPERATOR_TOKEN = 'drain-operator-token-0123456789abcdef';
let testDb: TestDb | null = null;
let dataDir = '';

printChildOutputOnFailure();
afterEach(() => killAll());
beforeAll(async () => {
  if (engine() === 'postgres') testDb = await openTestDb();
  else dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-drain-'));
});
afterAll(async () => {
  await killAll();
  await testDb?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function startApi(drainDelay: string) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const gw = spawnTramline(
    ['start'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      TRAMLINE_OPERATOR_TOKEN: OPERATOR_TOKEN,
      TRAMLINE_DRAIN_DELAY: drainDelay,
      TRAMLINE_SHUTDOWN_TIMEOUT: '10s',
      LOG_LEVEL: 'info',
      ...(testDb ? { DATABASE_URL: testDb.url! } : { TRAMLINE_DATA_DIR: dataDir }),
    },
    { name: 'gateway' },
  );
  await gw.waitForReady(base, 60_000);
  return { gw, base };
}

/** GET /v1/tenants over the pool: its status, or the error that ended it. */
async function listTenants(pool: Pool): Promise<number | string> {
  try {
    const r = await pool.request({ method: 'GET', path: '/v1/tenants', headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    await r.body.text();
    return r.statusCode;
  } catch (err) {
    const e = err as Error & { code?: string };
    return e.code ?? e.message;
  }
}

describe('stopping the API: no request that reached it is lost', () => {
  it('requests written into its sockets while it was starved (SIGSTOP) across the end of the drain delay are all answered', async () => {
    const { gw, base } = await startApi('300ms');
    // Warm keep-alive connections, as nginx's upstream pool holds them.
    const pool = new Pool(base, { connections: 8, pipelining: 1, keepAliveTimeout: 60_000 });
    try {
      const warm = await Promise.all(Array.from({ length: 8 }, () => listTenants(pool)));
      expect(warm).toEqual(Array(8).fill(200));

      gw.kill('SIGTERM');
      await gw.waitForOutput('"msg":"draining"', 10_000);
      // Starved: the process does not run while the proxy, which has not seen it leave yet, sends more — on
      // the kept-alive connections and on new ones. The drain delay ends while the process is stopped.
      gw.kill('SIGSTOP');
      const sent = Array.from({ length: 24 }, () => listTenants(pool));
      await sleep(800);
      gw.kill('SIGCONT');
      const answers = await Promise.all(sent);
      const exit = await gw.exited;

      expect(answers.filter((a) => a !== 200)).toEqual([]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(gw.output()).toMatch(/"msg":"closing"/);
    } finally {
      gw.kill('SIGCONT');
      await pool.close();
    }
  }, 120_000);

  it('a load balancer that goes on sending after the drain delay is served until it stops, then the process closes', async () => {
    const { gw, base } = await startApi('200ms');
    const pool = new Pool(base, { connections: 4, pipelining: 1, keepAliveTimeout: 60_000 });
    try {
      expect(await listTenants(pool)).toBe(200);
      const signalledAt = Date.now();
      gw.kill('SIGTERM');
      // A slow endpoints controller: traffic goes on for 2 s after SIGTERM, ten times the drain delay.
      const answers: Array<number | string> = [];
      while (Date.now() - signalledAt < 2000) {
        answers.push(...(await Promise.all([listTenants(pool), listTenants(pool)])));
        await sleep(50);
      }
      const exit = await gw.exited;
      const exitMs = Date.now() - signalledAt;

      expect(answers.length).toBeGreaterThan(10);
      expect(answers.filter((a) => a !== 200)).toEqual([]);
      expect(exit).toEqual({ code: 0, signal: null });
      // It closed once the traffic had stopped (a quiet second after the last request), not after the delay.
      expect(exitMs).toBeGreaterThan(2000);
    } finally {
      await pool.close();
    }
  }, 120_000);
});
