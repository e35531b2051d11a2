/**
 * The benchmark suite (issue 4): `npm run bench -- [options]`. Starts the real gateway, a fast receiver
 * (its own process) and a load generator (this process), runs the scenarios, prints one table per
 * scenario and a summary against the targets, and writes everything as JSON. See bench/README.md.
 *
 *   --scenario publish,e2e,…   default: all (publish, e2e, max-sustained, reference, fanout, backlog, many-endpoints, one-endpoint)
 *   --engine postgres|pglite|both   default: Postgres for every scenario, plus publish/e2e/max-sustained on PGlite
 *   --smoke                    tiny sizes, seconds per scenario (CI)
 *   --layout all|api+worker    gateway processes for Postgres runs (default all: one process)
 *   --backlog N                deliveries in the backlog scenario (default 1,000,000; smoke 5,000)
 *   --json FILE                default bench/results/latest.json
 *   --price-per-hour 0.085 --instance c6i.large --vcpus 2   for the cost figure
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchContext, Scenario, ScenarioResult } from './lib/context.ts';
import { engineVersion, type Engine } from './lib/database.ts';
import { parseLayout } from './lib/gateway.ts';
import { startReceiver } from './lib/receiver.ts';
import { printResult, summary, table, writeJson } from './lib/report.ts';
import { run as publish } from './scenarios/publish.ts';
import { run as e2e } from './scenarios/e2e.ts';
import { run as maxSustained } from './scenarios/max-sustained.ts';
import { run as reference } from './scenarios/reference.ts';
import { run as fanout } from './scenarios/fanout.ts';
import { run as backlog } from './scenarios/backlog.ts';
import { run as manyEndpoints } from './scenarios/many-endpoints.ts';
import { run as oneEndpoint } from './scenarios/one-endpoint.ts';

/** In the order they run: reference needs max-sustained's figure for its ratio. */
const SCENARIOS: Record<string, { run: Scenario; engines: readonly Engine[]; defaultPglite: boolean }> = {
  publish: { run: publish, engines: ['postgres', 'pglite'], defaultPglite: true },
  e2e: { run: e2e, engines: ['postgres', 'pglite'], defaultPglite: true },
  'max-sustained': { run: maxSustained, engines: ['postgres', 'pglite'], defaultPglite: true },
  // The reference relay is a Postgres client: it runs once, whatever the engine, when Postgres is in the plan.
  reference: { run: reference, engines: ['postgres'], defaultPglite: false },
  fanout: { run: fanout, engines: ['postgres', 'pglite'], defaultPglite: false },
  // Seeded with SQL over a second connection while the gateway is down: Postgres only.
  backlog: { run: backlog, engines: ['postgres'], defaultPglite: false },
  'many-endpoints': { run: manyEndpoints, engines: ['postgres', 'pglite'], defaultPglite: false },
  // Runs the reference relay (a Postgres client) itself, with one target, for its own ratio.
  'one-endpoint': { run: oneEndpoint, engines: ['postgres'], defaultPglite: false },
};

const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string' },
    engine: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    layout: { type: 'string', default: 'all' },
    backlog: { type: 'string' },
    json: { type: 'string', default: 'bench/results/latest.json' },
    'price-per-hour': { type: 'string', default: '0.085' },
    instance: { type: 'string', default: 'c6i.large' },
    vcpus: { type: 'string', default: '2' },
  },
});

const names = args.scenario ? args.scenario.split(',').map((s) => s.trim()) : Object.keys(SCENARIOS);
for (const n of names) if (!SCENARIOS[n]) throw new Error(`unknown scenario "${n}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
if (args.engine && !['postgres', 'pglite', 'both'].includes(args.engine)) throw new Error('--engine must be postgres, pglite or both');
parseLayout(args.layout);

/** Which engines a scenario runs on under --engine. */
function enginesFor(name: string): Engine[] {
  const s = SCENARIOS[name]!;
  const wanted: Engine[] =
    args.engine === 'postgres'
      ? ['postgres']
      : args.engine === 'pglite'
        ? ['pglite']
        : args.engine === 'both'
          ? ['postgres', 'pglite']
          : s.defaultPglite
            ? ['postgres', 'pglite']
            : ['postgres'];
  return wanted.filter((e) => s.engines.includes(e));
}

const plan = Object.keys(SCENARIOS)
  .filter((n) => names.includes(n))
  .flatMap((n) => enginesFor(n).map((engine) => ({ name: n, engine })));
const engines = [...new Set(plan.map((p) => p.engine))];

const out = (s: string): void => void process.stdout.write(s);
const log = (s: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

const machine = {
  cpus: os.cpus().length,
  model: os.cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  engines: Object.fromEntries(await Promise.all(engines.map(async (e) => [e, await engineVersion(e)] as const))),
  loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  loadAverageAtEnd: [] as number[],
};
const cost = { pricePerHour: Number(args['price-per-hour']), instance: args.instance, vcpus: Number(args.vcpus) };

out(`Tramline benchmarks${args.smoke ? ' (smoke: tiny sizes, figures not meaningful)' : ''} — ${new Date().toISOString()}\n`);
out(
  `machine: ${machine.cpus} × ${machine.model}, ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}, ${Object.values(machine.engines).join(', ')}; load average ${machine.loadAverageAtStart.join(' ')}\n`,
);
out(`plan: ${plan.map((p) => `${p.name}/${p.engine}`).join(', ')}; gateway layout on Postgres: ${args.layout}\n`);

const receiver = await startReceiver();
const results: ScenarioResult[] = [];
const failures: { scenario: string; engine: string; error: string }[] = [];
const earlier = new Map<string, ScenarioResult>();
const started = performance.now();
try {
  for (const p of plan) {
    const ctx: BenchContext = {
      engine: p.engine,
      smoke: args.smoke,
      receiver,
      layout: args.layout,
      cost,
      options: { backlog: args.backlog ? Number(args.backlog) : undefined },
      earlier,
      log,
    };
    const t0 = performance.now();
    log(`${p.name} on ${p.engine}: start`);
    try {
      const r = await SCENARIOS[p.name]!.run(ctx);
      results.push(r);
      earlier.set(`${p.name}.${p.engine}`, r);
      printResult(r, out);
      log(`${p.name} on ${p.engine}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      const error = (err as Error).stack ?? String(err);
      failures.push({ scenario: p.name, engine: p.engine, error });
      out(`\n## ${p.name} — ${p.engine}: FAILED\n${error}\n`);
    }
  }
} finally {
  await receiver.close();
}
machine.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);

const rows = summary(results, args.smoke);
out(
  `\n## Summary against the targets of issues 4 and 12 (cost: ${cost.instance} at $${cost.pricePerHour}/h, ${cost.vcpus} vCPU)\n\n${table(rows.map((r) => ({ target: r.target, goal: r.goal, measured: r.measured, result: r.result })))}\n`,
);
out(
  `\n${results.length} scenario runs, ${failures.length} failed, ${((performance.now() - started) / 1000).toFixed(0)} s; load average at the end ${machine.loadAverageAtEnd.join(' ')}\n`,
);

const jsonFile = args.json;
writeJson(jsonFile, {
  at: new Date().toISOString(),
  smoke: args.smoke,
  command: process.argv.slice(2),
  machine,
  cost,
  layout: args.layout,
  results,
  summary: rows,
  failures,
});
out(`JSON: ${path.relative(process.cwd(), path.resolve(jsonFile)) || jsonFile}\n`);
if (!fs.existsSync(jsonFile) || failures.length > 0) process.exitCode = 1;
