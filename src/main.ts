import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Config, Role } from './config.ts';
import { buildApp } from './api/app.ts';
import { createKeyAuthenticator } from './domain/api-keys.ts';
import { derivePortalKey } from './domain/portal-tokens.ts';
import { createPublisher } from './domain/publisher.ts';
import { tenantRateLimit } from './domain/tenants.ts';
import { createEventCatalog } from './domain/event-catalog.ts';
import { createHttpClient } from './delivery/http-client.ts';
import { createWorker } from './delivery/worker.ts';
import { createPostgresPacer, createRedisPacer } from './delivery/pacers.ts';
import type { Pacer } from './domain/pacing.ts';
import { createScheduler } from './scheduler/scheduler.ts';
import { startBackupScheduler } from './scheduler/backups.ts';
import { startRetention } from './scheduler/retention.ts';
import { startVacuum } from './scheduler/vacuum.ts';
import { createRetentionMetrics } from './telemetry/retention-metrics.ts';
import { createClosers, type Closers } from './boot/closers.ts';
import { openDeps, type Deps } from './boot/deps.ts';
import { ensureOperatorToken } from './boot/operator-token.ts';
import { openRedis } from './boot/redis.ts';
import { VERSION } from './boot/version.ts';
import { isMigrated } from './store/migrate.ts';
import type { Db } from './store/db.ts';
import { createMetrics, type Metrics } from './telemetry/metrics.ts';
import { createQueueSampler } from './telemetry/queue-sampler.ts';
import { startMetricsServer } from './telemetry/metrics-server.ts';
import { type RequestTracker, trackRequests, waitUntilQuiet } from './net/quiesce.ts';
import type { ErrorReporter } from './telemetry/errors.ts';

/**
 * The composition root. `tramline start` → cli/start.ts → startGateway (here) → startApi / startWorker /
 * startScheduler, each building its part from the shared dependencies and pushing its closers on one stack.
 * A delivery's path goes on in delivery/worker.ts (claim → prepare → send → decide → record).
 */
export interface Gateway {
  /** The API's address, when this process serves it. */
  readonly url: string | null;
  readonly db: Db;
  /** This gateway's metrics (its own registry); served at `${metricsUrl}/metrics` (and on the API port with TRAMLINE_METRICS_TOKEN). */
  readonly metrics: Metrics;
  /** The metrics server on TRAMLINE_METRICS_PORT; null when it could not listen. */
  readonly metricsUrl: string | null;
  /** Readiness fails, claiming stops, in-flight deliveries finish until the deadline, leases are released. */
  stop(): Promise<void>;
}

/** What the roles of one process share. */
export interface GatewayDeps extends Deps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly errors: ErrorReporter | undefined;
  /** Set when stopping: readiness fails from then on. */
  readonly draining: () => boolean;
}

/** Starts the roles of one process; the CLI calls this, and so do integration tests. */
export async function startGateway(
  config: Config,
  role: Role,
  log: Logger,
  opts: { db?: Db; errors?: ErrorReporter } = {},
): Promise<Gateway> {
  const closers = createClosers((name, err) => log.error({ err, resource: name }, 'closing failed'));
  let draining = false;
  let url: string | null = null;
  let requests: RequestTracker | null = null;
  let metricsUrl: string | null = null;
  let deps: GatewayDeps;
  try {
    // Tests pass a database they opened (a migrated template); closing it is then left to them.
    // What the start checks of the key wrapper (KMS grants differ by role: boot/key-wrapper.ts).
    const keyUse = role === 'worker' ? 'unwrap' : role === 'scheduler' ? 'none' : 'wrap';
    const core = await openDeps(config, closers, { db: opts.db, keyUse });
    if (core.applied.length > 0) log.info({ applied: core.applied }, 'database migrated');
    const metrics = createMetrics({ version: VERSION });
    metrics.setQueueSampler(createQueueSampler(core.db, { onError: (err) => log.warn({ err }, 'queue metrics sample failed') }));
    deps = { ...core, log, metrics, errors: opts.errors, draining: () => draining };
    // The API first, the worker after it: unwinding last-opened-first, the worker drains while the API
    // still answers (readiness says "draining"), and only then does the API close.
    if (role === 'api' || role === 'all') ({ url, requests } = await startApi(deps, closers));
    if (role === 'worker' || role === 'all') await startWorker(deps, closers);
    if (role === 'scheduler' || role === 'all') startScheduler(deps, closers);
    metricsUrl = await startMetricsPort(deps, closers);
  } catch (err) {
    await closers.unwind({ failed: true }).catch(() => {});
    throw err;
  }
  log.info({ role, url, metricsUrl, database: deps.db.kind }, 'tramline started');
  let stopping: Promise<void> | null = null;
  return {
    url,
    db: deps.db,
    metrics: deps.metrics,
    metricsUrl,
    stop() {
      stopping ??= (async () => {
        draining = true;
        log.info('draining');
        // Readiness fails now; requests are still served until the load balancer has stopped sending: for the
        // delay, then until no request has arrived for a second (a slower proxy, a starved process: net/quiesce.ts).
        if (requests !== null && config.drainDelayMs > 0) {
          await new Promise((r) => setTimeout(r, config.drainDelayMs));
          const q = await waitUntilQuiet(requests, { quietMs: QUIET_MS, maxMs: config.shutdownTimeoutMs, now: () => performance.now() });
          log.info({ waitedMs: Math.round(q.waitedMs), inFlight: q.inFlight }, q.quiet ? 'closing' : 'closing: requests still arriving');
        }
        await closers.unwind();
        log.info('stopped');
      })();
      return stopping;
    },
  };
}

