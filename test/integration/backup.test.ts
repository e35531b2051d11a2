import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { takeBackup } from '../../src/domain/backup/snapshot.ts';
import { restoreBackup } from '../../src/domain/backup/restore.ts';
import { inventory, runScheduledBackup } from '../../src/domain/backup/schedule.ts';
import type { Manifest } from '../../src/domain/backup/manifest.ts';
import { createLocalKeyWrapper, parseMasterKeys } from '../../src/domain/secrets/key-wrapper.ts';
import { BACKUP_LOCK, listTables } from '../../src/store/backup-read.ts';
import { BACKUP_TABLES, NOT_BACKED_UP } from '../../src/store/backup-tables.ts';
import { openPglite, openPostgres, type Db } from '../../src/store/db.ts';
import { folderStorage } from '../../src/domain/backup/storage/folder.ts';
import { s3Storage } from '../../src/domain/backup/storage/s3.ts';
import { VERSION } from '../../src/boot/version.ts';
import { engine, openTestDb, type TestDb } from '../helpers/db.ts';
import { createTenant, startTestGateway, TEST_MASTER_KEY, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { client } from '../helpers/client.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import {
  emptyPostgresDatabase,
  freePort,
  killAll,
  printChildOutputOnFailure,
  runTramline,
  spawnTramline,
  waitUntil,
} from '../helpers/process.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';

printChildOutputOnFailure();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-backup-test-'));
const keys = (() => {
  const k = parseMasterKeys(TEST_MASTER_KEY);
  return createLocalKeyWrapper(k.keys, k.current);
})();
const clock = (): Date => new Date();
const cleanups: Array<() => Promise<void>> = [];

/** A brand-new, empty database for `tramline restore` (a new PGlite folder, or a new Postgres database), and how to open it afterwards. */
async function freshTarget(): Promise<{ env: Record<string, string>; open(): Promise<TestDb> }> {
  if (engine() === 'pglite') {
    const dir = fs.mkdtempSync(path.join(tmp, 'target-'));
    return {
      env: { TRAMLINE_DATA_DIR: dir, TRAMLINE_MASTER_KEY: TEST_MASTER_KEY },
      async open() {
        const db = await openPglite({ dataDir: path.join(dir, 'pgdata') });
        return { engine: 'pglite', db, url: null, close: () => db.close() };
      },
    };
  }
  const empty = await emptyPostgresDatabase();
  cleanups.push(() => empty.drop());
  return {
    env: { DATABASE_URL: empty.url, TRAMLINE_MASTER_KEY: TEST_MASTER_KEY },
    async open() {
      const db = openPostgres(empty.url, 5);
      return { engine: 'postgres', db, url: empty.url, close: () => db.close() };
    },
  };
}

const rowsOf = async (db: Db, sql: string, params: unknown[] = []): Promise<string[]> =>
  db.system(async (q) => (await q.query<{ j: string }>(sql, params)).rows.map((r) => r.j));
