import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../helpers/client.ts';
import { engine } from '../helpers/db.ts';
import {
  emptyPostgresDatabase,
  freePort,
  killAll,
  printChildOutputOnFailure,
  ROOT,
  runTramline,
  spawnTramline,
  type TramlineProcess,
  waitUntil,
} from '../helpers/process.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';

/**
 * Expand/contract, shown with real processes: the previous release's code runs on the schema the current
 * code migrated to, as it does during a rollout (the migration Job runs before the new pods; the old pods
 * serve until they are replaced), and it still publishes and delivers.
 *
 * "The previous release" is the newest commit of this checkout's first-parent history whose migrations are
 * a strict subset of the working tree's: the code just before the newest migration arrived. Its sources come
 * from `git archive` and run through tsx with this checkout's node_modules (its own lockfile is not
 * installed: a release whose dependencies changed incompatibly would show here as a failure to start, not
 * be hidden).
 *
 * On Postgres the two versions run side by side on one database, as in a rollout: old api + worker, a new
 * api beside it; messages published through either are read through the other and delivered by the old
 * worker; then the old process stops, a new worker takes over and delivers. On PGlite (one process per data
 * folder) they run one after the other on the same data.
 */
const OPERATOR_TOKEN = 'previous-release-operator-0123456789abcdef';
const MIGRATIONS = 'src/store/migrations';
const git = (...args: string[]): string => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();
const ids = (names: string[]): string[] =>
  names
    .map((f) => path.basename(f))
    .filter((f) => /^\d{4}_[\w-]+\.(ts|sql)$/.test(f))
    .map((f) => f.replace(/\.(ts|sql)$/, ''))
    .sort();

/** The newest first-parent commit whose migrations are a strict subset of the working tree's, or why there is none. */
function previousRelease(): { commit: string; subject: string; migrations: string[]; current: string[] } | string {
  const current = ids(fs.readdirSync(path.join(ROOT, MIGRATIONS)));
  let touching: string[];
  try {
    touching = git('rev-list', '--first-parent', 'HEAD', '--', MIGRATIONS).split('\n').filter(Boolean);
  } catch (err) {
    return `not a git checkout with history (${(err as Error).message.split('\n')[0]})`;
  }
  // HEAD itself when a migration is not committed yet, else the first parent of each commit that changed them.
  const candidates = ['HEAD', ...touching.map((c) => `${c}^1`)];
  for (const c of candidates) {
    let files: string[];
    try {
      files = git('ls-tree', '--name-only', `${c}:${MIGRATIONS}`).split('\n');
    } catch {
      continue; // no such commit (the first one) or no migrations folder yet
    }
    const migrations = ids(files);
    if (migrations.length < current.length && migrations.every((m) => current.includes(m))) {
      const commit = git('rev-parse', c);
      return { commit, subject: git('log', '-1', '--format=%s', commit).slice(0, 100), migrations, current };
    }
  }
  return `no commit in the first-parent history has a strict subset of the ${current.length} migrations (a shallow clone? fetch the history: git fetch --unshallow)`;
}

const release = previousRelease();
if (typeof release === 'string') process.stdout.write(`SKIPPED: previous release on the new schema: ${release}\n`);

let oldDir = '';
let dataDir = '';
let dropDb: (() => Promise<void>) | null = null;
let dbUrl: string | null = null;
let rx: Receiver;

