import pino from 'pino';
import { loadConfig, type Config, type Role } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/main.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { openTestDb, type TestDb } from './db.ts';
import { client, type Client } from './client.ts';

export const OPERATOR_TOKEN = 'test-operator-token-0123456789abcdef';

/** Settings that make a test run fast: short retries, quick polling, loopback receivers allowed. */
/** A fixed master key for tests (32 bytes, base64): only a test's own data is sealed with it. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 0x5a).toString('base64');

export const TEST_ENV: Record<string, string> = {
  TRAMLINE_MASTER_KEY: TEST_MASTER_KEY,
  PORT: '0',
  HOST: '127.0.0.1',
  TRAMLINE_OPERATOR_TOKEN: OPERATOR_TOKEN,
  TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8,::1/128',
  TRAMLINE_RETRY_SCHEDULE: '0s,200ms,400ms',
  TRAMLINE_POLL_INTERVAL: '100ms',
  TRAMLINE_DELIVERY_TIMEOUT: '3s',
  TRAMLINE_SHUTDOWN_TIMEOUT: '2s',
  // Suites that send many bad keys on purpose (isolation, fuzzing) must see 401s, not the guessing brake.
  TRAMLINE_AUTH_FAILURES_PER_IP: '1000000',
  // Many gateways per test process: each its own metrics port.
  TRAMLINE_METRICS_PORT: '0',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
};

export interface TestGateway {
  url: string;
  config: Config;
  testDb: TestDb;
  gateway: Gateway;
  operator: Client;
  stop(): Promise<void>;
}

/**
 * The real gateway (API and worker) on port 0, over a fresh database of its own.
 * `log`: when given, the gateway logs through the production logger (`createLogger`, with its redaction
 * rules) into this stream instead of stdout, so a test can read every line it wrote.
 */
export async function startTestGateway(
  opts: { env?: Record<string, string>; role?: Role; testDb?: TestDb; log?: pino.DestinationStream } = {},
): Promise<TestGateway> {
  const testDb = opts.testDb ?? (await openTestDb());
  const config = loadConfig({ ...TEST_ENV, ...(testDb.url ? { DATABASE_URL: testDb.url } : {}), ...opts.env });
  const gateway = await startGateway(
    config,
    opts.role ?? 'all',
    opts.log ? createLogger(config.logLevel, 'tramline', opts.log) : pino({ level: config.logLevel }),
    { db: testDb.db },
  );
  const url = gateway.url!;
  return {
    url,
    config,
    testDb,
    gateway,
    operator: client(url, OPERATOR_TOKEN),
    async stop() {
      await gateway.stop();
      if (!opts.testDb) await testDb.close();
    },
  };
}

export interface TestTenant {
  id: string;
  key: string;
  api: Client;
}

export async function createTenant(gw: TestGateway, name = 'Acme'): Promise<TestTenant> {
  const r = await gw.operator.post('/v1/tenants', { name });
  if (r.status !== 201) throw new Error(`tenant creation answered ${r.status}: ${JSON.stringify(r.body)}`);
  const body = r.body as { id: string; apiKey: string };
  return { id: body.id, key: body.apiKey, api: client(gw.url, body.apiKey) };
}