const idsOf = async (db: Db, table: string): Promise<string[]> => rowsOf(db, `SELECT id AS j FROM ${table} ORDER BY id`);
const countOf = async (db: Db, table: string): Promise<number> =>
  db.system(async (q) => (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n);

// --- the source: a real gateway under load ----------------------------------

let srcDb: TestDb;
let gw: TestGateway;
let rx: Receiver;
let acme: TestTenant;
let consumer: string;
let endpoints: string[];
let secret: string;
let fullDir: string;
let manifest: Manifest;
let acceptedBefore: string[];
let acceptedAll: Set<string>;
let attemptsBefore: string[];

beforeAll(async () => {
  srcDb = await openTestDb();
  // A third of the requests fail with 500, so deliveries retry and attempts of both outcomes pile up.
  rx = await startReceiver((_r, i) => ({ status: i % 3 === 0 ? 500 : 200 }));
  gw = await startTestGateway({ testDb: srcDb });
  acme = await createTenant(gw, 'Acme');
  consumer = (await acme.api.post('/v1/consumers', { name: 'Globex', uid: 'globex' })).body.id;
  endpoints = [
    (await acme.api.post(`/v1/consumers/${consumer}/endpoints`, { url: `${rx.url}/a`, headers: { 'x-token': 'sealed-header' } })).body.id,
    (await acme.api.post(`/v1/consumers/${consumer}/endpoints`, { url: `${rx.url}/b` })).body.id,
  ];
  secret = (await acme.api.get(`/v1/consumers/${consumer}/endpoints/${endpoints[0]}/secret`)).body.secret;

  const accepted: string[] = [];
  let publishing = true;
  let n = 0;
  const lane = async (): Promise<void> => {
    while (publishing) {
      const i = n++;
      const r = await acme.api.post(`/v1/consumers/${consumer}/messages`, {
        eventType: 'invoice.paid',
        eventId: `inv_${i}`,
        payload: { i, text: 'über ✓ "quoted"\n' },
      });
      if (r.status === 202) accepted.push(r.body.id);
    }
  };
  const lanes = Array.from({ length: 4 }, lane);
  await waitUntil(async () => accepted.length >= 150 && (await countOf(srcDb.db, 'attempts')) >= 100, 60_000, 'load');

  // Everything accepted (202) and every attempt recorded before the backup starts must be in it.
  acceptedBefore = [...accepted];
  attemptsBefore = await idsOf(srcDb.db, 'attempts');
  fullDir = path.join(tmp, 'full');
  manifest = (await takeBackup({ db: srcDb.db, storage: folderStorage(fullDir), clock, tramlineVersion: VERSION }))!;
  const atBackup = accepted.length;
  await waitUntil(() => accepted.length >= atBackup + 20, 30_000, 'publishing continues after the backup');
  publishing = false;
  await Promise.all(lanes);
  acceptedAll = new Set(accepted);
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await srcDb?.close();
  await rx?.close();
  await killAll();
  for (const c of cleanups.reverse()) await c().catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a backup', () => {
  it('covers every table of the schema', async () => {
    const tables = await srcDb.db.owner((q) => listTables(q));
    expect(tables.filter((t) => !(NOT_BACKED_UP as readonly string[]).includes(t)).sort()).toEqual(BACKUP_TABLES.map((t) => t.name).sort());
  });

  it('is one gzipped NDJSON file per table and a manifest with counts and checksums', () => {
    expect(manifest.format).toBe('tramline-backup');
    expect(manifest.tramlineVersion).toBe(VERSION);
    expect(manifest.schemaVersion).toBe(manifest.migrations.at(-1));
    expect(manifest.tenant).toBeNull();
    expect(manifest.masterKeyVersions).toEqual([1]);
    const messages = manifest.tables.find((t) => t.name === 'messages')!;
    expect(messages.rows).toBeGreaterThanOrEqual(acceptedBefore.length);
    expect(fs.statSync(path.join(fullDir, messages.file)).size).toBe(messages.bytes);
    // The attempts before the backup are there, and the snapshot is consistent: a delivery row for each message and endpoint.
    expect(manifest.tables.find((t) => t.name === 'attempts')!.rows).toBeGreaterThanOrEqual(attemptsBefore.length);
    expect(manifest.tables.find((t) => t.name === 'deliveries')!.rows).toBe(messages.rows * 2);
  });
});

describe('restore into a new, empty database', () => {
  let target: TestDb;
  let restored: TestGateway;

  beforeAll(async () => {
    const t = await freshTarget();
    const run = await runTramline(['restore', fullDir], t.env, 120_000);
    expect(run.stderr).toMatch(/restore messages: \d+ rows/); // one line per table when stderr is not a terminal
    expect(run.stdout).toMatch(/Restored every tenant/);
    expect(run.code, run.stderr).toBe(0);
    target = await t.open();
  }, 150_000);
  afterAll(async () => {
    await restored?.stop();
    await target?.close();
  });

  it('holds every message accepted before the snapshot, byte for byte, and none that was never accepted', async () => {
    const ids = await idsOf(target.db, 'messages');
    const have = new Set(ids);
    expect(acceptedBefore.filter((id) => !have.has(id))).toEqual([]);
    expect(ids.filter((id) => !acceptedAll.has(id))).toEqual([]);
    expect(ids.length).toBe(manifest.tables.find((t) => t.name === 'messages')!.rows);
    const rowsSql = `SELECT row_to_json(m)::text AS j FROM messages m WHERE id = ANY($1::text[]) ORDER BY id`;
    expect(await rowsOf(target.db, rowsSql, [ids])).toEqual(await rowsOf(srcDb.db, rowsSql, [ids]));
  });

  it('holds every attempt recorded before the snapshot, and every endpoint, key and tenant as they were', async () => {
    const attempts = new Set(await idsOf(target.db, 'attempts'));
    expect(attemptsBefore.filter((id) => !attempts.has(id))).toEqual([]);
    const sql = (table: string) => `SELECT row_to_json(t)::text AS j FROM ${table} t WHERE id = ANY($1::text[]) ORDER BY id`;
    expect(await rowsOf(target.db, sql('attempts'), [attemptsBefore])).toEqual(await rowsOf(srcDb.db, sql('attempts'), [attemptsBefore]));
    expect(await rowsOf(target.db, sql('endpoints'), [endpoints])).toEqual(await rowsOf(srcDb.db, sql('endpoints'), [endpoints]));
    expect(await rowsOf(target.db, sql('tenants'), [[acme.id]])).toEqual(await rowsOf(srcDb.db, sql('tenants'), [[acme.id]]));
    const keySql = 'SELECT row_to_json(t)::text AS j FROM tenant_keys t ORDER BY tenant_id';
    expect(await rowsOf(target.db, keySql)).toEqual(await rowsOf(srcDb.db, keySql));
    for (const t of manifest.tables) expect(await countOf(target.db, t.name), t.name).toBe(t.rows);
  });

  it('serves the restored data on a gateway, with the original API key, and signs with the original secret', async () => {
    await gw.stop(); // the source is gone; its receiver stays, answering 200 from now on
    rx.reply = () => ({ status: 200 });
    restored = await startTestGateway({ testDb: target });
    const api = client(restored.url, acme.key);
    const old = await api.get(`/v1/consumers/globex/messages/${acceptedBefore[0]}`);
    expect(old.status).toBe(200);
    expect((await api.get(`/v1/consumers/globex/endpoints/${endpoints[0]}`)).body.headers).toEqual({ 'x-token': 'sealed-header' });
    expect((await api.get(`/v1/consumers/globex/endpoints/${endpoints[0]}/secret`)).body.secret).toBe(secret);

    const published = await api.post('/v1/consumers/globex/messages', {
      eventType: 'invoice.paid',
      eventId: 'after-restore',
      payload: { restored: true },
    });
    expect(published.status).toBe(202);
    const hit = await waitUntil(
      () => rx.received.find((r) => r.headers['webhook-id'] === published.body.id && r.path === '/a'),
      20_000,
      'the delivery from the restored gateway',
    );
    expect(hit.headers['x-token']).toBe('sealed-header');
    const verified = new Webhook(secret).verify(hit.body, {
      'webhook-id': hit.headers['webhook-id'] as string,
      'webhook-timestamp': hit.headers['webhook-timestamp'] as string,
      'webhook-signature': hit.headers['webhook-signature'] as string,
    }) as { data: unknown };
    expect(verified.data).toEqual({ restored: true });
  }, 60_000);
});

describe('moving one tenant', () => {
  let beta: { id: string; key: string; consumer: string; endpoint: string; secret: string; message: string };
  let targetGw: TestGateway;
  let other: TestTenant;
  const dir = path.join(tmp, 'beta');

  beforeAll(async () => {
    // The source gateway may be stopped by now: create Beta on a gateway of its own over the same database.
    const g = await startTestGateway({ testDb: srcDb, role: 'api' });
    try {
      const t = await createTenant(g, 'Beta');
      const c = (await t.api.post('/v1/consumers', { name: 'Initech' })).body.id;
      const e = (await t.api.post(`/v1/consumers/${c}/endpoints`, { url: `${rx.url}/beta` })).body.id;
      const m = (await t.api.post(`/v1/consumers/${c}/messages`, { eventType: 'x.y', payload: { beta: 1 } })).body.id;
      const s = (await t.api.get(`/v1/consumers/${c}/endpoints/${e}/secret`)).body.secret;
      beta = { id: t.id, key: t.key, consumer: c, endpoint: e, secret: s, message: m };
    } finally {
      await g.stop();
    }
    targetGw = await startTestGateway({ role: 'api' });
    other = await createTenant(targetGw, 'Other');
    await other.api.post('/v1/consumers', { name: 'Stays' });
  }, 60_000);
  afterAll(async () => {
    await targetGw?.stop();
  });

  it('backs up only that tenant and restores it beside the tenants already there', async () => {
    const m = (await takeBackup({ db: srcDb.db, storage: folderStorage(dir), tenant: beta.id, clock, tramlineVersion: VERSION }))!;
    expect(m.tenant).toBe(beta.id);
    expect(m.tables.find((t) => t.name === 'tenants')!.rows).toBe(1);
    expect(m.tables.find((t) => t.name === 'messages')!.rows).toBe(1);
    expect(m.tables.find((t) => t.name === 'attempts')!.rows).toBe(0);

    await restoreBackup({ db: targetGw.testDb.db, storage: folderStorage(dir), keys });
    expect(
      (await targetGw.testDb.db.system((q) => q.query<{ id: string }>('SELECT id FROM tenants ORDER BY id'))).rows.map((r) => r.id).sort(),
    ).toEqual([other.id, beta.id].sort());
    const api = client(targetGw.url, beta.key);
    expect((await api.get(`/v1/consumers/${beta.consumer}/messages/${beta.message}`)).body.payload).toEqual({ beta: 1 });
    expect((await api.get(`/v1/consumers/${beta.consumer}/endpoints/${beta.endpoint}/secret`)).body.secret).toBe(beta.secret);
    expect((await other.api.get('/v1/consumers')).body.data.map((c: { name: string }) => c.name)).toEqual(['Stays']);
    expect((await api.get('/v1/consumers')).body.data.map((c: { name: string }) => c.name)).toEqual(['Initech']);
  });

  it('refuses to restore a tenant the database already holds, changing nothing', async () => {
    await expect(restoreBackup({ db: targetGw.testDb.db, storage: folderStorage(dir), keys })).rejects.toThrow(/already holds tenant/);
    expect(await countOf(targetGw.testDb.db, 'tenants')).toBe(2);
  });

  it('refuses a full backup into a database that is not empty, changing nothing', async () => {
    await expect(restoreBackup({ db: targetGw.testDb.db, storage: folderStorage(fullDir), keys })).rejects.toThrow(/not empty/);
    expect(await countOf(targetGw.testDb.db, 'tenants')).toBe(2);
    expect(await countOf(targetGw.testDb.db, 'messages')).toBe(1);
  });
});

describe('refusals', () => {
  let empty: TestDb;
  const copy = (name: string): string => {
    const d = path.join(tmp, name);
    fs.cpSync(fullDir, d, { recursive: true });
    return d;
  };
  beforeAll(async () => {
    empty = await openTestDb();
  });
  afterAll(async () => {
    await empty?.close();
  });
  const untouched = async (): Promise<void> => {
    for (const t of BACKUP_TABLES) expect(await countOf(empty.db, t.name), t.name).toBe(0);
  };

  it('a backup without its manifest (incomplete) is refused, on the command line too', async () => {
    const d = copy('no-manifest');
    fs.rmSync(path.join(d, 'manifest.json'));
    await expect(restoreBackup({ db: empty.db, storage: folderStorage(d), keys })).rejects.toThrow(
      /no manifest\.json: the backup is incomplete/,
    );
    await untouched();
    const t = await freshTarget();
    const run = await runTramline(['restore', d], t.env, 60_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no manifest\.json/);
    // Refused before the target was touched: no embedded database was even created.
    if (t.env.TRAMLINE_DATA_DIR) expect(fs.existsSync(path.join(t.env.TRAMLINE_DATA_DIR, 'pgdata'))).toBe(false);
  }, 90_000);

  it('a corrupted file fails its checksum and nothing is restored', async () => {
    const d = copy('corrupt');
    const file = path.join(d, 'attempts.ndjson.gz');
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    await expect(restoreBackup({ db: empty.db, storage: folderStorage(d), keys })).rejects.toThrow(
      /attempts\.ndjson\.gz: checksum mismatch/,
    );
    await untouched();
  });

  it('a wrong or missing master key is refused before anything is loaded', async () => {
    const wrong = createLocalKeyWrapper(new Map([[1, randomBytes(32)]]), 1);
    await expect(restoreBackup({ db: empty.db, storage: folderStorage(fullDir), keys: wrong })).rejects.toThrow(
      /master key of the instance that took the backup/,
    );
    await expect(restoreBackup({ db: empty.db, storage: folderStorage(fullDir), keys: null })).rejects.toThrow(/no master key/);
    await untouched();
  });

  it('a backup into a folder that already holds one is refused', async () => {
    const before = fs.readFileSync(path.join(fullDir, 'manifest.json'), 'utf8');
    const run = await runTramline(['backup', fullDir], {
      TRAMLINE_DATA_DIR: path.join(tmp, 'unused'),
      TRAMLINE_MASTER_KEY: TEST_MASTER_KEY,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/already holds a backup/);
    expect(fs.readFileSync(path.join(fullDir, 'manifest.json'), 'utf8')).toBe(before);
  });

  it('a database with a table this version does not know is not backed up (it would be left out silently)', async () => {
    await empty.db.owner((q) => q.exec('CREATE TABLE webhooks_extra (id text PRIMARY KEY)'));
    const dir = path.join(tmp, 'unknown-table');
    await expect(takeBackup({ db: empty.db, storage: folderStorage(dir), clock, tramlineVersion: VERSION })).rejects.toThrow(
      /tables this Tramline does not know \(webhooks_extra\)/,
    );
    expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(false);
  });

  // The embedded database's folder belongs to one process: with a gateway on it, the command says so and exits.
  it.runIf(engine() === 'pglite')(
    'backup and restore refuse, without hanging, while a gateway holds the data folder',
    async () => {
      const dataDir = fs.mkdtempSync(path.join(tmp, 'held-'));
      const port = await freePort();
      const env = {
        TRAMLINE_DATA_DIR: dataDir,
        TRAMLINE_MASTER_KEY: TEST_MASTER_KEY,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
      };
      const g = spawnTramline(['start'], env);
      await g.waitForReady(`http://127.0.0.1:${port}`);
      for (const args of [
        ['backup', path.join(tmp, 'never')],
        ['restore', fullDir],
      ]) {
        const run = await runTramline(args, env, 30_000);
        expect(run.timedOut).toBe(false);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/while a gateway has it open.*Stop the gateway/s);
      }
      expect(fs.existsSync(path.join(tmp, 'never', 'manifest.json'))).toBe(false);
      expect((await g.stop()).code).toBe(0);
    },
    90_000,
  );
});

describe('S3', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startS3(['backups']);
    // The SDK takes credentials from its usual chain; this process's environment is the test's own.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  });
  afterAll(async () => {
    await s3?.close();
  });
  const bucket = (prefix: string) => s3Storage('backups', prefix, { endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });

  it('backs up to s3:// (a large table in multipart upload) and restores from it with the command line', async () => {
    // About 7 MiB of incompressible payloads, so the messages file goes up in several parts.
    const g = await startTestGateway({ testDb: srcDb, role: 'api' });
    try {
      const bulk = await createTenant(g, 'Bulk');
      const c = (await bulk.api.post('/v1/consumers', { name: 'Big' })).body.id;
      for (let i = 0; i < 50; i++) {
        const r = await bulk.api.post(`/v1/consumers/${c}/messages`, {
          eventType: 'blob',
          payload: { blob: randomBytes(110_000).toString('base64') },
        });
        expect(r.status).toBe(202);
      }
    } finally {
      await g.stop();
    }
    const m = (await takeBackup({ db: srcDb.db, storage: bucket('full'), clock, tramlineVersion: VERSION }))!;
    expect(m.tables.find((t) => t.name === 'messages')!.bytes).toBeGreaterThan(5 * 1024 * 1024);

    const t = await freshTarget();
    const run = await runTramline(['restore', 's3://backups/full'], { ...t.env, ...s3.env }, 120_000);
    expect(run.code, run.stderr).toBe(0);
    const target = await t.open();
    try {
      for (const table of m.tables) expect(await countOf(target.db, table.name), table.name).toBe(table.rows);
      const sql = `SELECT md5(string_agg(payload, ',' ORDER BY id)) AS j FROM messages`;
      expect(await rowsOf(target.db, sql)).toEqual(await rowsOf(srcDb.db, sql));
    } finally {
      await target.close();
    }

    // And `tramline backup s3://…` from the command line, of the restored database: the same rows again.
    const again = await runTramline(['backup', 's3://backups/again'], { ...t.env, ...s3.env }, 120_000);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Backup written to s3:\/\/backups\/again/);
    const copyManifest = JSON.parse(await streamText(await bucket('again').get('manifest.json'))) as Manifest;
    expect(copyManifest.tables.map((x) => [x.name, x.rows])).toEqual(m.tables.map((x) => [x.name, x.rows]));
  }, 240_000);

  it('the scheduler takes backups on its interval and keeps the newest N', async () => {
    const g = await startTestGateway({
      env: { ...s3.env, TRAMLINE_BACKUP_DEST: 's3://backups/scheduled', TRAMLINE_BACKUP_INTERVAL: '400ms', TRAMLINE_BACKUP_KEEP: '2' },
      role: 'scheduler',
    });
    const seen = new Set<string>();
    try {
      await waitUntil(
        async () => {
          for (const f of await inventory(bucket('scheduled'))) if (f.complete) seen.add(f.name);
          return seen.size >= 4;
        },
        60_000,
        'four scheduled backups',
      );
    } finally {
      await g.stop();
    }
    const left = await inventory(bucket('scheduled'));
    expect(left.filter((f) => !f.complete)).toEqual([]);
    // The two kept are the newest taken (one more may have finished between the last look and the stop).
    for (const f of left) seen.add(f.name);
    expect(left.map((f) => f.name).sort()).toEqual([...seen].sort().slice(-2));
  }, 90_000);
});

