import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config, Role } from './config.ts';
import { buildApp } from './api/app.ts';
import { createPublisher } from './domain/publisher.ts';
import { createHttpClient, type HttpClient } from './delivery/http-client.ts';
import { createWorker, type Worker } from './delivery/worker.ts';
import { createScheduler, type Scheduler } from './delivery/scheduler.ts';
import { startBackupScheduler, type BackupScheduler } from './delivery/backup-scheduler.ts';
import { ensureOperatorToken } from './operator-token.ts';
import { createKeyAuthenticator } from './domain/api-keys.ts';
import { createLocalKeyWrapper } from './domain/secrets/key-wrapper.ts';
import { createTenantCipher, type TenantCipher } from './domain/secrets/tenant-cipher.ts';
import { loadMasterKeys } from './master-key.ts';
import { derivePortalKey } from './domain/portal-tokens.ts';
import { openStore } from './store/open.ts';
import { openRedis } from './redis.ts';
import type { Redis } from 'ioredis';
import { isMigrated, migrate } from './store/migrate.ts';
import type { Db } from './store/db.ts';
import { createMetrics, type Metrics } from './telemetry/metrics.ts';
import { createQueueSampler } from './telemetry/queue-sampler.ts';
import { startMetricsServer, type MetricsServer } from './telemetry/metrics-server.ts';
import type { ErrorReporter } from './telemetry/errors.ts';
import { VERSION } from './version.ts';

export interface Gateway {
  /** The API's address, when this process serves it. */
  readonly url: string | null;
  readonly db: Db;
  /** This gateway's metrics (its own registry); served at `${url}/metrics`, or at `${metricsUrl}/metrics` without the API. */
  readonly metrics: Metrics;
  /** The metrics-only server of a process without the API (worker, scheduler); null otherwise or when it could not listen. */
  readonly metricsUrl: string | null;
  /** Readiness fails, claiming stops, in-flight deliveries finish until the deadline, leases are released. */
  stop(): Promise<void>;
}

/** The tenant cipher over the configured master keys (a cloud KMS would plug in as the KeyWrapper). */
export function createCipher(config: Config, db: Db, masterKeys = loadMasterKeys(config)): TenantCipher {
  return createTenantCipher(db, createLocalKeyWrapper(masterKeys.keys, masterKeys.current));
}

