import fs from 'node:fs';
import path from 'node:path';
import type { ScenarioResult } from './context.ts';

/** A plain-text table (GitHub-markdown compatible), columns from the union of the rows' keys. */
export function table(rows: readonly Record<string, string | number>[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | undefined): string =>
    v === undefined ? '' : typeof v === 'number' ? (Number.isNaN(v) ? 'n/a' : v.toLocaleString('en-US')) : v;
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cols), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join(
    '\n',
  );
}

interface Target {
  goal: string;
  scenario: string;
  engine: string;
  figure: string;
  op: '>=' | '<=' | '<' | 'info';
  value?: number;
  unit: string;
}

/** The targets of issues 4 and 12 (Postgres server unless stated; all on one 2-core machine). */
export const TARGETS: readonly Target[] = [
  {
    goal: 'maximum sustained end to end',
    scenario: 'max-sustained',
    engine: 'postgres',
    figure: 'maxSustained',
    op: '>=',
    value: 5000,
    unit: 'events/s',
  },
  {
    goal: 'Tramline / reference (same run)',
    scenario: 'reference',
    engine: 'reference',
    figure: 'ratio',
    op: '>=',
    value: 0.75,
    unit: '×',
  },
  {
    goal: 'one endpoint: maximum sustained',
    scenario: 'one-endpoint',
    engine: 'postgres',
    figure: 'maxSustained',
    op: '>=',
    value: 5000,
    unit: 'events/s',
  },
  {
    goal: 'one endpoint: Tramline / reference',
    scenario: 'one-endpoint',
    engine: 'postgres',
    figure: 'ratio',
    op: '>=',
    value: 0.75,
    unit: '×',
  },
  {
    goal: 'one endpoint: publishes refused (default configuration)',
    scenario: 'one-endpoint',
    engine: 'postgres',
    figure: 'publishErrors',
    op: '<=',
    value: 0,
    unit: '',
  },
  { goal: 'publish p99 at 1,000/s', scenario: 'e2e', engine: 'postgres', figure: 'publishP99Ms@1000', op: '<=', value: 20, unit: 'ms' },
  {
    goal: 'publish → delivered p99 at 1,000/s',
    scenario: 'e2e',
    engine: 'postgres',
    figure: 'e2eP99Ms@1000',
    op: '<=',
    value: 50,
    unit: 'ms',
  },
  { goal: 'backlog drain', scenario: 'backlog', engine: 'postgres', figure: 'drainPerSec', op: '>=', value: 5000, unit: 'deliveries/s' },
  {
    goal: 'gateway peak RSS while draining',
    scenario: 'backlog',
    engine: 'postgres',
    figure: 'peakRssMiB',
    op: '<=',
    value: 512,
    unit: 'MiB',
  },
  {
    goal: 'fan-out to 100 endpoints',
    scenario: 'fanout',
    engine: 'postgres',
    figure: 'deliveriesPerSec',
    op: '>=',
    value: 10000,
    unit: 'deliveries/s',
  },
  {
    goal: "1 % slow receivers: change of the others' p99",
    scenario: 'many-endpoints',
    engine: 'postgres',
    figure: 'p99ChangePct',
    op: '<',
    value: 20,
    unit: '%',
  },
  {
    goal: 'embedded PGlite end to end (max sustained)',
    scenario: 'max-sustained',
    engine: 'pglite',
    figure: 'maxSustained',
    op: '>=',
    value: 1000,
    unit: 'events/s',
  },
  {
    goal: 'publish accepted/s (closed loop, 32 connections)',
    scenario: 'publish',
    engine: 'postgres',
    figure: 'acceptedPerSec',
    op: 'info',
    unit: 'events/s',
  },
  {
    goal: 'CPU-s per million delivered at 1,000/s (gateway + Postgres)',
    scenario: 'e2e',
    engine: 'postgres',
    figure: 'cpuSPerMillion@1000',
    op: 'info',
    unit: 'CPU-s',
  },
  {
    goal: 'CPU-s per million delivered at 1,000/s: gateway',
    scenario: 'e2e',
    engine: 'postgres',
    figure: 'gatewayCpuSPerMillion@1000',
    op: 'info',
    unit: 'CPU-s',
  },
  {
    goal: 'CPU-s per million delivered at 1,000/s: Postgres (Tramline)',
    scenario: 'e2e',
    engine: 'postgres',
    figure: 'postgresCpuSPerMillion@1000',
    op: 'info',
    unit: 'CPU-s',
  },
  {
    goal: 'cost per million delivered at 1,000/s',
    scenario: 'e2e',
    engine: 'postgres',
    figure: 'costPerMillion@1000',
    op: 'info',
    unit: '$',
  },
  {
    goal: 'reference relay: CPU-s per million delivered at 1,000/s',
    scenario: 'reference',
    engine: 'reference',
    figure: 'cpuSPerMillion@1000',
    op: 'info',
    unit: 'CPU-s',
  },
  {
    goal: 'CPU-s per million delivered at the maximum: gateway',
    scenario: 'max-sustained',
    engine: 'postgres',
    figure: 'processCpuSPerMillion@max',
    op: 'info',
    unit: 'CPU-s',
  },
  {
    goal: 'CPU-s per million delivered at the maximum: Postgres (Tramline)',
    scenario: 'max-sustained',
    engine: 'postgres',
    figure: 'postgresCpuSPerMillion@max',
    op: 'info',
    unit: 'CPU-s',
  },
  {
    goal: 'reference relay: CPU-s per million delivered at its maximum (relay + Postgres)',
    scenario: 'reference',
    engine: 'reference',
    figure: 'cpuSPerMillion@max',
    op: 'info',
    unit: 'CPU-s',
  },
];

export interface SummaryRow {
  target: string;
  goal: string;
  measured: string;
  result: string;
}

/** Each target beside its measured figure: pass / FAIL / not run; smoke runs are never judged (sizes too small). */
export function summary(results: readonly ScenarioResult[], smoke: boolean): SummaryRow[] {
  return TARGETS.map((t) => {
    const r = results.find((x) => x.scenario === t.scenario && x.engine === t.engine);
    const v = r?.figures[t.figure];
    const goal = t.op === 'info' ? '—' : `${t.op} ${t.value!.toLocaleString('en-US')} ${t.unit}`;
    if (v === undefined || Number.isNaN(v)) return { target: t.goal, goal, measured: 'not measured', result: '—' };
    const measured = `${v.toLocaleString('en-US')} ${t.unit}`;
    if (t.op === 'info') return { target: t.goal, goal, measured, result: '' };
    const ok = t.op === '>=' ? v >= t.value! : t.op === '<=' ? v <= t.value! : v < t.value!;
    return { target: t.goal, goal, measured, result: smoke ? 'smoke (not judged)' : ok ? 'pass' : 'FAIL' };
  });
}

export function printResult(r: ScenarioResult, out: (s: string) => void): void {
  out(`\n## ${r.scenario} — ${r.engine}, layout ${r.layout}\n\n${table(r.rows)}\n`);
  for (const n of r.notes) out(`  ${n}\n`);
}

export function writeJson(file: string, report: unknown): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
