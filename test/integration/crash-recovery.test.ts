import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { DataDirLockedError, lockDataDir } from '../../src/store/db.ts';
import { client, type Client } from '../helpers/client.ts';
import { engine, openTestDb, type TestDb } from '../helpers/db.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import {
  freePort,
  killAll,
  mapLimit,
  printChildOutputOnFailure,
  sleep,
  spawnTramline,
  waitUntil,
  type TramlineProcess,
} from '../helpers/process.ts';

/**
 * Principle 4: any process may die at any moment, kill -9 included, and nothing accepted is lost.
 * Real child processes of the `tramline` CLI under load; one is SIGKILLed mid-load and replaced.
 *
 * - Postgres: an `api` process and a `worker` process; the worker is killed. The API keeps accepting
 *   meanwhile; a new worker takes over (leases of the dead one expire after ~7 s).
 * - PGlite: the embedded gateway is one process (`start`, role all), so the whole process is killed,
 *   then restarted on the same data folder (its stale pid lock is taken over). Publishers behave like
 *   real clients: a publish that got no answer is retried with the same Idempotency-Key.
 */
const OPERATOR_TOKEN = 'crash-recovery-operator-token-0123456789';
const CONCURRENCY = 16; // the worker's concurrency: the bound on deliveries in flight at kill time
const MESSAGES = Number(process.env.CRASH_MESSAGES ?? 2000);
const KILL_AFTER = Math.round(MESSAGES / 5); // "some hundreds" received before the kill

printChildOutputOnFailure();
afterEach(() => killAll());

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  await killAll();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function gatewayEnv(port: number, extra: Record<string, string>): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    TRAMLINE_OPERATOR_TOKEN: OPERATOR_TOKEN,
    TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8',
    TRAMLINE_DELIVERY_TIMEOUT: '2s', // lease = 2 s + 5 s margin
    TRAMLINE_POLL_INTERVAL: '100ms',
    TRAMLINE_WORKER_CONCURRENCY: String(CONCURRENCY),
    TRAMLINE_ENDPOINT_CONCURRENCY: String(CONCURRENCY),
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

interface Setup {
  api: Client;
  consumer: string;
  endpoint: string;
  secret: string;
}

async function setUpTenant(baseUrl: string, rx: Receiver): Promise<Setup> {
  const operator = client(baseUrl, OPERATOR_TOKEN);
  const t = await operator.post('/v1/tenants', { name: 'Crash Test' });
  expect(t.status).toBe(201);
  const api = client(baseUrl, t.body.apiKey);
  const c = await api.post('/v1/consumers', { name: 'Receiver Inc' });
  expect(c.status).toBe(201);
  const e = await api.post(`/v1/consumers/${c.body.id}/endpoints`, { url: `${rx.url}/load` });
  expect(e.status).toBe(201);
  const s = await api.get(`/v1/consumers/${c.body.id}/endpoints/${e.body.id}/secret`);
  expect(s.status).toBe(200);
  return { api, consumer: c.body.id, endpoint: e.body.id, secret: s.body.secret };
}

interface Publishing {
  /** n → message id, from the 202 (or, after a lost answer, the idempotent 200 replay). */
  accepted: Map<number, string>;
  statuses: Map<number, number>;
  /** Publishes that got no answer (connection refused or reset) and were retried. */
  retried: number;
  done: Promise<void>;
}

/** Publishes messages 0..n-1 with bounded concurrency; each is retried with its Idempotency-Key until answered. */
function publishAll(s: Setup, n: number, concurrency: number, deadlineMs: number): Publishing {
  const p: Publishing = { accepted: new Map(), statuses: new Map(), retried: 0, done: Promise.resolve() };
  const deadline = Date.now() + deadlineMs;
  const items = Array.from({ length: n }, (_, i) => i);
  p.done = mapLimit(items, concurrency, async (i) => {
    for (;;) {
      try {
        const r = await s.api.post(
          `/v1/consumers/${s.consumer}/messages`,
          { eventType: 'load.tick', payload: { n: i } },
          { 'idempotency-key': `load-${i}` },
        );
        if (r.status === 202 || r.status === 200) {
          p.accepted.set(i, r.body.id);
          p.statuses.set(i, r.status);
          return;
        }
        if (r.status !== 503) throw new Error(`publish ${i} answered ${r.status}: ${JSON.stringify(r.body)}`);
      } catch (err) {
        if ((err as Error).message.startsWith('publish ')) throw err;
        // No answer: the gateway is down (PGlite) — a real client retries with the same key.
      }
      p.retried++;
      if (Date.now() > deadline) throw new Error(`publish ${i} got no answer before the deadline`);
      await sleep(100);
    }
  }).then(() => {});
  return p;
}