/** After the drain delay, the API closes once no request has arrived for this long. */
const QUIET_MS = 1000;

/** The HTTP API (and Redis for shared rate limits); resolves with its URL once it listens, and its request counts. */
export async function startApi(deps: GatewayDeps, closers: Closers): Promise<{ url: string; requests: RequestTracker }> {
  const { config, db, log } = deps;
  const operatorToken = resolveOperatorToken(config, log);
  let redis = null;
  if (config.redisUrl) {
    const r = await openRedis(config.redisUrl, log.child({ component: 'redis' }));
    closers.push('redis', ({ failed }) => (failed ? r.disconnect() : r.quit().catch(() => {})));
    redis = r;
  }
  let migrated = false;
  const catalog = createEventCatalog(db);
  const app = await buildApp(
    {
      db,
      clock: deps.clock,
      cipher: deps.cipher,
      keys: createKeyAuthenticator({ db, clock: deps.clock, egressAllow: config.egressAllow, cipher: deps.cipher }),
      publisher: createPublisher(db, { catalog }),
      catalog,
      egressAllow: config.egressAllow,
      operatorToken,
      maxPayloadBytes: config.maxPayloadBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      rateLimits: {
        ...config.rateLimit,
        redis,
        prefix: config.redisPrefix,
        planOf: (tenantId) => tenantRateLimit({ db, clock: deps.clock, cipher: deps.cipher, egressAllow: config.egressAllow }, tenantId),
        clock: deps.clock,
      },
      authFailures: config.authFailures,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      metrics: deps.metrics,
      metricsToken: config.metricsToken,
      webDir: config.webDir,
      draining: deps.draining,
      errors: deps.errors,
      portal: { key: derivePortalKey(deps.masterKeys.keys.get(deps.masterKeys.current)!), publicUrl: config.publicUrl },
      readiness: async () => {
        const checks: Record<string, string> = {};
        try {
          // Once migrated, still a round trip each time: a database lost later must turn readiness red.
          if (migrated) await db.system((q) => q.query('SELECT 1'));
          else migrated = await isMigrated(db);
          checks.database = migrated ? 'ok' : 'not migrated';
        } catch {
          checks.database = 'unreachable';
        }
        checks.draining = deps.draining() ? 'yes' : 'no';
        return { ready: checks.database === 'ok' && !deps.draining(), checks };
      },
    },
    log,
  );
  // Pushed before listen: a listen that fails (port taken) still closes the app.
  closers.push('api', () => app.close());
  const requests = trackRequests(app.server, () => performance.now());
  return { url: await app.listen({ port: config.port, host: config.host }), requests };
}

