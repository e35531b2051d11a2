/**
 * Backup and restore of 100,000 messages on Postgres: how long each takes, how big the backup is,
 * and how much memory the process needed (it streams, so it should not grow with the data).
 *
 *   npm run bench:backup -- [--messages 100000] [--json bench/results/backup.json]
 *
 * Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres): a fresh database
 * `tramline_bench_backup` as the source and `tramline_bench_restore` as the target, both dropped
 * afterwards. The source gets a real tenant, consumer and endpoint through the API, then N messages,
 * each with one succeeded delivery and one attempt (seeded in SQL: publishing 100,000 messages
 * through the API would measure the gateway, not the backup).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { startGateway } from '../src/main.ts';
import { openPostgres } from '../src/store/db.ts';
import { takeBackup } from '../src/domain/backup/snapshot.ts';
import { restoreBackup } from '../src/domain/backup/restore.ts';
import type { BackupProgress } from '../src/domain/backup/progress.ts';
import { createLocalKeyWrapper, parseMasterKeys } from '../src/domain/secrets/key-wrapper.ts';
import { folderStorage } from '../src/domain/backup/storage/folder.ts';
import { VERSION } from '../src/boot/version.ts';

const { values: args } = parseArgs({ options: { messages: { type: 'string', default: '100000' }, json: { type: 'string' } } });
const N = Number(args.messages);
const BASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MASTER_KEY = Buffer.alloc(32, 0x42).toString('base64');
const OPERATOR = 'bench-operator-token-0123456789';

const withDb = (name: string): string => {
  const u = new URL(BASE);
  u.pathname = `/${name}`;
  return u.toString();
};

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: BASE });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 25);

async function seed(url: string): Promise<{ tenant: string }> {
  const config = loadConfig({
    DATABASE_URL: url,
    TRAMLINE_MASTER_KEY: MASTER_KEY,
    TRAMLINE_OPERATOR_TOKEN: OPERATOR,
    PORT: '0',
    HOST: '127.0.0.1',
    TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8',
  });
  const gw = await startGateway(config, 'api', pino({ level: 'silent' }));
  try {
    const call = async (token: string, p: string, body: unknown): Promise<{ id: string; apiKey?: string }> => {
      const r = await fetch(`${gw.url}${p}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
      return (await r.json()) as { id: string; apiKey?: string };
    };
    const tenant = await call(OPERATOR, '/v1/tenants', { name: 'Bench' });
    const consumer = await call(tenant.apiKey!, '/v1/consumers', { name: 'Globex' });
    const endpoint = await call(tenant.apiKey!, `/v1/consumers/${consumer.id}/endpoints`, { url: 'http://127.0.0.1:9/hook' });
    await gw.db.system(async (q) => {
      const id = (prefix: string) => `'${prefix}_bench' || lpad(i::text, 8, '0')`;
      await q.query(
        `INSERT INTO messages (id, tenant_id, consumer_id, event_type, event_id, payload, created_at)
         SELECT ${id('msg')}, $1, $2, 'invoice.paid', 'inv_' || i,
                json_build_object('invoice', 'inv_' || i, 'amount', i % 100000, 'currency', 'EUR', 'customer', md5(i::text),
                  'lines', json_build_array(json_build_object('sku', md5((i * 7)::text), 'qty', i % 5 + 1, 'price', i % 977)))::text,
                now() - (${N} - i) * interval '10 ms'
           FROM generate_series(1, ${N}) i`,
        [tenant.id, consumer.id],
      );
      await q.query(
        `INSERT INTO deliveries (id, tenant_id, message_id, endpoint_id, state, attempts, last_status, created_at, updated_at)
         SELECT ${id('dlv')}, $1, ${id('msg')}, $2, 'succeeded', 1, 200, now(), now() FROM generate_series(1, ${N}) i`,
        [tenant.id, endpoint.id],
      );
      await q.query(
        `INSERT INTO attempts (id, tenant_id, delivery_id, message_id, endpoint_id, attempt, outcome, status_code, response_body, started_at, duration_ms)
         SELECT ${id('atm')}, $1, ${id('dlv')}, ${id('msg')}, $2, 1, 'succeeded', 200, '{"ok":true}', now(), 5 + i % 40 FROM generate_series(1, ${N}) i`,
        [tenant.id, endpoint.id],
      );
    });
    return { tenant: tenant.id };
  } finally {
    await gw.stop();
  }
}

function phaseTimer(): { onProgress: (p: BackupProgress) => void; ms: Record<string, number> } {
  const first: Record<string, number> = {};
  const ms: Record<string, number> = {};
  return {
    ms,
    onProgress(p) {
      first[p.phase] ??= performance.now();
      if (p.finished) ms[p.phase] = Math.round(performance.now() - first[p.phase]!);
    },
  };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-bench-backup-'));
try {
  await admin('DROP DATABASE IF EXISTS tramline_bench_backup WITH (FORCE)');
  await admin('DROP DATABASE IF EXISTS tramline_bench_restore WITH (FORCE)');
  await admin('CREATE DATABASE tramline_bench_backup');
  await admin('CREATE DATABASE tramline_bench_restore');
  process.stderr.write(`seeding ${N} messages, deliveries and attempts…\n`);
  await seed(withDb('tramline_bench_backup'));
  peakRss = process.memoryUsage().rss;
  const rssBefore = peakRss;

  const source = openPostgres(withDb('tramline_bench_backup'), 2);
  const b = phaseTimer();
  let t0 = performance.now();
  const manifest = (await takeBackup({
    db: source,
    storage: folderStorage(dir),
    clock: () => new Date(),
    tramlineVersion: VERSION,
    onProgress: b.onProgress,
  }))!;
  const backupMs = Math.round(performance.now() - t0);
  await source.close();
  const bytes = manifest.tables.reduce((n, t) => n + t.bytes, 0);
  const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
  const backupPeakRss = peakRss;

  peakRss = process.memoryUsage().rss;
  const target = openPostgres(withDb('tramline_bench_restore'), 2);
  const { keys, current } = parseMasterKeys(MASTER_KEY);
  const r = phaseTimer();
  t0 = performance.now();
  await restoreBackup({ db: target, storage: folderStorage(dir), keys: createLocalKeyWrapper(keys, current), onProgress: r.onProgress });
  const restoreMs = Math.round(performance.now() - t0);
  await target.close();

  const mib = (n: number): number => Math.round((n / 1024 / 1024) * 10) / 10;
  const result = {
    engine: 'postgres',
    messages: manifest.tables.find((t) => t.name === 'messages')!.rows,
    rows,
    backupMs,
    backupMiB: mib(bytes),
    messagesFileMiB: mib(manifest.tables.find((t) => t.name === 'messages')!.bytes),
    restoreMs,
    restoreVerifyMs: r.ms.verify,
    restoreLoadMs: r.ms.restore,
    peakRssMiB: { beforeBackup: mib(rssBefore), backup: mib(backupPeakRss), restore: mib(peakRss) },
  };
  process.stdout.write(
    `\n${result.messages} messages (${rows} rows in ${manifest.tables.length} tables), Postgres, ${os.cpus().length} vCPU\n` +
      `backup : ${(backupMs / 1000).toFixed(1)} s, ${result.backupMiB} MiB gzipped (messages ${result.messagesFileMiB} MiB)\n` +
      `restore: ${(restoreMs / 1000).toFixed(1)} s (verify checksums ${((r.ms.verify ?? 0) / 1000).toFixed(1)} s, load and check counts ${((r.ms.restore ?? 0) / 1000).toFixed(1)} s)\n` +
      `peak RSS: ${result.peakRssMiB.beforeBackup} MiB before, ${result.peakRssMiB.backup} MiB during backup, ${result.peakRssMiB.restore} MiB during restore\n`,
  );
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  clearInterval(sampler);
  fs.rmSync(dir, { recursive: true, force: true });
  await admin('DROP DATABASE IF EXISTS tramline_bench_backup WITH (FORCE)').catch(() => {});
  await admin('DROP DATABASE IF EXISTS tramline_bench_restore WITH (FORCE)').catch(() => {});
}
