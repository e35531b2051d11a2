import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { Db } from '../../src/store/db.ts';
import { openStore } from '../../src/store/open.ts';
import { client, type Client } from '../helpers/client.ts';
import { engine, openTestDb, type TestDb } from '../helpers/db.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import {
  emptyPostgresDatabase,
  freePort,
  killAll,
  printChildOutputOnFailure,
  runTramline,
  sleep,
  spawnTramline,
  waitUntil,
  type TramlineProcess,
} from '../helpers/process.ts';

/**
 * The life of a real `tramline` process (the CLI as a child process): health, readiness,
 * graceful shutdown on SIGTERM (drain, then hand back what could not finish), and the
 * administrative commands (version, tenants create, migrate).
 *
 * The whole file shares one store: a Postgres database of its own, or one PGlite data folder,
 * which only one process opens at a time — the tests run in order and stop what they start.
 */
const OPERATOR_TOKEN = 'lifecycle-operator-token-0123456789abcdef';
const PKG_VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let testDb: TestDb | null = null;
let dataDir = '';
let rx: Receiver;
const tmpDirs: string[] = [];

printChildOutputOnFailure();
afterEach(() => killAll());

beforeAll(async () => {
  rx = await startReceiver((r) => {
    if (r.path.startsWith('/slow')) return { status: 200, delayMs: 1000 };
    if (r.path.startsWith('/stuck')) return { status: 200, delayMs: stuckDelayMs };
    return { status: 200 };
  });
  if (engine() === 'postgres') testDb = await openTestDb();
  else dataDir = tempDir('tramline-lifecycle-');
});
afterAll(async () => {
  await killAll();
  await rx?.close();
  await testDb?.close();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

let stuckDelayMs = 8000;

function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

/** Where the store is: DATABASE_URL on Postgres, the shared data folder on PGlite. */
function storeEnv(): Record<string, string> {
  return testDb ? { DATABASE_URL: testDb.url! } : { TRAMLINE_DATA_DIR: dataDir };
}

function env(port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    TRAMLINE_OPERATOR_TOKEN: OPERATOR_TOKEN,
    TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8',
    TRAMLINE_POLL_INTERVAL: '100ms',
    LOG_LEVEL: 'info',
    ...storeEnv(),
    ...extra,
  };
}

/**
 * Looks into the store while no gateway runs (PGlite: the data folder is free again, opened here
 * through the same locked path the CLI uses), or beside the running ones (Postgres).
 */
async function withStore<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  if (testDb) return fn(testDb.db);
  const { db, release } = await openStore(loadConfig({ TRAMLINE_DATA_DIR: dataDir }));
  try {
    return await fn(db);
  } finally {
    await db.close();
    release();
  }
}

interface DeliveryRow {
  message_id: string;
  state: string;
  attempts: number;
  lease_owner: string | null;
  lease_until: Date | null;
  succeeded: number;
  failed: number;
}

const deliveriesOf = (messageIds: string[]) =>
  withStore((db) =>
    db.owner(async (q) => {
      const r = await q.query<DeliveryRow>(
        `SELECT d.message_id, d.state, d.attempts, d.lease_owner, d.lease_until,
                (SELECT count(*)::int FROM attempts a WHERE a.delivery_id = d.id AND a.outcome = 'succeeded') AS succeeded,
                (SELECT count(*)::int FROM attempts a WHERE a.delivery_id = d.id AND a.outcome = 'failed') AS failed
         FROM deliveries d WHERE d.message_id = ANY($1::text[]) ORDER BY d.message_id`,
        [messageIds],
      );
      return r.rows;
    }),
  );

async function tenantWithEndpoint(baseUrl: string, endpointPath: string): Promise<{ api: Client; consumer: string }> {
  const t = await client(baseUrl, OPERATOR_TOKEN).post('/v1/tenants', { name: `Lifecycle ${endpointPath}` });
  expect(t.status).toBe(201);
  const api = client(baseUrl, t.body.apiKey);
  const c = await api.post('/v1/consumers', { name: 'Slowpoke Ltd' });
  expect(c.status).toBe(201);
  const e = await api.post(`/v1/consumers/${c.body.id}/endpoints`, { url: rx.url + endpointPath });
  expect(e.status).toBe(201);
  return { api, consumer: c.body.id };
}

async function publish(api: Client, consumer: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'shift.ended', payload: { i } });
    expect(r.status).toBe(202);
    ids.push(r.body.id);
  }
  return ids;
}

const fromPath = (p: string) => rx.received.filter((r) => r.path === p);