/** The delivery worker and its outbound HTTP client. */
export async function startWorker(deps: GatewayDeps, closers: Closers): Promise<void> {
  const { config } = deps;
  const http = createHttpClient({ timeoutMs: config.delivery.timeoutMs, allow: config.egressAllow, http2: config.delivery.http2 });
  closers.push('http client', () => http.close());
  // Rate-limit slots: in Postgres with the claim itself, or in Redis when configured (Postgres again while Redis is away).
  let pacer: Pacer | undefined;
  if (config.redisUrl) {
    const redis = await openRedis(config.redisUrl, deps.log.child({ component: 'redis', role: 'worker' }));
    closers.push('worker redis', ({ failed }) => (failed ? redis.disconnect() : redis.quit().catch(() => {})));
    pacer = createRedisPacer(redis, config.redisPrefix, createPostgresPacer(deps.db), deps.log.child({ role: 'worker' }));
  }
  const worker = createWorker({
    db: deps.db,
    http,
    cipher: deps.cipher,
    log: deps.log.child({ role: 'worker' }),
    owner: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    concurrency: config.delivery.concurrency,
    endpointConcurrency: config.delivery.endpointConcurrency,
    endpointConcurrencyMax: config.delivery.endpointConcurrencyMax,
    leaseMs: config.delivery.leaseMs,
    pollIntervalMs: config.delivery.pollIntervalMs,
    retryScheduleMs: config.retryScheduleMs,
    outboundPerTenantPerSecond: config.outboundPerTenantPerSecond,
    pacer,
    health: { ...config.endpointHealth, decreaseEveryMs: 1_000 },
    metrics: deps.metrics,
    errors: deps.errors,
  });
  // A failed start has nothing in flight worth waiting for.
  closers.push('worker', ({ failed }) => worker.stop(failed ? 0 : config.shutdownTimeoutMs));
  await worker.start();
}

/** How often tables are checked for VACUUM and ANALYZE where no autovacuum runs (autovacuum's own naptime). */
const VACUUM_INTERVAL_MS = 60_000;

/** Housekeeping: the lease reaper's timer, retention, scheduled backups (TRAMLINE_BACKUP_DEST) and vacuum where no autovacuum runs. */
export function startScheduler(deps: GatewayDeps, closers: Closers): void {
  const log = deps.log.child({ role: 'scheduler' });
  const scheduler = createScheduler({
    db: deps.db,
    log,
    intervalMs: Math.max(1000, deps.config.delivery.pollIntervalMs * 5),
    metrics: deps.metrics,
  });
  scheduler.start();
  closers.push('scheduler', () => scheduler.stop());
  const retention = startRetention({
    db: deps.db,
    log: log.child({ component: 'retention' }),
    clock: deps.clock,
    defaultDays: deps.config.retention.days,
    batch: deps.config.retention.batch,
    intervalMs: deps.config.retention.intervalMs,
    metrics: createRetentionMetrics(deps.metrics.registry),
  });
  closers.push('retention', () => retention.stop());
  const backups = startBackupScheduler(deps.config, deps.db, log.child({ component: 'backup' }));
  if (backups) closers.push('backups', () => backups.stop());
  // The embedded database has no autovacuum, and a Postgres server may have it off: then the scheduler does its work.
  const vacuum = startVacuum({ db: deps.db, log: log.child({ component: 'vacuum' }), intervalMs: VACUUM_INTERVAL_MS });
  closers.push('vacuum', () => vacuum.stop());
}

/**
 * No API to serve /metrics: a small server of its own. Not fatal when the port is taken (a second worker
 * on one host): delivery matters more than its metrics, and the scrape target shows as down.
 */
/**
 * GET /metrics on TRAMLINE_METRICS_PORT, in every role: the metrics name every tenant and its traffic, so
 * they live on a port that only the scraper reaches (a NetworkPolicy, a private interface), not on the
 * public API port (there only with TRAMLINE_METRICS_TOKEN). Not fatal when the port is taken (a second
 * process on one host): delivery matters more than its metrics, and the scrape target shows as down.
 */
async function startMetricsPort(deps: GatewayDeps, closers: Closers): Promise<string | null> {
  const server = await startMetricsServer(deps.metrics, { port: deps.config.metricsPort, host: deps.config.host }).catch((err: unknown) => {
    deps.log.error({ err, port: deps.config.metricsPort }, 'metrics server could not listen (set TRAMLINE_METRICS_PORT)');
    return null;
  });
  if (!server) return null;
  closers.push('metrics server', () => server.close());
  return server.url;
}

/** TRAMLINE_OPERATOR_TOKEN, or, for the embedded default, one generated on first start and printed once. */
function resolveOperatorToken(config: Config, log: Logger): string | undefined {
  let token = config.operatorToken;
  if (!token && !config.databaseUrl) {
    const t = ensureOperatorToken(config.dataDir);
    token = t.token;
    if (t.created) process.stdout.write(`\nOperator token (kept in ${config.dataDir}/operator-token):\n  ${t.token}\n\n`);
  }
  if (!token) log.warn('TRAMLINE_OPERATOR_TOKEN is unset: tenant administration over the API is disabled');
  return token;
}
