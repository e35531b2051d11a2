/**
 * `npm run test:rollout`: zero failed requests and zero lost messages while every process of a fleet is
 * replaced one by one, as a Kubernetes rolling update does it.
 *
 * The fleet (fleet.ts): api, worker and scheduler processes of the compiled build on a fresh Postgres
 * database, behind Debian's nginx (nginx.ts, deploy/nginx/rollout.conf.template), delivering to a receiver
 * process. The load (load.ts) sends steady publishes and reads through nginx; then each api process in turn:
 * SIGTERM → its /readyz fails at once while it keeps serving (TRAMLINE_DRAIN_DELAY) → the controller takes it
 * out of nginx → it waits until no request has reached it for a moment, closes and exits → a new process
 * starts → once ready it is put back. Workers and the scheduler: SIGTERM, exit, start, started.
 *
 * Prints the figures (requests sent, 2xx, non-2xx by status, connection errors, p50/p99 before / during /
 * after, messages accepted / stored / delivered / lost), explains every failed or retried request from
 * nginx's logs, and exits 1 unless there were 0 failed requests and 0 lost messages. Everything is bounded in
 * time; everything listens on 127.0.0.1 only. docs/rollout.md describes the method and the last figures.
 *
 * `--short`: a smaller fleet for about a minute (CI). Environment: DATABASE_URL (a Postgres server where a database may be created; default
 * postgres://postgres@127.0.0.1:5432/postgres); ROLLOUT_RATE (requests a second, default 40: about half of
 * what `npm run test:rollout:capacity` measured on the shared 2-core machine); ROLLOUT_APIS (3),
 * ROLLOUT_WORKERS (2), ROLLOUT_DRAIN_DELAY_MS (10000), ROLLOUT_BEFORE_S (10), ROLLOUT_AFTER_S (5);
 * ROLLOUT_CONTROLLER_LAG_MS (0: how late the controller takes a terminating replica out of nginx, to play a
 * slow endpoints controller or ingress);
 * ROLLOUT_IDEMPOTENCY_KEYS=0 (publishes without a key: nginx may not send one twice); ROLLOUT_KEEP=1 (keep
 * every log); NGINX (default: nginx on the PATH).
 */
import pg from 'pg';
import { ensureBuilt } from '../../scripts/build.js';
import { Fleet, type Proc } from './fleet.ts';
import { clientKeepAlive, setupTenant, startLoad, type Sample } from './load.ts';
import { type AccessEntry, nginxVersion, readAccessLog, readErrorLog } from './nginx.ts';
import { envNumber, loadAverage, percentile, say, sleep, summarize } from './support.ts';

// --short (CI, test/deploy/rollout.test.ts): 2 api and 1 worker, a 3 s drain delay, 5 s before and 3 s after,
// 15 requests a second — about a minute on the shared machine. The environment overrides either set.
const SHORT = process.argv.includes('--short');
const RATE = envNumber('ROLLOUT_RATE', SHORT ? 15 : 40);
const APIS = envNumber('ROLLOUT_APIS', SHORT ? 2 : 3);
const WORKERS = envNumber('ROLLOUT_WORKERS', SHORT ? 1 : 2);
const DRAIN_DELAY_MS = envNumber('ROLLOUT_DRAIN_DELAY_MS', SHORT ? 3000 : 10_000);
const BEFORE_MS = envNumber('ROLLOUT_BEFORE_S', SHORT ? 5 : 10) * 1000;
const AFTER_MS = envNumber('ROLLOUT_AFTER_S', SHORT ? 3 : 5) * 1000;
const CONTROLLER_LAG_MS = Number(process.env.ROLLOUT_CONTROLLER_LAG_MS ?? 0);
const KEYS = process.env.ROLLOUT_IDEMPOTENCY_KEYS !== '0';
const KEEP = process.env.ROLLOUT_KEEP === '1';
const HARD_LIMIT_MS = (SHORT ? 5 : 15) * 60_000;

const fleet = new Fleet({
  apis: APIS,
  workers: WORKERS,
  drainDelayMs: DRAIN_DELAY_MS,
  controllerLagMs: CONTROLLER_LAG_MS,
  baseDb: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
});
const hardLimit = setTimeout(() => {
  console.error(`rollout: still running after ${HARD_LIMIT_MS / 1000} s; giving up`);
  void fleet.stop(true, true).finally(() => process.exit(1));
}, HARD_LIMIT_MS);
process.on('SIGINT', () => void fleet.stop(true, KEEP).finally(() => process.exit(130)));