interface Figures {
  engine: string;
  accepted: number;
  delivered: number;
  receipts: number;
  duplicates: number;
  receivedAtKill: number;
  inFlightAtKill: number | null;
  publishRetries: number;
  /** Publishes answered 200: committed before the crash, the 202 lost, the retry replayed the original. */
  replayed: number;
  recoveryMs: number;
  firstResendAfterKillMs: number | null;
}

/** Every receipt is checked: signature, and that its webhook-id is the id the publisher got for that payload. */
function analyse(rx: Receiver, s: Setup, pub: Publishing) {
  const wh = new Webhook(s.secret);
  const byN = new Map<number, string[]>();
  const firstAt = new Map<number, number>();
  const resentAt: number[] = [];
  const badSignatures: string[] = [];
  for (const r of rx.received) {
    const headers = {
      'webhook-id': r.headers['webhook-id'] as string,
      'webhook-timestamp': r.headers['webhook-timestamp'] as string,
      'webhook-signature': r.headers['webhook-signature'] as string,
    };
    let n: number;
    try {
      n = (wh.verify(r.body, headers) as { data: { n: number } }).data.n;
    } catch (err) {
      badSignatures.push(`${headers['webhook-id']}: ${(err as Error).message}`);
      continue;
    }
    const ids = byN.get(n) ?? [];
    ids.push(headers['webhook-id']);
    byN.set(n, ids);
    if (ids.length === 1) firstAt.set(n, r.at);
    else resentAt.push(r.at);
  }
  const lost = [...pub.accepted.keys()].filter((n) => !byN.has(n));
  const duplicated = [...byN.entries()].filter(([, ids]) => ids.length > 1);
  const duplicates = duplicated.reduce((sum, [, ids]) => sum + ids.length - 1, 0);
  // A duplicate is the same message again: one webhook-id per payload, the one the publisher was given.
  const idMismatch = [...byN.entries()].filter(
    ([n, ids]) => new Set(ids).size !== 1 || (pub.accepted.has(n) && ids[0] !== pub.accepted.get(n)),
  );
  return { byN, badSignatures, lost, duplicated, duplicates, idMismatch, firstResendAt: resentAt.length ? Math.min(...resentAt) : null };
}

/** Through the API: every accepted message has exactly one delivery, and it ended `succeeded`. */
async function deliveryStates(s: Setup, ids: string[]): Promise<Map<string, number>> {
  const states = new Map<string, number>();
  await mapLimit(ids, 8, async (id) => {
    const r = await s.api.get(`/v1/consumers/${s.consumer}/messages/${id}`);
    const key =
      r.status !== 200
        ? `http ${r.status}`
        : r.body.deliveries.length !== 1
          ? `${r.body.deliveries.length} deliveries`
          : r.body.deliveries[0].state;
    states.set(key, (states.get(key) ?? 0) + 1);
  });
  return states;
}

