import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createLocalKeyWrapper, parseMasterKeys } from '../../src/domain/secrets/key-wrapper.ts';
import { createTenantCipher, secretAad } from '../../src/domain/secrets/tenant-cipher.ts';
import { DecryptError } from '../../src/domain/secrets/cipher.ts';
import { engine } from '../helpers/db.ts';
import { createTenant, startTestGateway, TEST_MASTER_KEY, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { client } from '../helpers/client.ts';
import { freePort, killAll, printChildOutputOnFailure, runTramline, spawnTramline } from '../helpers/process.ts';

printChildOutputOnFailure();

let gw: TestGateway;
let t: TestTenant;
let rx: Receiver;
let consumer: string;
let endpoint: string;
let secret: string;
const HEADER_VALUE = `hdr-${randomBytes(8).toString('hex')}`;

beforeAll(async () => {
  gw = await startTestGateway();
  t = await createTenant(gw);
  rx = await startReceiver();
  consumer = (await t.api.post('/v1/consumers', { name: 'Vault' })).body.id;
  endpoint = (await t.api.post(`/v1/consumers/${consumer}/endpoints`, { url: `${rx.url}/s`, headers: { 'x-api-token': HEADER_VALUE } }))
    .body.id;
  secret = (await t.api.get(`/v1/consumers/${consumer}/endpoints/${endpoint}/secret`)).body.secret;
});
afterAll(async () => {
  await gw?.stop();
  await rx?.close();
  await killAll();
});

/** Every text value of every table, as a dump would show them. */
async function dumpText(): Promise<string> {
  return gw.testDb.db.owner(async (q) => {
    const tables = await q.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`);
    let all = '';
    for (const { t: name } of tables.rows) all += JSON.stringify((await q.query(`SELECT * FROM ${name}`)).rows);
    return all;
  });
}

describe('secrets at rest', () => {
  it('a database dump holds no endpoint secret, custom header value or API key in clear', async () => {
    const rotated = (await t.api.post(`/v1/consumers/${consumer}/endpoints/${endpoint}/secret/rotate`, {})).body.secret;
    const dump = await dumpText();
    expect(dump).toContain(endpoint); // the dump is real: it has the endpoint row
    const base64Of = (s: string): string => s.slice('whsec_'.length);
    for (const clear of [secret, rotated, base64Of(secret), base64Of(rotated), HEADER_VALUE, t.key, t.key.slice(3)]) {
      expect(dump.includes(clear), `dump contains ${clear.slice(0, 12)}…`).toBe(false);
    }
    secret = rotated;
  });

  it('the API shows the header value and secret in clear, and deliveries are signed with it', async () => {
    const e = await t.api.get(`/v1/consumers/${consumer}/endpoints/${endpoint}`);
    expect(e.body.headers).toEqual({ 'x-api-token': HEADER_VALUE });
    await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'vault.opened', payload: { ok: true } });
    const [r] = await rx.waitFor(1);
    expect(r!.headers['x-api-token']).toBe(HEADER_VALUE);
    expect(() =>
      new Webhook(secret).verify(r!.body, {
        'webhook-id': r!.headers['webhook-id'] as string,
        'webhook-timestamp': r!.headers['webhook-timestamp'] as string,
        'webhook-signature': r!.headers['webhook-signature'] as string,
      }),
    ).not.toThrow();
  });

  it('a ciphertext copied to another row does not decrypt', async () => {
    const other = (await t.api.post(`/v1/consumers/${consumer}/endpoints`, { url: `${rx.url}/other` })).body.id as string;
    const stolen = await gw.testDb.db.owner(
      async (q) => (await q.query<{ secret: string }>('SELECT secret FROM endpoints WHERE id = $1', [endpoint])).rows[0]!.secret,
    );
    const { keys, current } = parseMasterKeys(TEST_MASTER_KEY);
    const cipher = createTenantCipher(gw.testDb.db, createLocalKeyWrapper(keys, current));
    expect(await cipher.open(t.id, stolen, secretAad(endpoint))).toBe(secret);
    await expect(cipher.open(t.id, stolen, secretAad(other))).rejects.toThrow(DecryptError);
    // Nor under another tenant's data key.
    const t2 = await createTenant(gw, 'Other');
    await expect(cipher.open(t2.id, stolen, secretAad(endpoint))).rejects.toThrow(DecryptError);
  });

  it('rewraps every tenant key with a new master key version while the old one still opens nothing new', async () => {
    const { keys } = parseMasterKeys(TEST_MASTER_KEY);
    const rotatedKeys = new Map([[2, randomBytes(32)], ...keys]);
    const next = createTenantCipher(gw.testDb.db, createLocalKeyWrapper(rotatedKeys, 2));
    const n = await next.rewrapAll();
    expect(n).toBeGreaterThanOrEqual(2);
    const versions = await gw.testDb.db.owner(async (q) =>
      (await q.query<{ v: number }>('SELECT DISTINCT master_version AS v FROM tenant_keys')).rows.map((r) => r.v),
    );
    expect(versions).toEqual([2]);
    const sealed = await gw.testDb.db.owner(
      async (q) => (await q.query<{ secret: string }>('SELECT secret FROM endpoints WHERE id = $1', [endpoint])).rows[0]!.secret,
    );
    expect(await next.open(t.id, sealed, secretAad(endpoint))).toBe(secret); // data keys unchanged: no value had to be re-encrypted
    const withoutOld = createTenantCipher(gw.testDb.db, createLocalKeyWrapper(new Map([[2, rotatedKeys.get(2)!]]), 2));
    expect(await withoutOld.open(t.id, sealed, secretAad(endpoint))).toBe(secret); // version 1 can now be dropped
    expect(await next.rewrapAll()).toBe(0);
  });
});

// `tramline keys rotate` on the embedded data folder: one process at a time, so PGlite only.
describe.runIf(engine() === 'pglite')('tramline keys rotate (embedded)', () => {
  it('adds a master key version, rewraps, and the gateway keeps its secrets across the rotation', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-keys-'));
    const port = await freePort();
    const env = {
      TRAMLINE_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8',
      LOG_LEVEL: 'warn',
    };
    const base = `http://127.0.0.1:${port}`;
    try {
      let gwp = spawnTramline(['start'], env);
      await gwp.waitForReady(base, 60_000);
      const operator = client(base, fs.readFileSync(path.join(dataDir, 'operator-token'), 'utf8').trim());
      const key = (await operator.post('/v1/tenants', { name: 'K' })).body.apiKey as string;
      const api = client(base, key);
      const c = (await api.post('/v1/consumers', { name: 'c' })).body.id;
      const e = (await api.post(`/v1/consumers/${c}/endpoints`, { url: 'http://127.0.0.1:9/x' })).body.id;
      const before = (await api.get(`/v1/consumers/${c}/endpoints/${e}/secret`)).body.secret;
      expect((await gwp.stop()).code).toBe(0);

      const run = await runTramline(['keys', 'rotate'], env, 60_000);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/Rewrapped 1 tenant data key\(s\) with master key version 2/);
      expect(parseMasterKeys(fs.readFileSync(path.join(dataDir, 'master-key'), 'utf8').trim()).current).toBe(2);

      gwp = spawnTramline(['start'], env);
      await gwp.waitForReady(base, 60_000);
      expect((await api.get(`/v1/consumers/${c}/endpoints/${e}/secret`)).body.secret).toBe(before);
      expect((await gwp.stop()).code).toBe(0);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('configuration', () => {
  it('refuses to start on a Postgres server without TRAMLINE_MASTER_KEY', async () => {
    // An address where nothing listens: the refusal comes before any connection is tried.
    const start = await runTramline(
      ['start', '--role', 'api'],
      { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', PORT: '0', TRAMLINE_MASTER_KEY: '' },
      30_000,
    );
    expect(start.code).toBe(1);
    expect(start.stdout + start.stderr).toMatch(/TRAMLINE_MASTER_KEY: required with DATABASE_URL/);
  });
});
