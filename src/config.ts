import path from 'node:path';
import { z } from 'zod';
import { parseDuration, parseDurationList } from './domain/durations.ts';
import { DEFAULT_RETRY_SCHEDULE_MS } from './domain/retry-schedule.ts';
import { parseCidrList, type CidrList } from './domain/egress-guard.ts';
import { KEY_SETTINGS, type KmsSettings, parseKeySettings } from './config-keys.ts';
import { parseOrigins, parseTrustProxy } from './config-parse.ts';

/**
 * Configuration is parsed once, from the environment, in the entry point and passed
 * down as a frozen object; no module reads process.env on its own. Every variable is
 * described here; docs/configuration.md is generated from these descriptions (npm run docs:config),
 * and a test fails when a setting is missing from it.
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

export const EnvSchema = z.object({
  PORT: int(8080, 0, 65535).describe(
    'HTTP port of the API (and of /metrics in API processes); 0: any free port. Taken: the start fails at once, naming PORT.',
  ),
  HOST: z
    .string()
    .min(1)
    .default('0.0.0.0')
    .describe('Address the API binds. 0.0.0.0 so container and Kubernetes probes reach it; `tramline dev` binds 127.0.0.1 unless set.'),
  TRAMLINE_DATA_DIR: z
    .string()
    .min(1)
    .default('./.tramline')
    .describe(
      'Folder of the embedded database (PGlite), the generated operator token and master key, and gateway.json (where a running gateway listens). One process at a time.',
    ),
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'A Postgres server (15+) instead of the embedded database; every process of a fleet points at the same one. Migrations create two cluster-wide roles (docs/production.md).',
    ),
  TRAMLINE_OPERATOR_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe(
      'Bearer token for tenant administration (/v1/tenants), at least 16 characters. Unset with the embedded database: generated on first start into the data folder; unset with DATABASE_URL: tenant administration over the API is off.',
    ),
  TRAMLINE_EGRESS_ALLOW: z
    .string()
    .default('')
    .describe(
      'CIDRs deliveries may reach although private, loopback, link-local, CGNAT or reserved (comma-separated). `tramline dev` sets 127.0.0.0/8,::1/128 when unset; keep it empty in production unless a receiver is on your network.',
    ),
  TRAMLINE_RETRY_SCHEDULE: z
    .string()
    .optional()
    .describe(
      'Delays before each attempt, comma-separated durations, with ±20 % jitter. Unset: 0s,5s,5m,30m,2h,5h,10h,10h (8 attempts over about 28 hours).',
    ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('fatal, error, warn, info, debug, trace or silent; JSON lines on stdout. `tramline dev` uses warn when unset.'),
  TRAMLINE_DELIVERY_TIMEOUT: duration('15s').describe(
    'Time allowed for one delivery attempt (connect, headers and body). The lease on a claimed delivery is this plus max(5s, half of it).',
  ),
  TRAMLINE_REQUEST_TIMEOUT: duration('30s').describe(
    'Time a client has to send a whole request to the API, headers and body; a slower one (slowloris) is answered 408 or closed.',
  ),
  TRAMLINE_MAX_PAYLOAD_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024).describe(
    'Largest request body accepted, in bytes; larger ones answer 413.',
  ),
  TRAMLINE_WORKER_CONCURRENCY: int(128, 1, 10_000).describe('Deliveries in flight per worker process.'),
  TRAMLINE_ENDPOINT_CONCURRENCY: int(16, 1, 1_000).describe(
    'Deliveries in flight per endpoint across the fleet to start with, so one slow endpoint cannot starve the others.',
  ),
  TRAMLINE_ENDPOINT_CONCURRENCY_MAX: int(256, 1, 10_000).describe(
    'What an endpoint that answers fast (within 250 ms) and has more due than it may send grows its window to; slow answers, 429, 503 and timeouts shrink it.',
  ),
  TRAMLINE_DELIVERY_HTTP2: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .describe('Offer HTTP/2 to TLS endpoints; one that picks it gets its deliveries as streams of one connection (more CPU each).'),
  TRAMLINE_POLL_INTERVAL: duration('1s').describe(
    'Workers wake on NOTIFY at once; this poll covers retries coming due and lost notifications.',
  ),
  TRAMLINE_SHUTDOWN_TIMEOUT: duration('20s').describe(
    'On SIGTERM: how long in-flight deliveries may take to finish before their leases are handed back; for the API (with TRAMLINE_DRAIN_DELAY), how long after the delay it waits for a quiet second.',
  ),
  TRAMLINE_DRAIN_DELAY: duration('0s').describe(
    'On SIGTERM the API fails /readyz at once but goes on serving for this long, then until no request has reached it for a second (at most TRAMLINE_SHUTDOWN_TIMEOUT), before it closes anything, so the load balancer stops sending first (docs/rollout.md); 0: close at once.',
  ),
  TRAMLINE_DB_POOL_SIZE: int(10, 1, 200).describe('Connections in the Postgres pool of each process (the embedded database has one).'),
  REDIS_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^rediss?:\/\/.+/.test(v), 'must be a redis:// or rediss:// URL')
    .describe(
      'redis:// or rediss:// URL shared by API replicas for rate-limit counters; unset: each process counts in its own memory. Unreachable at start: the start fails; lost later: requests pass unlimited.',
    ),
  TRAMLINE_REDIS_PREFIX: z
    .string()
    .min(1)
    .max(100)
    .default('tramline:')
    .describe('Prefix of every Redis key written, so several installations can share one Redis.'),
  TRAMLINE_RATE_LIMIT_PER_KEY: int(0, 0, 10_000_000).describe(
    'Requests per window per API key on the authenticated /v1 routes; over it: 429 with Retry-After. 0: no limit per key (a default never caps a tenant below what the gateway carries).',
  ),
  TRAMLINE_RATE_LIMIT_PER_TENANT: int(0, 0, 10_000_000).describe(
    "Requests per window per tenant, all its keys together, for tenants without a plan of their own (a tenant's `rateLimitPerSecond`, set by the operator: `tramline tenants limit`). 0: no limit.",
  ),
  TRAMLINE_RATE_LIMIT_WINDOW: duration('1s').describe('The fixed window both rate limits count over.'),
  TRAMLINE_AUTH_FAILURES_PER_IP: int(100, 1, 1_000_000).describe(
    'Failed authentications (401) per client address and window; over it the address is answered 429 (Retry-After) before any key look-up until the window ends.',
  ),
  TRAMLINE_AUTH_FAILURE_WINDOW: duration('1m').describe('The window TRAMLINE_AUTH_FAILURES_PER_IP counts over.'),
  TRAMLINE_TRUST_PROXY: z
    .string()
    .default('')
    .describe(
      "Which proxies' X-Forwarded-For to believe for the client's address: empty none, true all, a hop count, or addresses/CIDRs (comma-separated). Set it behind nginx or an ingress.",
    ),
  TRAMLINE_OUTBOUND_PER_TENANT: int(2000, 1, 1_000_000).describe(
    'Outbound delivery requests per second per tenant, across all worker processes together (slots kept in Postgres, or Redis with REDIS_URL); deliveries over it wait for their slot (no attempt recorded). An endpoint’s own rateLimitPerSecond holds fleet-wide the same way.',
  ),
  TRAMLINE_BACKOFF_PAUSE: duration('1s').describe(
    'An endpoint answering 429, 502, 503 or 504, timing out or refusing connections is paused (and its in-flight window halved): for its Retry-After when it sends one, else this long, doubled for each such answer in a row.',
  ),
  TRAMLINE_BACKOFF_MAX_PAUSE: duration('1m')
    .refine((ms) => ms >= 1, 'must be at least 1ms')
    .describe(
      'The longest pause after pressure, Retry-After included (a Retry-After also postpones that message’s retry, up to 24 hours).',
    ),
  TRAMLINE_DISABLE_AFTER: duration('5d').describe(
    'An endpoint whose every attempt has failed for this long is disabled (reason, audit log, `endpoint.disabled` event); 0: never.',
  ),
  TRAMLINE_DISABLE_AFTER_MESSAGES: int(0, 0, 1_000_000).describe(
    'An endpoint whose last N deliveries in a row all exhausted their attempts is disabled; 0: never (only TRAMLINE_DISABLE_AFTER applies).',
  ),
  TRAMLINE_FAILING_EVENT_AFTER: int(4, 0, 1_000).describe(
    'A delivery whose N-th attempt fails (retries still to come) sends `message.attempt.failing` to the tenant’s operational consumers; 0: never.',
  ),
  TRAMLINE_CORS_ORIGINS: z
    .string()
    .default('')
    .describe('Browser origins allowed to call the API, comma-separated exact origins (scheme://host[:port]); empty: no CORS headers.'),
  TRAMLINE_METRICS_PORT: int(9464, 0, 65535).describe(
    'Where every process serves GET /metrics, whatever its role (reachable by the scraper only: the metrics name every tenant); 0: any free port.',
  ),
  TRAMLINE_METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('With it, GET /metrics is served on the API port too, to `Authorization: Bearer <token>` only.'),
  SENTRY_DSN: z
    .literal('')
    .or(z.url({ protocol: /^https?$/, error: 'must be a Sentry DSN (https://<key>@<host>/<project>)' }))
    .optional()
    .describe(
      'Errors to Sentry: API 5xx, worker failures, uncaught exceptions; never request bodies, headers or query strings. Unset: off.',
    ),
  ...KEY_SETTINGS,
  TRAMLINE_WEB_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Where the built dashboard and portal are (default: dist/web of this installation).'),
  TRAMLINE_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .optional()
    .describe(
      'Public base URL of this installation, for portal links; unset: the origin of the request that asked. Set it behind a proxy.',
    ),
  TRAMLINE_BACKUP_DEST: z
    .string()
    .optional()
    .describe('Scheduled backups (scheduler role) to a folder or s3://bucket/prefix, each in DEST/<UTC timestamp>/. Unset: none.'),
  TRAMLINE_BACKUP_INTERVAL: duration('6h')
    .refine((ms) => ms >= 100, 'must be at least 100ms')
    .describe('How often a scheduled backup is taken.'),
  TRAMLINE_BACKUP_KEEP: int(7, 1, 100_000).describe('How many complete scheduled backups are kept.'),
  TRAMLINE_RETENTION_DAYS: int(30, 1, 3650).describe(
    'Days messages, their deliveries and attempts are kept (scheduler role) unless a tenant sets its own retentionDays; a message with a delivery still pending is never removed.',
  ),
  TRAMLINE_RETENTION_INTERVAL: duration('1h')
    .refine((ms) => ms >= 100, 'must be at least 100ms')
    .describe('How often the scheduler removes what is older than each tenant’s retention.'),
  TRAMLINE_RETENTION_BATCH: int(1000, 1, 100_000).describe(
    'Messages removed per statement (each with its deliveries and attempts), so no cleanup holds locks for long.',
  ),
  TRAMLINE_S3_ENDPOINT: z.url().optional().describe('An S3-compatible server (MinIO, Ceph, R2…) instead of AWS, for backups.'),
  AWS_ENDPOINT_URL: z.url().optional().describe("Read when TRAMLINE_S3_ENDPOINT is unset (the AWS SDK's own variable)."),
  AWS_REGION: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Region of the backup bucket (default us-east-1) and of KMS keys given as alias or key id (a key ARN names its own region; unset: the AWS SDK's chain, e.g. the profile's region). Credentials come from the AWS SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile, instance or pod role).",
    ),
  TRAMLINE_S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .describe('true for servers that address buckets in the path (most S3-compatible ones).'),
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
    /** What a fast, saturated endpoint's window may grow to (domain/endpoint-health.ts). */
    readonly endpointConcurrencyMax: number;
    readonly http2: boolean;
    readonly pollIntervalMs: number;
  };
  readonly maxPayloadBytes: number;
  /** Time a client has to send a whole request (headers and body). */
  readonly requestTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  /**
   * On SIGTERM the API fails /readyz at once but goes on serving for this long before it closes anything,
   * so the load balancer sees it leave and stops sending first (docs/rollout.md). 0: close at once.
   */
  readonly drainDelayMs: number;
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
  /** Failed authentications (401) per client address and window before the address is refused (429) until the window ends. */
  readonly authFailures: { readonly max: number; readonly windowMs: number };
  /**
   * Which proxies to believe about the client's address (X-Forwarded-For): '' none, 'true' all, a hop
   * count, or a comma-separated list of addresses/CIDRs (e.g. the ingress controller's pod range).
   */
  readonly trustProxy: boolean | number | string[];
  /** Outbound delivery requests per second per tenant, fleet-wide (slots in Postgres or Redis: delivery/pace.ts). */
  readonly outboundPerTenantPerSecond: number;
  /** Back-off on pressure, the breaker, and when `message.attempt.failing` is sent (domain/endpoint-health.ts). */
  readonly endpointHealth: {
    readonly pauseBaseMs: number;
    readonly maxPauseMs: number;
    readonly disableAfterMs: number;
    readonly disableAfterMessages: number;
    readonly failingEventAfterAttempts: number;
  };
  /** Browser origins allowed to call the API (CORS); empty: no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** Where every process serves GET /metrics (reachable by the scraper only, not by the API's clients). */
  readonly metricsPort: number;
  /** When set, GET /metrics is also served on the API port, to `Authorization: Bearer <token>` only. */
  readonly metricsToken: string | undefined;
  /** Errors go to Sentry when set (started by the CLI entry, see src/telemetry/process.ts). */
  readonly sentryDsn: string | undefined;
  /** Master key versions for secrets at rest; unset = the embedded default's key file. */
  readonly masterKey: { keys: Map<number, Buffer>; current: number } | undefined;
  /** AWS KMS keys for tenant data keys (boot/key-wrapper.ts); unset = the master key wraps them. */
  readonly kms: KmsSettings | undefined;
  /** The web app's build folder (dashboard, portal); unset = dist/web of the package. */
  readonly webDir: string | undefined;
  /** Public base URL of this installation (portal links); unset = the origin of the request that asked. */
  readonly publicUrl: string | undefined;
  /** Retention (scheduler role): the operator's default window, how often the cleanup runs, messages per statement. */
  readonly retention: { readonly days: number; readonly intervalMs: number; readonly batch: number };
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
  const keys = parseKeySettings(e);
  if ('error' in keys) throw new ConfigError(`Invalid configuration:\n  ${keys.error}`);
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
      endpointConcurrencyMax: Math.max(e.TRAMLINE_ENDPOINT_CONCURRENCY, e.TRAMLINE_ENDPOINT_CONCURRENCY_MAX),
      http2: e.TRAMLINE_DELIVERY_HTTP2 === 'true' || e.TRAMLINE_DELIVERY_HTTP2 === '1',
      pollIntervalMs: e.TRAMLINE_POLL_INTERVAL,
    }),
    maxPayloadBytes: e.TRAMLINE_MAX_PAYLOAD_BYTES,
    requestTimeoutMs: e.TRAMLINE_REQUEST_TIMEOUT,
    shutdownTimeoutMs: e.TRAMLINE_SHUTDOWN_TIMEOUT,
    drainDelayMs: e.TRAMLINE_DRAIN_DELAY,
    dbPoolSize: e.TRAMLINE_DB_POOL_SIZE,
    redisUrl: e.REDIS_URL || undefined,
    redisPrefix: e.TRAMLINE_REDIS_PREFIX,
    rateLimit: Object.freeze({
      perKey: e.TRAMLINE_RATE_LIMIT_PER_KEY,
      perTenant: e.TRAMLINE_RATE_LIMIT_PER_TENANT,
      windowMs: e.TRAMLINE_RATE_LIMIT_WINDOW,
    }),
    authFailures: Object.freeze({ max: e.TRAMLINE_AUTH_FAILURES_PER_IP, windowMs: e.TRAMLINE_AUTH_FAILURE_WINDOW }),
    trustProxy: parseTrustProxy(e.TRAMLINE_TRUST_PROXY),
    outboundPerTenantPerSecond: e.TRAMLINE_OUTBOUND_PER_TENANT,
    endpointHealth: Object.freeze({
      pauseBaseMs: e.TRAMLINE_BACKOFF_PAUSE,
      maxPauseMs: e.TRAMLINE_BACKOFF_MAX_PAUSE,
      disableAfterMs: e.TRAMLINE_DISABLE_AFTER,
      disableAfterMessages: e.TRAMLINE_DISABLE_AFTER_MESSAGES,
      failingEventAfterAttempts: e.TRAMLINE_FAILING_EVENT_AFTER,
    }),
    corsOrigins: Object.freeze(corsOrigins),
    metricsPort: e.TRAMLINE_METRICS_PORT,
    metricsToken: e.TRAMLINE_METRICS_TOKEN,
    sentryDsn: e.SENTRY_DSN || undefined,
    masterKey: keys.masterKey,
    kms: keys.kms,
    webDir: e.TRAMLINE_WEB_DIR ? path.resolve(e.TRAMLINE_WEB_DIR) : undefined,
    publicUrl: e.TRAMLINE_PUBLIC_URL?.replace(/\/+$/, ''),
    retention: Object.freeze({
      days: e.TRAMLINE_RETENTION_DAYS,
      intervalMs: e.TRAMLINE_RETENTION_INTERVAL,
      batch: e.TRAMLINE_RETENTION_BATCH,
    }),
    backup: Object.freeze({
      dest: e.TRAMLINE_BACKUP_DEST || undefined,
      intervalMs: e.TRAMLINE_BACKUP_INTERVAL,
      keep: e.TRAMLINE_BACKUP_KEEP,
      s3: Object.freeze({
        endpoint: e.TRAMLINE_S3_ENDPOINT ?? e.AWS_ENDPOINT_URL,
        region: e.AWS_REGION ?? 'us-east-1',
        forcePathStyle: e.TRAMLINE_S3_FORCE_PATH_STYLE === 'true' || e.TRAMLINE_S3_FORCE_PATH_STYLE === '1',
      }),
    }),
  });
}