async function waitForEveryAccepted(rx: Receiver, pub: Publishing, timeoutMs: number): Promise<void> {
  await pub.done;
  const wanted = new Set(pub.accepted.values());
  await waitUntil(
    () => {
      for (const r of rx.received) wanted.delete(r.headers['webhook-id'] as string);
      return wanted.size === 0;
    },
    timeoutMs,
    'every accepted message delivered',
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}: ${wanted.size} of ${pub.accepted.size} accepted never reached the receiver, e.g. ${[...wanted].slice(0, 5).join(', ')}`,
    );
  });
}

async function waitAllSucceeded(s: Setup, pub: Publishing): Promise<Map<string, number>> {
  let states = new Map<string, number>();
  // The last attempts may still be being recorded when the receiver has got them.
  await waitUntil(
    async () => {
      states = await deliveryStates(s, [...pub.accepted.values()]);
      return states.get('succeeded') === pub.accepted.size;
    },
    20_000,
    'every delivery succeeded',
  ).catch(() => {});
  return states;
}

function report(f: Figures): void {
  console.log(`crash-recovery figures: ${JSON.stringify(f)}`);
}

const slowish = () => ({ status: 200, delayMs: 20 + Math.floor(Math.random() * 31) });

// Each engine has its own scenario (a separate worker process exists only with a Postgres server);
// the other one is reported as skipped in each project.
describe.runIf(engine() === 'postgres')('crash recovery (Postgres: api and worker processes)', () => {
  it(`a worker SIGKILLed mid-load: after a new worker starts, all ${MESSAGES} accepted messages are delivered, duplicates only for those in flight`, async () => {
    const testDb: TestDb = await openTestDb();
    cleanups.push(() => testDb.close());
    const rx = await startReceiver(slowish);
    cleanups.push(() => rx.close());
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = gatewayEnv(port, { DATABASE_URL: testDb.url! });

    const apiProc = spawnTramline(['start', '--role', 'api'], env, { name: 'api' });
    await apiProc.waitForReady(baseUrl);
    const s = await setUpTenant(baseUrl, rx);
    const worker1 = spawnTramline(['start', '--role', 'worker'], { ...env, LOG_LEVEL: 'info' }, { name: 'worker 1' });
    await worker1.waitForOutput('tramline started');

    const pub = publishAll(s, MESSAGES, 16, 50_000);
    await rx.waitFor(KILL_AFTER, 30_000);
    worker1.kill('SIGKILL');
    const exit = await worker1.exited;
    const killedAt = Date.now();
    const receivedAtKill = rx.received.length;
    expect(exit.signal).toBe('SIGKILL');
    // What the dead worker held: leased (`sending`) rows, sent or not. Only these may be sent twice.
    const inFlightAtKill = await testDb.db.owner(async (q) => {
      const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE state = 'sending'`);
      return r.rows[0]!.n;
    });
    const acceptedAtKill = pub.accepted.size;

    const worker2 = spawnTramline(['start', '--role', 'worker'], { ...env, LOG_LEVEL: 'info' }, { name: 'worker 2' });
    await worker2.waitForOutput('tramline started');
    await waitForEveryAccepted(rx, pub, 40_000);
    const recoveryMs = Date.now() - killedAt;
    const states = await waitAllSucceeded(s, pub);
    // No sleep to let stragglers arrive: once every delivery has succeeded (asserted below) none is pending or leased,
    // a copy is only ever sent from a claim, and the killed process's sockets died with it, so nothing more can come.
    const a = analyse(rx, s, pub);
    report({
      engine: 'postgres',
      accepted: pub.accepted.size,
      delivered: a.byN.size,
      receipts: rx.received.length,
      duplicates: a.duplicates,
      receivedAtKill,
      inFlightAtKill,
      publishRetries: pub.retried,
      replayed: [...pub.statuses.values()].filter((st) => st === 200).length,
      recoveryMs,
      firstResendAfterKillMs: a.firstResendAt === null ? null : a.firstResendAt - killedAt,
    });

    // The API process never died: every publish was answered 202 at once, including those made while no worker ran.
    expect(pub.accepted.size).toBe(MESSAGES);
    expect([...pub.statuses.values()].every((st) => st === 202)).toBe(true);
    expect(acceptedAtKill).toBeLessThan(MESSAGES); // the kill came in the middle of the load
    expect(receivedAtKill).toBeLessThan(MESSAGES);
    expect(a.badSignatures).toEqual([]);
    expect(a.lost).toEqual([]); // 0 lost
    expect(a.idMismatch).toEqual([]); // a duplicate carries its original's webhook-id
    expect(inFlightAtKill).toBeLessThanOrEqual(CONCURRENCY);
    expect(a.duplicates).toBeLessThanOrEqual(inFlightAtKill);
    expect(new Set(rx.received.map((r) => r.headers['webhook-id']))).toEqual(new Set(pub.accepted.values()));
    expect(Object.fromEntries(states)).toEqual({ succeeded: MESSAGES });
    if (inFlightAtKill > 0) expect(worker2.output()).toContain('took over deliveries whose lease expired');
    // The lease (2 s timeout + 5 s) protected what the dead worker held: nothing was sent again before it expired.
    if (a.firstResendAt !== null) expect(a.firstResendAt - killedAt).toBeGreaterThan(3_000);

    expect(await apiProc.stop()).toEqual({ code: 0, signal: null });
    expect(await worker2.stop()).toEqual({ code: 0, signal: null });
  }, 90_000);
});

