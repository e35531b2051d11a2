import path from 'node:path';
import { z } from 'zod';
import { parseDuration, parseDurationList } from './domain/durations.ts';
import { DEFAULT_RETRY_SCHEDULE_MS } from './domain/retry-schedule.ts';
import { parseCidrList, type CidrList } from './domain/egress-guard.ts';
import { parseMasterKeys } from './domain/secrets/key-wrapper.ts';

/**
 * Configuration is parsed once, from the environment, in the entry point and passed
 * down as a frozen object; no module reads process.env on its own. Every variable is
 * documented in .env.example.
 */
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      try {
        return parseDuration(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const EnvSchema = z.object({
  PORT: int(8080, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  TRAMLINE_DATA_DIR: z.string().min(1).default('./.tramline'),
  DATABASE_URL: z.string().url().optional(),
  TRAMLINE_OPERATOR_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TRAMLINE_EGRESS_ALLOW: z.string().default(''),
  TRAMLINE_RETRY_SCHEDULE: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRAMLINE_DELIVERY_TIMEOUT: duration('15s'),
  TRAMLINE_MAX_PAYLOAD_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  TRAMLINE_WORKER_CONCURRENCY: int(128, 1, 10_000),
  TRAMLINE_ENDPOINT_CONCURRENCY: int(16, 1, 1_000),
  TRAMLINE_POLL_INTERVAL: duration('1s'),
  TRAMLINE_SHUTDOWN_TIMEOUT: duration('20s'),
  TRAMLINE_DB_POOL_SIZE: int(10, 1, 200),
  REDIS_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^rediss?:\/\/.+/.test(v), 'must be a redis:// or rediss:// URL'),
  TRAMLINE_REDIS_PREFIX: z.string().min(1).max(100).default('tramline:'),
  TRAMLINE_RATE_LIMIT_PER_KEY: int(1000, 1, 10_000_000),
  TRAMLINE_RATE_LIMIT_PER_TENANT: int(2000, 1, 10_000_000),
  TRAMLINE_RATE_LIMIT_WINDOW: duration('1s'),
  TRAMLINE_OUTBOUND_PER_TENANT: int(2000, 1, 1_000_000),
  TRAMLINE_CORS_ORIGINS: z.string().default(''),
  TRAMLINE_METRICS_PORT: int(9464, 0, 65535),
  SENTRY_DSN: z.literal('').or(z.url({ protocol: /^https?$/, error: 'must be a Sentry DSN (https://<key>@<host>/<project>)' })).optional(),
  TRAMLINE_MASTER_KEY: z.string().optional(),
  TRAMLINE_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  TRAMLINE_BACKUP_DEST: z.string().optional(),
  TRAMLINE_BACKUP_INTERVAL: duration('6h').refine((ms) => ms >= 100, 'must be at least 100ms'),
  TRAMLINE_BACKUP_KEEP: int(7, 1, 100_000),
  TRAMLINE_S3_ENDPOINT: z.url().optional(),
  AWS_ENDPOINT_URL: z.url().optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  TRAMLINE_S3_FORCE_PATH_STYLE: z.enum(['true', 'false', '1', '0']).default('false'),
});

export type Role = 'api' | 'worker' | 'scheduler' | 'all';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly operatorToken: string | undefined;
  readonly egressAllow: CidrList;
  readonly retryScheduleMs: readonly number[];
  readonly logLevel: string;
  readonly delivery: {
    readonly timeoutMs: number;
    /** A lease outlives the delivery timeout by a margin, so no second worker sends a delivery still in flight. */
    readonly leaseMs: number;
    readonly concurrency: number;
    readonly endpointConcurrency: number;
    readonly pollIntervalMs: number;
  };
  readonly maxPayloadBytes: number;
  readonly shutdownTimeoutMs: number;
  readonly dbPoolSize: number;
  /** Shared state across replicas (rate-limit counters); kept in each process's memory when unset. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key this installation writes, so several installations can share one Redis. */
  readonly redisPrefix: string;
  readonly rateLimit: {
    /** Requests per window per API key, then per tenant (all its keys together), on authenticated /v1 routes. */
    readonly perKey: number;
    readonly perTenant: number;
    readonly windowMs: number;
  };
  /** Outbound delivery requests per second per tenant, in each worker process (a token bucket). */
  readonly outboundPerTenantPerSecond: number;
  /** Browser origins allowed to call the API (CORS); empty: no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** Where worker- or scheduler-only processes serve GET /metrics (API processes serve it on the API port). */
  readonly metricsPort: number;
  /** Errors go to Sentry when set (started by the CLI entry, see src/telemetry/process.ts). */
  readonly sentryDsn: string | undefined;
  /** Master key versions for secrets at rest; unset = the embedded default's key file. */
  readonly masterKey: { keys: Map<number, Buffer>; current: number } | undefined;
  /** Public base URL of this installation (portal links); unset = the origin of the request that asked. */
  readonly publicUrl: string | undefined;
  /** Scheduled backups (scheduler role): where, how often, how many to keep; S3 settings serve `tramline backup` too. */
  readonly backup: {
    readonly dest: string | undefined;
    readonly intervalMs: number;
    readonly keep: number;
    readonly s3: { readonly endpoint: string | undefined; readonly region: string; readonly forcePathStyle: boolean };
  };
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  let egressAllow: CidrList;
  let retryScheduleMs: readonly number[];
  try {
    egressAllow = parseCidrList(e.TRAMLINE_EGRESS_ALLOW);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  TRAMLINE_EGRESS_ALLOW: ${(err as Error).message}`);
  }
  let corsOrigins: string[];
  try {
    corsOrigins = parseOrigins(e.TRAMLINE_CORS_ORIGINS);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  TRAMLINE_CORS_ORIGINS: ${(err as Error).message}`);
  }
  try {
    retryScheduleMs = e.TRAMLINE_RETRY_SCHEDULE ? parseDurationList(e.TRAMLINE_RETRY_SCHEDULE) : DEFAULT_RETRY_SCHEDULE_MS;
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  TRAMLINE_RETRY_SCHEDULE: ${(err as Error).message}`);
  }
  let masterKey: Config['masterKey'];
  try {
    masterKey = e.TRAMLINE_MASTER_KEY ? parseMasterKeys(e.TRAMLINE_MASTER_KEY) : undefined;
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  TRAMLINE_MASTER_KEY: ${(err as Error).message}`);
  }
  const timeoutMs = e.TRAMLINE_DELIVERY_TIMEOUT;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.TRAMLINE_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    operatorToken: e.TRAMLINE_OPERATOR_TOKEN,
    egressAllow,
    retryScheduleMs,
    logLevel: e.LOG_LEVEL,
    delivery: Object.freeze({
      timeoutMs,
      leaseMs: timeoutMs + Math.max(5_000, Math.round(timeoutMs / 2)),
      concurrency: e.TRAMLINE_WORKER_CONCURRENCY,
      endpointConcurrency: e.TRAMLINE_ENDPOINT_CONCURRENCY,
      pollIntervalMs: e.TRAMLINE_POLL_INTERVAL,
    }),
    maxPayloadBytes: e.TRAMLINE_MAX_PAYLOAD_BYTES,
    shutdownTimeoutMs: e.TRAMLINE_SHUTDOWN_TIMEOUT,
    dbPoolSize: e.TRAMLINE_DB_POOL_SIZE,
    redisUrl: e.REDIS_URL || undefined,
    redisPrefix: e.TRAMLINE_REDIS_PREFIX,
    rateLimit: Object.freeze({ perKey: e.TRAMLINE_RATE_LIMIT_PER_KEY, perTenant: e.TRAMLINE_RATE_LIMIT_PER_TENANT, windowMs: e.TRAMLINE_RATE_LIMIT_WINDOW }),
    outboundPerTenantPerSecond: e.TRAMLINE_OUTBOUND_PER_TENANT,
    corsOrigins: Object.freeze(corsOrigins),
    metricsPort: e.TRAMLINE_METRICS_PORT,
    sentryDsn: e.SENTRY_DSN || undefined,
    masterKey,
    publicUrl: e.TRAMLINE_PUBLIC_URL?.replace(/\/+$/, ''),
    backup: Object.freeze({
      dest: e.TRAMLINE_BACKUP_DEST || undefined,
      intervalMs: e.TRAMLINE_BACKUP_INTERVAL,
      keep: e.TRAMLINE_BACKUP_KEEP,
      s3: Object.freeze({
        endpoint: e.TRAMLINE_S3_ENDPOINT ?? e.AWS_ENDPOINT_URL,
        region: e.AWS_REGION,
        forcePathStyle: e.TRAMLINE_S3_FORCE_PATH_STYLE === 'true' || e.TRAMLINE_S3_FORCE_PATH_STYLE === '1',
      }),
    }),
  });
}

/** `https://app.example.com, http://localhost:5173` → exact origins (scheme, host, port; no path, no wildcard). */
export function parseOrigins(list: string): string[] {
  const out: string[] = [];
  for (const raw of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    let u: URL | null = null;
    try {
      u = new URL(raw);
    } catch {
      /* reported below */
    }
    if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin !== raw.replace(/\/$/, '')) {
      throw new Error(`"${raw}" is not an origin: give scheme, host and optional port only (e.g. https://app.example.com)`);
    }
    out.push(u.origin);
  }
  return out;
}
