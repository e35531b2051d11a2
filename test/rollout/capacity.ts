/**
 * `npm run test:rollout:capacity`: how many requests a second the rollout's fleet carries on this machine now,
 * before sizing the rollout's load. The same fleet as `npm run test:rollout` (3 api, 2 worker, 1 scheduler
 * behind nginx, no restart), the same mix (70 % publishes, 30 % reads), at increasing rates for
 * ROLLOUT_STEP_S seconds each (default 10); stops at the first step whose p99 is over ROLLOUT_P99_MS (default
 * 1000) or that has a failed request. Prints each step and the highest sane rate; run the rollout at about half
 * of it (ROLLOUT_RATE), so the fleet keeps up while one replica is away and another is starting.
 *
 * Environment: DATABASE_URL, ROLLOUT_RATES (default 10,20,40,60,80,120,160,240), ROLLOUT_STEP_S,
 * ROLLOUT_P99_MS, ROLLOUT_APIS, ROLLOUT_WORKERS.
 */
import { ensureBuilt } from '../../scripts/build.js';
import { Fleet } from './fleet.ts';
import { setupTenant, startLoad } from './load.ts';
import { envNumber, loadAverage, percentile, say, sleep, summarize } from './support.ts';

const RATES = (process.env.ROLLOUT_RATES ?? '10,20,40,60,80,120,160,240').split(',').map(Number);
const STEP_MS = envNumber('ROLLOUT_STEP_S', 10) * 1000;
const P99_MS = envNumber('ROLLOUT_P99_MS', 1000);
const fleet = new Fleet({
  apis: envNumber('ROLLOUT_APIS', 3),
  workers: envNumber('ROLLOUT_WORKERS', 2),
  drainDelayMs: 10_000,
  baseDb: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
});

async function main(): Promise<void> {
  ensureBuilt();
  await fleet.start();
  const base = fleet.nginx!.url;
  const key = await setupTenant(base, fleet.operatorToken, fleet.rxUrl);
  const rows: string[] = [];
  let sane = 0;
  for (const rate of RATES) {
    const load = startLoad(base, key, rate, { quiet: true });
    await sleep(STEP_MS);
    const unanswered = await load.stop(60_000);
    await load.close();
    const ms = load.samples.filter((s) => s.status !== null).map((s) => s.ms);
    const bad = load.samples.filter((s) => s.status === null || s.status < 200 || s.status > 299);
    const p99 = percentile(ms, 0.99);
    const row =
      `${String(rate).padStart(5)}/s  sent ${String(load.samples.length).padStart(5)}  p50 ${percentile(ms, 0.5).toFixed(1).padStart(8)} ms  ` +
      `p99 ${p99.toFixed(1).padStart(8)} ms  failed ${bad.length}${bad.length ? ` (${summarize(bad.map((b) => String(b.status ?? b.error)))})` : ''}` +
      `${load.overloaded ? `  not sent ${load.overloaded}` : ''}${unanswered ? `  unanswered ${unanswered}` : ''}  load ${loadAverage()}`;
    rows.push(row);
    say(row);
    if (p99 > P99_MS || bad.length > 0 || load.overloaded > 0 || unanswered > 0) break;
    sane = rate;
    // Let the workers catch up on deliveries before the next step.
    await sleep(2000);
  }
  console.log(`\n=== capacity (p99 ≤ ${P99_MS} ms, no failed request; ${STEP_MS / 1000} s a step) ===`);
  for (const r of rows) console.log(r);
  console.log(
    sane > 0
      ? `\nsane up to ${sane} requests/s; run the rollout at about ${Math.max(1, Math.floor(sane / 2))} (ROLLOUT_RATE=${Math.max(1, Math.floor(sane / 2))} npm run test:rollout)`
      : `\nnot even ${RATES[0]} requests/s with p99 ≤ ${P99_MS} ms on this machine now`,
  );
}

try {
  await main();
  await fleet.stop(false, process.env.ROLLOUT_KEEP === '1');
  process.exit(0);
} catch (err) {
  console.error('capacity: failed:', err);
  await fleet.stop(true, true);
  process.exit(1);
}