async function main(): Promise<boolean> {
  say('building dist/ if stale');
  ensureBuilt();
  const loadBefore = loadAverage();
  await fleet.start();
  const base = fleet.nginx!.url;
  const key = await setupTenant(base, fleet.operatorToken, fleet.rxUrl);
  const load = startLoad(base, key, RATE, { idempotencyKeys: KEYS });
  say(`load: ${RATE} requests/s through nginx on ${base} (70 % publishes${KEYS ? ' with an Idempotency-Key' : ''}, 30 % reads)`);
  await sleep(BEFORE_MS);

  load.phase = 'during';
  const rolloutStart = Date.now();
  const steps: string[] = [];
  for (const old of fleet.apis()) steps.push(await fleet.replaceApi(old));
  for (const old of fleet.others()) steps.push(await fleet.replaceBackground(old));
  const rolloutMs = Date.now() - rolloutStart;
  say(`rollout done in ${(rolloutMs / 1000).toFixed(1)} s`);
  load.phase = 'after';
  await sleep(AFTER_MS);
  // Every request ends within its timeouts (nginx answers 504 after 30 s): the figures count only answered ones.
  const unanswered = await load.stop(65_000);
  await load.close();
  const loadDuring = loadAverage();
  const accepted = new Set(load.accepted);

  // Conservation: every accepted publish is stored and delivered.
  const { delivered, rx } = await waitDelivered(accepted, 120_000);
  const db = new pg.Client({ connectionString: fleet.dbUrl });
  await db.connect();
  const ids = [...accepted];
  const stored = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM messages WHERE id = ANY($1::text[])', [ids])).rows[0]!.n);
  const rows = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM messages')).rows[0]!.n);
  await db.end();

  const samples = load.samples;
  const ok2xx = samples.filter((s) => s.status !== null && s.status >= 200 && s.status <= 299);
  const failures = samples.filter((s) => s.status !== null && (s.status < 200 || s.status > 299));
  const connErrors = samples.filter((s) => s.status === null);
  let deliveredAccepted = 0;
  for (const id of accepted) if (delivered.has(id)) deliveredAccepted++;
  const lost = accepted.size - deliveredAccepted;
  const access = readAccessLog(fleet.nginx!.prefix);

  console.log('\n=== rollout figures ===');
  console.log(
    `fleet                     ${APIS} api, ${WORKERS} worker, 1 scheduler on Postgres; nginx ${nginxVersion()}; rate ${RATE}/s; ` +
      `drain delay ${DRAIN_DELAY_MS} ms; ${CONTROLLER_LAG_MS ? `controller ${CONTROLLER_LAG_MS} ms late; ` : ''}client keep-alive ${clientKeepAlive() ? 'on' : 'off'}; publishes ${KEYS ? 'with' : 'without'} Idempotency-Key`,
  );
  console.log(`load average              ${loadBefore} at the start, ${loadDuring} at the end of the load`);
  console.log(`rollout                   ${steps.length} processes replaced one by one in ${(rolloutMs / 1000).toFixed(1)} s`);
  for (const s of steps) console.log(`                          ${s}`);
  const count = (ph: string): number => samples.filter((s) => s.phase === ph).length;
  console.log(
    `requests sent             ${samples.length} (before ${count('before')}, during ${count('during')}, after ${count('after')})` +
      (load.overloaded ? `; ${load.overloaded} not sent (1000 already in flight)` : ''),
  );
  console.log(
    `  publishes / reads       ${samples.filter((s) => s.kind === 'publish').length} / ${samples.filter((s) => s.kind === 'read').length}`,
  );
  console.log(`2xx answers               ${ok2xx.length} (${summarize(ok2xx.map((s) => String(s.status)))})`);
  console.log(
    `non-2xx answers           ${failures.length}${failures.length ? ` (${summarize(failures.map((f) => String(f.status)))})` : ''}`,
  );
  console.log(
    `connection errors         ${connErrors.length}${connErrors.length ? ` (${summarize(connErrors.map((f) => f.error ?? '?'))})` : ''}`,
  );
  for (const ph of ['before', 'during', 'after']) console.log(`latency ${ph.padEnd(18)}${latency(samples, ph)}`);
  const retried = access.filter((a) => a.upstreams.length > 1);
  console.log(
    `sent again by nginx       ${retried.length}${retried.length ? ` (${summarize(retried.map((a) => `${a.method} ${a.upstreamStatuses.join('→')}`))})` : ''}`,
  );
  console.log(`messages accepted         ${accepted.size}${unanswered ? `; ${unanswered} requests still unanswered at the end` : ''}`);
  console.log(`messages stored           ${stored} of the accepted (${rows} rows in all)`);
  console.log(
    `messages delivered        ${deliveredAccepted} of the accepted (receiver: ${rx.unique} distinct webhook-ids, ${rx.total} deliveries, ${rx.total - rx.unique} duplicates)`,
  );
  console.log(`lost                      ${lost}`);
  explain(access, fleet.history, readErrorLog(fleet.nginx!.prefix));

  const ok =
    failures.length === 0 &&
    connErrors.length === 0 &&
    load.overloaded === 0 &&
    unanswered === 0 &&
    lost === 0 &&
    stored === accepted.size &&
    accepted.size > 0;
  const beforeP99 = percentile(
    samples.filter((x) => x.phase === 'before' && x.status !== null).map((x) => x.ms),
    0.99,
  );
  if (beforeP99 > 2000)
    console.log(
      `\nNOTE: p99 was ${(beforeP99 / 1000).toFixed(1)} s before any restart: this machine does not carry ${RATE} requests/s now (npm run test:rollout:capacity)`,
    );
  console.log(ok ? '\nPASS: 0 failed requests, 0 lost messages' : '\nFAIL: see the figures above');
  return ok;
}

