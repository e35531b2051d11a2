/**
 * `npm run test:chaos [-- scenario… [--short]]`: the chaos suite on a Postgres server (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres) with separate api, worker and scheduler processes of the compiled
 * build. Each scenario prints its figures and its conservation check (lost 0, duplicates by webhook-id); the
 * command exits 1 when any check failed. Without names it runs every scenario but the full `soak` (30 min: name it).
 * `--short` runs the CI size (the `chaos` vitest project runs the same). README "Reliability" holds the last figures.
 */
import { ensureBuilt } from '../../scripts/build.js';
import { killAll } from '../helpers/process.ts';
import { closeLoadAgent } from './lib/load.ts';
import { loadAverage, type Size } from './lib/scenario.ts';
import { runScenario } from './lib/report.ts';
import { scenarios } from './scenarios/index.ts';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const args = process.argv.slice(2);
const size: Size = args.includes('--short') ? 'short' : 'full';
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !scenarios.some((s) => s.name === n));
if (unknown.length) {
  console.error(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const chosen = names.length
  ? scenarios.filter((s) => names.includes(s.name))
  : scenarios.filter((s) => size === 'short' || !s.fullOnlyByName);

ensureBuilt();
let failed = 0;
for (const s of chosen) {
  const r = await runScenario(s, size, (line) => console.log(`[${s.name}] ${line}`));
  if (!r.ok) failed++;
}
await killAll();
await closeLoadAgent();
console.log(`chaos: ${chosen.length - failed} of ${chosen.length} scenarios held (${size}; load average ${loadAverage()})`);
process.exit(failed ? 1 : 0);