printChildOutputOnFailure();
afterEach(() => killAll());
beforeAll(async () => {
  if (typeof release === 'string') return;
  oldDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-previous-'));
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive ${release.commit} | tar -x -C "${oldDir}"`]);
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(oldDir, 'node_modules'));
  if (engine() === 'postgres') {
    const db = await emptyPostgresDatabase();
    dbUrl = db.url;
    dropDb = db.drop;
  } else dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-previous-data-'));
  rx = await startReceiver();
}, 120_000);
afterAll(async () => {
  await killAll();
  await rx?.close();
  await dropDb?.();
  for (const d of [oldDir, dataDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

function env(port: number | null): Record<string, string> {
  return {
    ...(port !== null ? { PORT: String(port), HOST: '127.0.0.1' } : {}),
    TRAMLINE_OPERATOR_TOKEN: OPERATOR_TOKEN,
    TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8',
    TRAMLINE_POLL_INTERVAL: '100ms',
    TRAMLINE_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...(dbUrl ? { DATABASE_URL: dbUrl } : { TRAMLINE_DATA_DIR: dataDir }),
  };
}

async function start(version: 'previous' | 'current', role: 'all' | 'api' | 'worker'): Promise<{ p: TramlineProcess; url: string | null }> {
  const port = role === 'worker' ? null : await freePort();
  const p = spawnTramline(['start', '--role', role], env(port), {
    name: `${version} ${role}`,
    ...(version === 'previous' ? { entry: { nodeArgs: ['--import', 'tsx', 'src/cli/main.ts'], cwd: oldDir } } : {}),
  });
  const url = port === null ? null : `http://127.0.0.1:${port}`;
  if (url) await p.waitForReady(url, 120_000);
  else await p.waitForOutput('"tramline started"', 120_000);
  return { p, url };
}

async function publish(base: string, key: string, n: number, tag: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await client(base, key).post('/v1/consumers/acme/messages', { eventType: 'release.check', payload: { tag, i } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    out.push((r.body as { id: string }).id);
  }
  return out;
}

async function readBack(base: string, key: string, id: string): Promise<void> {
  const r = await client(base, key).get(`/v1/consumers/acme/messages/${id}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body).toMatchObject({ id, eventType: 'release.check' });
}

const delivered = (): string[] => rx.received.map((r) => String(r.headers['webhook-id']));

describe.skipIf(typeof release === 'string')('the previous release on the schema of this one', () => {
  it('publishes, reads and delivers beside the current code, and hands over to it', async () => {
    if (typeof release === 'string') return;
    console.log(
      `previous release: ${release.commit.slice(0, 12)} "${release.subject}" — migrations ${release.migrations.at(-1)} ` +
        `(${release.migrations.length}); this checkout ${release.current.at(-1)} (${release.current.length})`,
    );
    // The migration Job: the current code migrates before any old process meets the new schema.
    const migrated = await runTramline(['migrate'], env(null), 120_000);
    expect(migrated.code, migrated.stdout + migrated.stderr).toBe(0);

    const old = await start('previous', 'all');
    const created = await client(old.url!, OPERATOR_TOKEN).post('/v1/tenants', { name: 'Acme' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const key = (created.body as { apiKey: string }).apiKey;
    expect((await client(old.url!, key).post('/v1/consumers', { name: 'Acme', uid: 'acme' })).status).toBe(201);
    expect((await client(old.url!, key).post('/v1/consumers/acme/endpoints', { url: `${rx.url}/hook` })).status).toBe(201);
    const sent = await publish(old.url!, key, 5, 'previous');

    let current: { p: TramlineProcess; url: string | null } | null = null;
    if (engine() === 'postgres') {
      // Side by side: the new api writes, the old worker delivers; each version reads what the other wrote.
      current = await start('current', 'api');
      sent.push(...(await publish(current.url!, key, 5, 'current')));
      await readBack(current.url!, key, sent[0]!);
      await readBack(old.url!, key, sent.at(-1)!);
    }
    await waitUntil(() => sent.every((id) => delivered().includes(id)) || undefined, 60_000, 'every message delivered by the old worker');

    // The old process leaves as in a rollout; the current code takes over the same data.
    old.p.kill('SIGTERM');
    expect(await old.p.exited).toEqual({ code: 0, signal: null });
    let base: string;
    if (current) {
      await start('current', 'worker');
      base = current.url!;
    } else base = (await start('current', 'all')).url!;
    await readBack(base, key, sent[0]!);
    sent.push(...(await publish(base, key, 3, 'after')));
    await waitUntil(() => sent.every((id) => delivered().includes(id)) || undefined, 60_000, 'every message delivered');

    // Each message once (no delivery repeated across the versions), each with a signature.
    expect(delivered().sort()).toEqual([...sent].sort());
    for (const r of rx.received) expect(r.headers['webhook-signature']).toMatch(/^v1,/);
    if (dbUrl) {
      // The receiver has answered before the worker records the outcome: wait for the records to settle.
      const c = new pg.Client({ connectionString: dbUrl });
      await c.connect();
      const states = async () =>
        (await c.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM deliveries GROUP BY state')).rows;
      try {
        await waitUntil(
          async () => ((await states()).some((s) => s.state === 'sending') ? undefined : true),
          30_000,
          'every outcome recorded',
        );
        expect(await states()).toEqual([{ state: 'succeeded', n: String(sent.length) }]);
      } finally {
        await c.end();
      }
    }
  }, 420_000);
});