describe('retention in a folder', () => {
  let small: TestDb;
  beforeAll(async () => {
    small = await openTestDb();
  });
  afterAll(async () => {
    await small?.close();
  });

  it('keeps N, one backup per interval however often it is asked', async () => {
    const dir = path.join(tmp, 'scheduled');
    let now = Date.parse('2026-11-26T00:00:00Z');
    const o = {
      db: small.db,
      storage: folderStorage(dir),
      clock: () => new Date(now),
      intervalMs: 3_600_000,
      keep: 3,
      tramlineVersion: VERSION,
    };
    const taken: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await runScheduledBackup(o);
      expect(r.taken).not.toBeNull();
      taken.push(r.taken!);
      expect((await runScheduledBackup(o)).taken).toBeNull(); // not due yet
      now += 3_600_000;
    }
    expect(fs.readdirSync(dir).sort()).toEqual(taken.slice(-3));
  }, 60_000);

  // Only Postgres has other sessions that can hold the lock while this one asks for it.
  it.runIf(engine() === 'postgres')('takes no backup while another process holds the backup lock', async () => {
    // Advisory locks belong to one database: the holder connects to the same one.
    const holder = new pg.Client({ connectionString: small.url! });
    await holder.connect();
    const dir = path.join(tmp, 'locked');
    const o = { db: small.db, storage: folderStorage(dir), clock, intervalMs: 3_600_000, keep: 3, tramlineVersion: VERSION };
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [BACKUP_LOCK]);
      expect((await runScheduledBackup(o)).taken).toBeNull();
      await holder.query('SELECT pg_advisory_unlock($1)', [BACKUP_LOCK]);
      expect((await runScheduledBackup(o)).taken).not.toBeNull();
    } finally {
      await holder.end();
    }
  });
});

async function streamText(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
