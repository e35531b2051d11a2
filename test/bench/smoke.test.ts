import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The benchmark suite in smoke mode (tiny sizes, seconds per scenario), as a child process, so it keeps
 * working while the gateway changes: every scenario must finish and produce figures. Not a performance
 * test: the figures are not judged, only that they exist and are positive.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const POSTGRES = Boolean(process.env.DATABASE_URL);

interface Report {
  smoke: boolean;
  results: { scenario: string; engine: string; figures: Record<string, number> }[];
  failures: { scenario: string; engine: string; error: string }[];
  machine: { cpus: number; node: string; engines: Record<string, string> };
}

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/run.ts'), ...args], {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** The figure of each scenario that must be a positive number (smoke sizes: e2e runs at 200/s). */
const MUST_BE_POSITIVE: Record<string, string[]> = {
  publish: ['acceptedPerSec', 'publishP99Ms'],
  e2e: ['delivered@200', 'publishP99Ms@200', 'e2eP99Ms@200', 'cpuSPerMillion@200', 'costPerMillion@200'],
  // On a busy machine even the smoke's lowest step may not hold: what must exist is a rate that was achieved.
  'max-sustained': ['highestAchieved'],
  reference: ['highestAchieved'],
  fanout: ['deliveriesPerSec'],
  backlog: ['drainPerSec', 'peakRssMiB'],
  'many-endpoints': ['baselineP99Ms', 'slowP99Ms'],
  'one-endpoint': ['highestAchieved', 'referenceMaxSustained'],
};

describe('bench smoke', () => {
  if (!POSTGRES) process.stdout.write('SKIPPED: bench smoke on Postgres (DATABASE_URL is not set; PGlite runs)\n');

  // The two engines run as two child processes side by side: the smoke checks that every scenario works, not its figures.
  it(`runs every scenario on PGlite${POSTGRES ? ' and Postgres' : ''} and writes the JSON report`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-bench-smoke-'));
    const runs = [{ engine: 'pglite', scenarios: ['publish', 'e2e', 'max-sustained', 'fanout', 'many-endpoints'] }];
    if (POSTGRES)
      runs.push({
        engine: 'postgres',
        scenarios: ['publish', 'e2e', 'max-sustained', 'reference', 'fanout', 'backlog', 'many-endpoints', 'one-endpoint'],
      });
    const outcomes = await Promise.all(
      runs.map(async (r) => {
        const json = path.join(dir, `${r.engine}.json`);
        return { ...r, json, ...(await runBench(['--smoke', '--engine', r.engine, '--json', json])) };
      }),
    );
    for (const { engine, scenarios, json, code, output } of outcomes) {
      expect(code, output).toBe(0);
      expect(fs.existsSync(json), output).toBe(true);
      const report = JSON.parse(fs.readFileSync(json, 'utf8')) as Report;
      expect(report.smoke).toBe(true);
      expect(report.failures, output).toEqual([]);
      expect(report.machine.cpus).toBeGreaterThan(0);
      expect(report.results.map((r) => r.scenario).sort(), output).toEqual([...scenarios].sort());
      for (const r of report.results) {
        expect(r.engine).toBe(r.scenario === 'reference' ? 'reference' : engine);
        for (const f of MUST_BE_POSITIVE[r.scenario]!)
          expect(r.figures[f], `${r.scenario}/${r.engine}: ${f}\n${output}`).toBeGreaterThan(0);
      }
      if (engine === 'postgres')
        expect(report.results.find((r) => r.scenario === 'reference')!.figures.ratio, output).toBeGreaterThanOrEqual(0);
      // The printed report: the summary against the targets.
      expect(output).toContain('## Summary against the targets of issues 4 and 12');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 300_000);
});