type Probe = { at: number; status: number | 'refused'; draining?: string };

/** Polls /readyz until the process exits: what a load balancer sees during the shutdown. */
async function probeReadiness(baseUrl: string, proc: TramlineProcess): Promise<Probe[]> {
  const probes: Probe[] = [];
  while (!proc.exit) {
    const at = Date.now();
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json().catch(() => null)) as { checks?: { draining?: string } } | null;
      probes.push({ at, status: res.status, ...(body?.checks?.draining ? { draining: body.checks.draining } : {}) });
    } catch {
      probes.push({ at, status: 'refused' });
    }
    await sleep(50);
  }
  return probes;
}

describe('tramline start: health, readiness and graceful shutdown', () => {
  it('answers /healthz and /readyz, and on SIGTERM stops being ready, finishes in-flight deliveries and exits 0', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const gw = spawnTramline(['start'], env(port, { TRAMLINE_SHUTDOWN_TIMEOUT: '10s', TRAMLINE_DELIVERY_TIMEOUT: '5s' }), {
      name: 'gateway',
    });
    await gw.waitForReady(baseUrl, 45_000);

    const health = await client(baseUrl).get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await client(baseUrl).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', checks: { database: 'ok', draining: 'no' } });

    const { api, consumer } = await tenantWithEndpoint(baseUrl, '/slow');
    const ids = await publish(api, consumer, 4);
    await waitUntil(() => fromPath('/slow').length >= 4 || undefined, 15_000, 'the slow receiver has all 4 requests');
    // All 4 are now in flight: the receiver answers each one second after it arrived.
    const signalledAt = Date.now();
    gw.kill('SIGTERM');
    const probes = await probeReadiness(baseUrl, gw);
    const exit = await gw.exited;
    const exitMs = Date.now() - signalledAt;
    console.log(
      `graceful shutdown: exit ${JSON.stringify(exit)} after ${exitMs} ms; readiness probes: ${probes.map((p) => p.status).join(',')}`,
    );

    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(10_000); // within TRAMLINE_SHUTDOWN_TIMEOUT: it did not wait for the deadline
    expect(gw.output()).toContain('"msg":"draining"');
    expect(gw.output()).toContain('"msg":"stopped"');
    expect(gw.output()).not.toContain('handed unfinished deliveries back');
    // Once it stopped being ready it never became ready again; while draining it said why.
    const firstNotReady = probes.findIndex((p) => p.status !== 200);
    expect(firstNotReady).toBeGreaterThanOrEqual(0);
    expect(probes.slice(firstNotReady).every((p) => p.status === 503 || p.status === 'refused')).toBe(true);
    // 503 from the readiness check says it is draining (a 503 without checks is Fastify refusing requests while it closes).
    expect(probes.some((p) => p.status === 503 && p.draining === 'yes')).toBe(true);
    expect(probes.filter((p) => p.status === 503 && p.draining !== undefined).every((p) => p.draining === 'yes')).toBe(true);
    // The drain lasted as long as the slowest in-flight response (~1 s), not less.
    expect(exitMs).toBeGreaterThan(300);

    // Every in-flight delivery completed and was recorded; nothing was sent twice.
    await sleep(200);
    expect(fromPath('/slow')).toHaveLength(4);
    const rows = await deliveriesOf(ids);
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r).toMatchObject({ state: 'succeeded', attempts: 1, succeeded: 1, failed: 0, lease_owner: null });
  }, 60_000);

  it('when a receiver is slower than TRAMLINE_SHUTDOWN_TIMEOUT, hands its deliveries back (pending, not stuck sending) and a restarted worker delivers them', async () => {
    stuckDelayMs = 8000;
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    // Lease = 10 s + 5 s: a redelivery sooner than that proves the lease was released, not left to expire.
    const gwEnv = env(port, { TRAMLINE_SHUTDOWN_TIMEOUT: '1s', TRAMLINE_DELIVERY_TIMEOUT: '10s' });
    const gw = spawnTramline(['start'], gwEnv, { name: 'gateway' });
    await gw.waitForReady(baseUrl, 45_000);
    const { api, consumer } = await tenantWithEndpoint(baseUrl, '/stuck');
    const publishedAt = Date.now(); // every lease below was taken after this moment
    const ids = await publish(api, consumer, 3);
    await waitUntil(() => fromPath('/stuck').length >= 3 || undefined, 15_000, 'the stuck receiver has all 3 requests');

    const signalledAt = Date.now();
    gw.kill('SIGTERM');
    const exit = await gw.exited;
    const exitMs = Date.now() - signalledAt;
    console.log(`shutdown past the deadline: exit ${JSON.stringify(exit)} after ${exitMs} ms`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeGreaterThanOrEqual(900); // it gave the in-flight deliveries their second
    expect(exitMs).toBeLessThan(6_000); // …and did not wait for the 8 s receiver
    expect(gw.output()).toMatch(/"released":3\b.*handed unfinished deliveries back/);

    // Handed back: due again at once, no lease, and the cut-short attempt is not counted as a failure.
    const handedBack = await deliveriesOf(ids);
    expect(handedBack).toHaveLength(3);
    for (const r of handedBack)
      expect(r).toMatchObject({ state: 'pending', lease_owner: null, lease_until: null, attempts: 0, succeeded: 0, failed: 0 });

    // A restarted worker sends them again, with the same webhook-id, well before their old lease would have expired.
    stuckDelayMs = 0;
    const restartedAt = Date.now();
    const worker = testDb
      ? spawnTramline(['start', '--role', 'worker'], gwEnv, { name: 'worker' })
      : spawnTramline(['start'], gwEnv, { name: 'gateway (restarted)' });
    await waitUntil(() => fromPath('/stuck').length >= 6 || undefined, 30_000, 'the 3 deliveries sent again');
    expect(Date.now() - publishedAt).toBeLessThan(15_000);
    const stuck = fromPath('/stuck');
    expect(new Set(stuck.slice(3).map((r) => r.headers['webhook-id']))).toEqual(new Set(ids));
    expect(new Set(stuck.slice(0, 3).map((r) => r.headers['webhook-id']))).toEqual(new Set(ids));
    console.log(`redelivered ${Date.now() - restartedAt} ms after the restart began`);

    // Let the worker record them (Postgres: seen in the database; PGlite: through the restarted gateway's API), then stop it.
    if (testDb)
      await waitUntil(async () => (await deliveriesOf(ids)).every((r) => r.state === 'succeeded') || undefined, 10_000, 'recorded');
    else {
      await worker.waitForReady(baseUrl, 30_000); // the worker starts before the API listens
      const messages = await Promise.all(ids.map((id) => api.get(`/v1/consumers/${consumer}/messages/${id}`)));
      await waitUntil(
        async () => {
          const all = await Promise.all(ids.map((id) => api.get(`/v1/consumers/${consumer}/messages/${id}`)));
          return all.every((m) => m.body.deliveries[0]?.state === 'succeeded') || undefined;
        },
        10_000,
        'recorded',
      );
      expect(messages.every((m) => m.status === 200)).toBe(true);
    }
    expect(await worker.stop()).toEqual({ code: 0, signal: null });
    const final = await deliveriesOf(ids);
    for (const r of final) expect(r).toMatchObject({ state: 'succeeded', attempts: 1, succeeded: 1, failed: 0 });
  }, 60_000);
});

