import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/config.ts';
import { rotateKeys } from '../../src/cli/keys.ts';
import { engine, openTestDb, type TestDb } from '../helpers/db.ts';
import { createTenant, startTestGateway, TEST_ENV, type TestGateway } from '../helpers/gateway.ts';
import { startKmsStandIn, type KmsStandIn } from '../helpers/kms-server.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { client } from '../helpers/client.ts';
import { freePort, killAll, printChildOutputOnFailure, runTramline, spawnTramline } from '../helpers/process.ts';

/**
 * Tenant data keys moved from the master key to AWS KMS and back, through the real @aws-sdk/client-kms
 * talking to an in-process stand-in of the KMS wire protocol (test/helpers/kms-server.ts).
 */
printChildOutputOnFailure();

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIDTRAMLINETEST', AWS_SECRET_ACCESS_KEY: 'test-secret', AWS_EC2_METADATA_DISABLED: 'true' };
let kms: KmsStandIn;
let arn: string;
let rx: Receiver;
let testDb: TestDb;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  // The SDK's credential chain reads the process environment (in a child, its own environment).
  for (const [k, v] of Object.entries(AWS_ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  kms = await startKmsStandIn();
  arn = kms.createKey('eu-west-1', 'tramline-tenant-keys');
  rx = await startReceiver();
  testDb = await openTestDb();
});
afterAll(async () => {
  await kms?.close();
  await rx?.close();
  await testDb?.close();
  await killAll();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const kmsEnv = (): Record<string, string> => ({ TRAMLINE_KMS_KEYS: arn, TRAMLINE_KMS_ENDPOINT: kms.url });
type KeyRow = { tenant_id: string; master_version: number; wrapped_key: string };
const wrappedKeys = async (): Promise<KeyRow[]> =>
  testDb.db.owner(
    async (q) => (await q.query<KeyRow>('SELECT tenant_id, master_version, wrapped_key FROM tenant_keys ORDER BY tenant_id')).rows,
  );
const configOf = (env: Record<string, string>) => loadConfig({ ...TEST_ENV, ...(testDb.url ? { DATABASE_URL: testDb.url } : {}), ...env });

describe('AWS KMS wraps tenant data keys', () => {
  let gw: TestGateway | undefined;
  let tenantId: string;
  let secretPath: string;
  let consumerPath: string;
  let apiKey: string;
  let secret: string;
  const otherMaster = randomBytes(32).toString('base64');
  afterAll(async () => gw?.stop());

  it('a fleet on the master key takes KMS: old keys still open, new ones are KMS-wrapped', async () => {
    gw = await startTestGateway({ testDb });
    const t = await createTenant(gw);
    [tenantId, apiKey] = [t.id, t.key];
    const consumer = (await t.api.post('/v1/consumers', { name: 'Vault' })).body.id as string;
    const endpoint = (await t.api.post(`/v1/consumers/${consumer}/endpoints`, { url: `${rx.url}/kms` })).body.id as string;
    consumerPath = `/v1/consumers/${consumer}`;
    secretPath = `${consumerPath}/endpoints/${endpoint}/secret`;
    secret = (await t.api.get(secretPath)).body.secret;
    await gw.stop();
    expect((await wrappedKeys()).map((k) => k.wrapped_key.slice(0, 6))).toEqual(['enc:1:']);

    gw = await startTestGateway({ testDb, env: kmsEnv() });
    expect((await client(gw.url, apiKey).get(secretPath)).body.secret).toBe(secret);
    const calls = kms.calls.length;
    const t2 = await createTenant(gw, 'Born under KMS');
    const k2 = (await wrappedKeys()).find((k) => k.tenant_id === t2.id)!;
    expect(k2.wrapped_key).toMatch(/^kms:1:/);
    expect(k2.master_version).toBe(1);
    // The real SDK sent Encrypt to the ARN's region (its SigV4 scope), not to AWS_REGION's default.
    expect(kms.calls.slice(calls)).toContainEqual({ op: 'Encrypt', keyArn: arn, region: 'eu-west-1' });
  });

  it('keys rotate moves the master-wrapped keys to KMS although both are "version 1"; the secret still opens', async () => {
    const message = await rotateKeys(configOf(kmsEnv()), testDb.db);
    expect(message).toMatch(/^Rewrapped 1 tenant data key\(s\) with AWS KMS key version 1 \(arn:aws:kms:eu-west-1:/);
    expect((await wrappedKeys()).every((k) => k.wrapped_key.startsWith('kms:1:'))).toBe(true);
    expect(await rotateKeys(configOf(kmsEnv()), testDb.db)).toMatch(/^Rewrapped 0 /);
    expect((await client(gw!.url, apiKey).get(secretPath)).body.secret).toBe(secret);
  });

  it('after a restart with KMS and another master key, deliveries are signed with the same secret', async () => {
    await gw!.stop();
    const decrypts = kms.calls.filter((c) => c.op === 'Decrypt').length;
    gw = await startTestGateway({ testDb, env: { ...kmsEnv(), TRAMLINE_MASTER_KEY: otherMaster } });
    const api = client(gw.url, apiKey);
    expect((await api.get(secretPath)).body.secret).toBe(secret);
    expect(kms.calls.filter((c) => c.op === 'Decrypt').length).toBeGreaterThan(decrypts);
    expect((await api.post(`${consumerPath}/messages`, { eventType: 'vault.opened', payload: { ok: true } })).status).toBe(202);
    const [r] = await rx.waitFor(1);
    expect(() =>
      new Webhook(secret).verify(r!.body, {
        'webhook-id': r!.headers['webhook-id'] as string,
        'webhook-timestamp': r!.headers['webhook-timestamp'] as string,
        'webhook-signature': r!.headers['webhook-signature'] as string,
      }),
    ).not.toThrow();
  });

  it('KMS down while a tenant is created: 503 problem+json with Retry-After, cached tenants go on, and it recovers', async () => {
    await kms.stop();
    try {
      const r = await gw!.operator.post('/v1/tenants', { name: 'During the outage' });
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.body.detail).toMatch(/^AWS KMS Encrypt with key version 1 failed \(\w+\); retry shortly$/);
      expect((await client(gw!.url, apiKey).get(secretPath)).body.secret).toBe(secret);
    } finally {
      await kms.start();
    }
    expect((await gw!.operator.post('/v1/tenants', { name: 'After the outage' })).status).toBe(201);
  });

  it('a start with KMS unreachable, or with a key the role may not use, fails at once naming the key and the reason', async () => {
    await gw!.stop();
    gw = undefined;
    await kms.stop();
    const started = Date.now();
    try {
      await expect(startTestGateway({ testDb, env: kmsEnv() })).rejects.toThrow(
        new RegExp(`AWS KMS cannot wrap tenant data keys with ${arn} \\(TRAMLINE_KMS_KEYS version 1\\): .*ECONNREFUSED`),
      );
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await kms.start();
    }
    const denied = kms.createKey('eu-west-1');
    kms.deny(denied);
    await expect(startTestGateway({ testDb, env: { ...kmsEnv(), TRAMLINE_KMS_KEYS: `2:${denied},1:${arn}` } })).rejects.toThrow(
      /AccessDeniedException: User is not authorized to perform kms:Encrypt/,
    );
  });

  it('each role checks what it uses: a worker needs only kms:Decrypt, the scheduler no KMS grant at all', async () => {
    kms.deny(arn, ['Encrypt']); // deploy/aws grants the worker kms:Decrypt only
    try {
      await (await startTestGateway({ testDb, role: 'worker', env: kmsEnv() })).stop();
      await expect(startTestGateway({ testDb, role: 'api', env: kmsEnv() })).rejects.toThrow(/kms:Encrypt/);
      kms.deny(arn);
      await expect(startTestGateway({ testDb, role: 'worker', env: kmsEnv() })).rejects.toThrow(
        /data key \(AWS KMS key version 1\) does not open: AccessDeniedException: User is not authorized to perform kms:Decrypt/,
      );
      await (await startTestGateway({ testDb, role: 'scheduler', env: kmsEnv() })).stop();
    } finally {
      kms.allow(arn);
    }
  });

  it('going back: without KMS the start names the way back; TRAMLINE_KEY_WRAPPER=master and keys rotate take it', async () => {
    await expect(startTestGateway({ testDb, env: { TRAMLINE_MASTER_KEY: otherMaster } })).rejects.toThrow(
      /data key \(AWS KMS key version 1\) does not open: .*TRAMLINE_KMS_KEYS is not set.*TRAMLINE_KEY_WRAPPER=master/,
    );
    const back = { ...kmsEnv(), TRAMLINE_KEY_WRAPPER: 'master', TRAMLINE_MASTER_KEY: otherMaster };
    expect(await rotateKeys(configOf(back), testDb.db)).toMatch(
      /^Rewrapped \d+ tenant data key\(s\) with master key version 1\. No tenant data key is wrapped by AWS KMS any more/,
    );
    expect((await wrappedKeys()).every((k) => k.wrapped_key.startsWith('enc:1:'))).toBe(true);
    gw = await startTestGateway({ testDb, env: { TRAMLINE_MASTER_KEY: otherMaster } });
    expect((await client(gw.url, apiKey).get(secretPath)).body.secret).toBe(secret);
    expect(tenantId).toMatch(/^ten_/);
  });
});

// The operator's path on the embedded data folder, as real processes: the CLI's messages and exit codes.
describe.runIf(engine() === 'pglite')('tramline keys rotate to KMS (embedded, real processes)', () => {
  it('rotates to KMS, restarts on KMS, and an unreachable KMS at start is one clear line, not a stack', { timeout: 180_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-kms-'));
    const port = await freePort();
    const env = {
      TRAMLINE_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      TRAMLINE_METRICS_PORT: '0',
      ...AWS_ENV,
    };
    const base = `http://127.0.0.1:${port}`;
    try {
      let gwp = spawnTramline(['start'], env);
      await gwp.waitForReady(base, 60_000);
      const operator = client(base, fs.readFileSync(path.join(dataDir, 'operator-token'), 'utf8').trim());
      const api = client(base, (await operator.post('/v1/tenants', { name: 'K' })).body.apiKey as string);
      const c = (await api.post('/v1/consumers', { name: 'c' })).body.id;
      const e = (await api.post(`/v1/consumers/${c}/endpoints`, { url: 'http://127.0.0.1:9/x' })).body.id;
      const before = (await api.get(`/v1/consumers/${c}/endpoints/${e}/secret`)).body.secret;
      expect((await gwp.stop()).code).toBe(0);
      const masterKeyFile = fs.readFileSync(path.join(dataDir, 'master-key'), 'utf8');

      const withKms = { ...env, ...kmsEnv() };
      const run = await runTramline(['keys', 'rotate'], withKms, 60_000);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/Rewrapped 1 tenant data key\(s\) with AWS KMS key version 1/);
      expect(fs.readFileSync(path.join(dataDir, 'master-key'), 'utf8')).toBe(masterKeyFile); // no master key version added for nothing

      gwp = spawnTramline(['start'], withKms);
      await gwp.waitForReady(base, 60_000);
      expect((await api.get(`/v1/consumers/${c}/endpoints/${e}/secret`)).body.secret).toBe(before);
      expect((await gwp.stop()).code).toBe(0);

      await kms.stop();
      try {
        const down = await runTramline(['start'], withKms, 60_000);
        expect(down.code).toBe(1);
        // The SDK's own notice about Node 20 may come first (a process.emitWarning, no stack); then one line.
        expect(down.stderr).toMatch(
          /^tramline: AWS KMS cannot wrap tenant data keys with arn:aws:kms:eu-west-1:\S+ \(TRAMLINE_KMS_KEYS version 1\): /m,
        );
        expect(down.stderr).toMatch(/Nothing was started\.\n$/);
        expect(down.stderr + down.stdout).not.toMatch(/\n\s+at /); // no stack trace
      } finally {
        await kms.start();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