/** Starts the roles of one process; the CLI calls this, and so do integration tests. */
export async function startGateway(config: Config, role: Role, log: Logger, opts: { db?: Db; errors?: ErrorReporter } = {}): Promise<Gateway> {
  // Before anything touches the database: a fleet without its master key must not start at all.
  const masterKeys = loadMasterKeys(config);
  // Tests pass a database they opened (a migrated template); the gateway then leaves closing it to them.
  const { db, release, applied } = opts.db
    ? { db: opts.db, release: () => {}, applied: await migrate(opts.db) }
    : await openStore(config);
  const ownsDb = !opts.db;
  if (applied.length > 0) log.info({ applied }, 'database migrated');
  const cipher = createCipher(config, db, masterKeys);
  const metrics = createMetrics({ version: VERSION });
  metrics.setQueueSampler(createQueueSampler(db, { onError: (err) => log.warn({ err }, 'queue metrics sample failed') }));
  const errors = opts.errors;

  let operatorToken = config.operatorToken;
  if (!operatorToken && !config.databaseUrl) {
    const t = ensureOperatorToken(config.dataDir);
    operatorToken = t.token;
    if (t.created) {
      // Printed once, on first start; it stays in the data folder.
      process.stdout.write(`\nOperator token (kept in ${config.dataDir}/operator-token):\n  ${t.token}\n\n`);
    }
  }
  if (!operatorToken) log.warn('TRAMLINE_OPERATOR_TOKEN is unset: tenant administration over the API is disabled');

  let draining = false;
  let migrated = false;
  const clock = (): Date => new Date();
  let app: FastifyInstance | null = null;
  let worker: Worker | null = null;
  let scheduler: Scheduler | null = null;
  let backups: BackupScheduler | null = null;
  let http: HttpClient | null = null;
  let url: string | null = null;
  let redis: Redis | null = null;
  let metricsServer: MetricsServer | null = null;

  try {
    if (role === 'worker' || role === 'all') {
      http = createHttpClient({ timeoutMs: config.delivery.timeoutMs, allow: config.egressAllow });
      worker = createWorker({
        db,
        http,
        cipher,
        log: log.child({ role: 'worker' }),
        owner: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
        concurrency: config.delivery.concurrency,
        endpointConcurrency: config.delivery.endpointConcurrency,
        leaseMs: config.delivery.leaseMs,
        pollIntervalMs: config.delivery.pollIntervalMs,
        retryScheduleMs: config.retryScheduleMs,
        outboundPerTenantPerSecond: config.outboundPerTenantPerSecond,
        metrics,
        errors,
      });
      await worker.start();
    }
    if (role === 'scheduler' || role === 'all') {
      scheduler = createScheduler({ db, log: log.child({ role: 'scheduler' }), intervalMs: Math.max(1000, config.delivery.pollIntervalMs * 5), metrics });
      scheduler.start();
      backups = startBackupScheduler(config, db, log.child({ role: 'scheduler', component: 'backup' }));
    }
    if (role === 'api' || role === 'all') {
      if (config.redisUrl) redis = await openRedis(config.redisUrl, log.child({ component: 'redis' }));
      app = await buildApp(
        {
          db,
          clock,
          cipher,
          keys: createKeyAuthenticator({ db, clock, egressAllow: config.egressAllow, cipher }),
          publisher: createPublisher(db),
          egressAllow: config.egressAllow,
          operatorToken,
          maxPayloadBytes: config.maxPayloadBytes,
          rateLimits: { ...config.rateLimit, redis, prefix: config.redisPrefix },
          corsOrigins: config.corsOrigins,
          metrics,
          errors,
          portal: { key: derivePortalKey(masterKeys.keys.get(masterKeys.current)!), publicUrl: config.publicUrl },
          readiness: async () => {
            const checks: Record<string, string> = {};
            try {
              migrated ||= await isMigrated(db);
              checks.database = migrated ? 'ok' : 'not migrated';
            } catch {
              checks.database = 'unreachable';
            }
            checks.draining = draining ? 'yes' : 'no';
            return { ready: checks.database === 'ok' && !draining, checks };
          },
        },
        log,
      );
      url = await app.listen({ port: config.port, host: config.host });
    } else {
      // No API to serve /metrics: a small server of its own. Not fatal when the port is taken (a second
      // worker on one host): delivery matters more than its metrics, and the scrape target shows as down.
      metricsServer = await startMetricsServer(metrics, { port: config.metricsPort, host: config.host }).catch((err: unknown) => {
        log.error({ err, port: config.metricsPort }, 'metrics server could not listen (set TRAMLINE_METRICS_PORT)');
        return null;
      });
    }
  } catch (err) {
    await worker?.stop(0).catch(() => {});
    await metricsServer?.close();
    scheduler?.stop();
    await backups?.stop();
    await http?.close().catch(() => {});
    redis?.disconnect();
    if (ownsDb) await db.close().catch(() => {});
    release();
    throw err;
  }
  log.info({ role, url, metricsUrl: metricsServer?.url ?? null, database: db.kind }, 'tramline started');

  let stopping: Promise<void> | null = null;
  return {
    url,
    db,
    metrics,
    metricsUrl: metricsServer?.url ?? null,
    stop() {
      stopping ??= (async () => {
        draining = true;
        log.info('draining');
        await worker?.stop(config.shutdownTimeoutMs);
        scheduler?.stop();
        await backups?.stop();
        await app?.close();
        await metricsServer?.close();
        await redis?.quit().catch(() => {});
        await http?.close();
        if (ownsDb) await db.close();
        release();
        log.info('stopped');
      })();
      return stopping;
    },
  };
}
