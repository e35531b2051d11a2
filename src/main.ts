import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config, Role } from './config.ts';
import { buildApp } from './api/app.ts';
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

export interface Gateway {
  /** The API's address, when this process serves it. */
  readonly url: string | null;
  readonly db: Db;
  /** Readiness fails, claiming stops, in-flight deliveries finish until the deadline, leases are released. */
  stop(): Promise<void>;
}

/** The tenant cipher over the configured master keys (a cloud KMS would plug in as the KeyWrapper). */
export function createCipher(config: Config, db: Db, masterKeys = loadMasterKeys(config)): TenantCipher {
  return createTenantCipher(db, createLocalKeyWrapper(masterKeys.keys, masterKeys.current));
}

/** Starts the roles of one process; the CLI calls this, and so do integration tests. */
export async function startGateway(config: Config, role: Role, log: Logger, opts: { db?: Db } = {}): Promise<Gateway> {
  // Before anything touches the database: a fleet without its master key must not start at all.
  const masterKeys = loadMasterKeys(config);
  // Tests pass a database they opened (a migrated template); the gateway then leaves closing it to them.
  const { db, release, applied } = opts.db
    ? { db: opts.db, release: () => {}, applied: await migrate(opts.db) }
    : await openStore(config);
  const ownsDb = !opts.db;
  if (applied.length > 0) log.info({ applied }, 'database migrated');
  const cipher = createCipher(config, db, masterKeys);

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
      });
      await worker.start();
    }
    if (role === 'scheduler' || role === 'all') {
      scheduler = createScheduler({ db, log: log.child({ role: 'scheduler' }), intervalMs: Math.max(1000, config.delivery.pollIntervalMs * 5) });
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
          egressAllow: config.egressAllow,
          operatorToken,
          maxPayloadBytes: config.maxPayloadBytes,
          rateLimits: { ...config.rateLimit, redis, prefix: config.redisPrefix },
          corsOrigins: config.corsOrigins,
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
    }
  } catch (err) {
    await worker?.stop(0).catch(() => {});
    scheduler?.stop();
    await backups?.stop();
    await http?.close().catch(() => {});
    redis?.disconnect();
    if (ownsDb) await db.close().catch(() => {});
    release();
    throw err;
  }
  log.info({ role, url, database: db.kind }, 'tramline started');

  let stopping: Promise<void> | null = null;
  return {
    url,
    db,
    stop() {
      stopping ??= (async () => {
        draining = true;
        log.info('draining');
        await worker?.stop(config.shutdownTimeoutMs);
        scheduler?.stop();
        await backups?.stop();
        await app?.close();
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
