import net from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startApi, startGateway, type GatewayDeps } from '../../src/main.ts';
import { createClosers } from '../../src/boot/closers.ts';
import { openDeps } from '../../src/boot/deps.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { TEST_ENV } from '../helpers/gateway.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

/** The composition root: one stack of closers, unwound on a failed start as on stop. */
let testDb: TestDb;
let taken: net.Server;
let port: number;

beforeAll(async () => {
  testDb = await openTestDb();
  taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => taken?.close(resolve));
  await testDb?.close();
});

const config = (env: Record<string, string> = {}) =>
  loadConfig({ ...TEST_ENV, ...(testDb.url ? { DATABASE_URL: testDb.url } : {}), ...env });

describe('composition root', () => {
  it('a listen that fails (port taken) closes the app it built: its closer was pushed before listen', async () => {
    const names: string[] = [];
    const closers = createClosers();
    const push = closers.push;
    closers.push = (name, close) => {
      names.push(name);
      push(name, async (how) => {
        await close(how);
        names.push(`closed ${name}`);
      });
    };
    const core = await openDeps(config({ PORT: String(port) }), closers, { db: testDb.db });
    const deps: GatewayDeps = {
      ...core,
      log: pino({ level: 'silent' }),
      metrics: createMetrics({ version: 'test' }),
      errors: undefined,
      draining: () => false,
    };
    await expect(startApi(deps, closers)).rejects.toThrow(/EADDRINUSE/);
    expect(names).toContain('api');
    await closers.unwind({ failed: true });
    expect(names.at(-1)).toBe('closed api');
  });

  it('a gateway whose API cannot listen fails to start, closes what it opened and leaves the caller’s database usable', async () => {
    await expect(startGateway(config({ PORT: String(port) }), 'all', pino({ level: 'silent' }), { db: testDb.db })).rejects.toThrow(
      /EADDRINUSE/,
    );
    // The test's database was not closed (the caller owns it), and a gateway starts on it at once.
    const gw = await startGateway(config(), 'all', pino({ level: 'silent' }), { db: testDb.db });
    expect(gw.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    await gw.stop();
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
  });
});