function latency(samples: Sample[], phase: string): string {
  const ms = samples.filter((s) => s.phase === phase && s.status !== null).map((s) => s.ms);
  return `p50 ${percentile(ms, 0.5).toFixed(1)} ms, p99 ${percentile(ms, 0.99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms (${ms.length} requests)`;
}

/**
 * Every request nginx answered with a non-2xx or sent to more than one replica, with the replica(s) it tried
 * and where each one was in its shutdown at that moment; then nginx's error log lines about upstreams.
 */
function explain(access: AccessEntry[], apis: Proc[], errorLog: string[]): void {
  const notable = access.filter((a) => a.status < 200 || a.status > 299 || a.upstreams.length > 1);
  if (notable.length === 0) return;
  const where = (port: number, endMs: number, requestMs: number): string => {
    const p = apis.find((x) => x.port === port);
    if (!p) return `:${port}`;
    const startMs = endMs - requestMs;
    const rel = (at: number | null, what: string): string | null =>
      at === null ? null : `${(Math.abs(startMs - at) / 1000).toFixed(1)} s ${startMs >= at ? 'after' : 'before'} ${what}`;
    const parts = [
      rel(p.sigtermAt, 'SIGTERM'),
      rel(p.outAt, 'leaving nginx'),
      p.exitAt !== null && p.exitAt < endMs ? 'answered after it exited' : null,
    ];
    return `${p.name}:${port}${p.sigtermAt === null || p.sigtermAt > endMs ? ' (serving)' : ` (sent ${parts.filter(Boolean).join(', ')})`}`;
  };
  console.log('\n--- failed or retried requests, from nginx access log ---');
  for (const a of notable.slice(0, 40))
    console.log(
      `  ${a.method} ${a.uri.replace(/[a-z]+_[0-9A-Za-z]{20,}/g, '…')} → ${a.status} in ${a.requestMs.toFixed(0)} ms${a.idempotencyKey ? ' [key]' : ''}; ` +
        `upstreams ${a.upstreams.map((u, i) => `${where(u, a.endMs, a.requestMs)} ${a.upstreamStatuses[i] ?? '?'}`).join(' → ') || 'none'}`,
    );
  if (notable.length > 40) console.log(`  … ${notable.length - 40} more`);
  const upstreamErrors = errorLog.filter((l) => /upstream/.test(l));
  if (upstreamErrors.length) {
    console.log('--- nginx error log (upstream lines) ---');
    for (const l of upstreamErrors.slice(0, 20)) console.log(`  ${l.replace(/, client: .*?(, upstream)/, '$1').slice(0, 300)}`);
  }
}

async function waitDelivered(accepted: Set<string>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const delivered = new Set((await (await fetch(`${fleet.rxUrl}/ids`)).json()) as string[]);
    let missing = 0;
    for (const id of accepted) if (!delivered.has(id)) missing++;
    if (missing === 0 || Date.now() > deadline) {
      const rx = (await (await fetch(`${fleet.rxUrl}/stats`)).json()) as { total: number; unique: number };
      return { delivered, rx };
    }
    await sleep(500);
  }
}

try {
  const ok = await main();
  await fleet.stop(!ok, KEEP);
  clearTimeout(hardLimit);
  process.exit(ok ? 0 : 1);
} catch (err) {
  console.error('rollout: failed:', err);
  await fleet.stop(true, true);
  clearTimeout(hardLimit);
  process.exit(1);
}
