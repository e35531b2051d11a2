import path from 'node:path';
import { z } from 'zod';
import { parseDuration, parseDurationList } from './domain/durations.ts';
import { DEFAULT_RETRY_SCHEDULE_MS } from './domain/retry-schedule.ts';
import { parseCidrList, type CidrList } from './domain/egress-guard.ts';

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
  try {
    retryScheduleMs = e.TRAMLINE_RETRY_SCHEDULE ? parseDurationList(e.TRAMLINE_RETRY_SCHEDULE) : DEFAULT_RETRY_SCHEDULE_MS;
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  TRAMLINE_RETRY_SCHEDULE: ${(err as Error).message}`);
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
  });
}