describe.runIf(engine() === 'pglite')('crash recovery (PGlite: the one embedded process)', () => {
  it(`the whole gateway SIGKILLed mid-load and restarted on its data folder: all ${MESSAGES} accepted messages are delivered`, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-crash-'));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const rx = await startReceiver(slowish);
    cleanups.push(() => rx.close());
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = gatewayEnv(port, { TRAMLINE_DATA_DIR: dataDir });

    const first = spawnTramline(['start', '--role', 'all'], env, { name: 'gateway 1' });
    await first.waitForReady(baseUrl, 45_000);
    const s = await setUpTenant(baseUrl, rx);

    const pub = publishAll(s, MESSAGES, 8, 60_000);
    await rx.waitFor(KILL_AFTER, 40_000);
    first.kill('SIGKILL');
    const exit = await first.exited;
    const killedAt = Date.now();
    const receivedAtKill = rx.received.length;
    const acceptedAtKill = pub.accepted.size;
    expect(exit.signal).toBe('SIGKILL');
    // The dead process left its pid lock behind; the restart must take it over.
    const lockFile = path.join(dataDir, 'tramline.pid');
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(String(first.pid));

    const second: TramlineProcess = spawnTramline(['start', '--role', 'all'], env, { name: 'gateway 2' });
    await second.waitForReady(baseUrl, 45_000);
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(String(second.pid));
    await waitForEveryAccepted(rx, pub, 45_000);
    const recoveryMs = Date.now() - killedAt;
    const states = await waitAllSucceeded(s, pub);
    // No sleep to let stragglers arrive: once every delivery has succeeded (asserted below) none is pending or leased,
    // a copy is only ever sent from a claim, and the killed process's sockets died with it, so nothing more can come.
    const a = analyse(rx, s, pub);
    report({
      engine: 'pglite',
      accepted: pub.accepted.size,
      delivered: a.byN.size,
      receipts: rx.received.length,
      duplicates: a.duplicates,
      receivedAtKill,
      inFlightAtKill: null,
      publishRetries: pub.retried,
      replayed: [...pub.statuses.values()].filter((st) => st === 200).length,
      recoveryMs,
      firstResendAfterKillMs: a.firstResendAt === null ? null : a.firstResendAt - killedAt,
    });

    expect(acceptedAtKill).toBeLessThan(MESSAGES); // killed in the middle of the load
    expect(receivedAtKill).toBeLessThan(MESSAGES);
    expect(pub.accepted.size).toBe(MESSAGES); // every publish was eventually answered (202, or 200 replaying a commit whose answer was lost)
    expect(a.badSignatures).toEqual([]);
    expect(a.lost).toEqual([]);
    expect(a.idMismatch).toEqual([]);
    expect(a.duplicates).toBeLessThanOrEqual(CONCURRENCY);
    if (a.firstResendAt !== null) expect(a.firstResendAt - killedAt).toBeGreaterThan(3_000);
    expect(new Set(rx.received.map((r) => r.headers['webhook-id']))).toEqual(new Set(pub.accepted.values()));
    expect(Object.fromEntries(states)).toEqual({ succeeded: MESSAGES });
    // What was sent twice came back through the lease reaper, not by accident.
    if (a.duplicates > 0) expect(second.output()).toContain('took over deliveries whose lease expired');

    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(lockFile)).toBe(false);
  }, 120_000);
});

describe.runIf(engine() === 'pglite')('the data folder lock after a kill -9', () => {
  it("takes over a stale lock that names the restarted process's own pid (a container's gateway is PID 1 on every start)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-lock-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const lockFile = path.join(dir, 'tramline.pid');
    // What a SIGKILLed PID 1 leaves behind, found by the next PID 1.
    fs.writeFileSync(lockFile, String(process.pid));
    const release = lockDataDir(dir);
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(String(process.pid));
    // Held by this very process now: a second open is refused, not waved through.
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    release();
    expect(fs.existsSync(lockFile)).toBe(false);
    // A live process's lock is still respected.
    fs.writeFileSync(lockFile, String(process.ppid));
    expect(() => lockDataDir(dir)).toThrow(/in use by process/);
  });
});