describe('tramline CLI', () => {
  it('version prints the package version', async () => {
    const r = await runTramline(['version'], {}, 20_000);
    expect(r).toMatchObject({ code: 0, timedOut: false });
    expect(r.stdout).toBe(`tramline ${PKG_VERSION}\n`);
  });

  // Engine-specific: with DATABASE_URL the CLI writes to the server directly; the PGlite variant below goes through the running gateway.
  it.runIf(engine() === 'postgres')(
    'tenants create against a Postgres DATABASE_URL prints a tenant id and a tl_ key that works on the API',
    async () => {
      const r = await runTramline(['tenants', 'create', 'Acme via CLI'], { DATABASE_URL: testDb!.url!, LOG_LEVEL: 'warn' }, 30_000);
      expect(r).toMatchObject({ code: 0, timedOut: false });
      const m = /^Tenant (\S+) \(Acme via CLI\)\nAPI key \(shown once\): (tl_\S+)\n$/.exec(r.stdout);
      expect(m, r.stdout + r.stderr).not.toBeNull();
      const [, tenantId, key] = m!;

      const gw = await startTestGateway({ testDb: testDb! });
      try {
        const api = client(gw.url, key);
        const c = await api.post('/v1/consumers', { name: 'First customer' });
        expect(c.status).toBe(201);
        expect((await api.get('/v1/consumers')).body.data.map((x: { id: string }) => x.id)).toEqual([c.body.id]);
        expect((await client(gw.url, `${key}x`).get('/v1/consumers')).status).toBe(401);
        const tenants = await gw.operator.get('/v1/tenants?limit=250');
        expect(tenants.body.data.find((t: { id: string }) => t.id === tenantId)).toMatchObject({ name: 'Acme via CLI' });
      } finally {
        await gw.stop();
      }
    },
  );

  // Engine-specific: only an embedded data folder can be held by a running gateway.
  it.runIf(engine() === 'pglite')(
    'tenants create while a gateway holds the data folder goes through its API; without a reachable gateway it fails clearly; nothing hangs or breaks',
    async () => {
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      // The embedded default: no operator token configured, so the gateway makes one and keeps it in the data folder.
      const gwEnv = { ...env(port), TRAMLINE_OPERATOR_TOKEN: undefined, LOG_LEVEL: 'warn' };
      const gw = spawnTramline(['start'], gwEnv, { name: 'gateway' });
      await gw.waitForReady(baseUrl, 150_000);
      expect(fs.existsSync(path.join(dataDir, 'operator-token'))).toBe(true);

      const cliEnv = { TRAMLINE_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' };
      const r = await runTramline(['tenants', 'create', 'Embedded Acme'], cliEnv, 30_000);
      expect(r).toMatchObject({ code: 0, timedOut: false });
      const m = /^Tenant (\S+) \(Embedded Acme\)\nAPI key \(shown once\): (tl_\S+)\n$/.exec(r.stdout);
      expect(m, r.stdout + r.stderr).not.toBeNull();
      const api = client(baseUrl, m![2]);
      const c = await api.post('/v1/consumers', { name: 'First customer' });
      expect(c.status).toBe(201);

      // The CLI goes to the address the gateway recorded in its data folder, never to a guess from PORT.
      // A record naming a port where nothing answers (a stale one): a clear refusal, promptly, nothing sent.
      const recordFile = path.join(dataDir, 'gateway.json');
      const record = fs.readFileSync(recordFile, 'utf8');
      const closed = await freePort();
      fs.writeFileSync(recordFile, JSON.stringify({ pid: gw.pid, url: `http://127.0.0.1:${closed}` }));
      const refused = await runTramline(['tenants', 'create', 'Nobody'], cliEnv, 30_000);
      fs.writeFileSync(recordFile, record);
      expect(refused).toMatchObject({ code: 1, timedOut: false, stdout: '' });
      expect(refused.stderr).toContain(`Refusing to send credentials to http://127.0.0.1:${closed}: it could not be reached`);
      // migrate, too, refuses rather than opening a folder another process holds.
      const migrate = await runTramline(['migrate'], cliEnv, 30_000);
      expect(migrate).toMatchObject({ code: 1, timedOut: false });
      expect(migrate.stderr).toContain(`in use by process ${gw.pid}`);

      // The running gateway was not disturbed: still ready, the new tenant's data intact.
      expect((await client(baseUrl).get('/readyz')).status).toBe(200);
      expect((await api.get(`/v1/consumers/${c.body.id}`)).body).toMatchObject({ name: 'First customer' });
      expect(fs.readFileSync(path.join(dataDir, 'tramline.pid'), 'utf8')).toBe(String(gw.pid));
      expect(await gw.stop()).toEqual({ code: 0, signal: null });
      // …and the folder opens cleanly afterwards, with the tenant made through the gateway in it.
      const names = await withStore((db) =>
        db.owner(async (q) => (await q.query<{ name: string }>('SELECT name FROM tenants')).rows.map((x) => x.name)),
      );
      expect(names).toContain('Embedded Acme');
      expect(names).not.toContain('Nobody');
    },
    240_000,
  );

  it('migrate on an empty store applies the migrations, and run again says "Already up to date"', async () => {
    let storeVars: Record<string, string>;
    let drop = async (): Promise<void> => {};
    if (engine() === 'postgres') {
      const empty = await emptyPostgresDatabase();
      drop = empty.drop;
      storeVars = { DATABASE_URL: empty.url };
    } else {
      storeVars = { TRAMLINE_DATA_DIR: tempDir('tramline-migrate-') };
    }
    try {
      const first = await runTramline(['migrate'], storeVars, 45_000);
      expect(first).toMatchObject({
        code: 0,
        timedOut: false,
        stdout:
          'Applied: 0001_init, 0002_tenant_keys, 0003_audit_log, 0004_message_traceparent, 0005_dashboard_users, 0006_delivery_control, 0007_payload_control, 0008_password_resets, 0012_tenant_rate_limit, 0013_claim_heads, 0014_hot_tenant_row\n',
      });
      const second = await runTramline(['migrate'], storeVars, 45_000);
      expect(second).toMatchObject({ code: 0, timedOut: false, stdout: 'Already up to date\n' });
    } finally {
      await drop();
    }
  }, 60_000);
});
