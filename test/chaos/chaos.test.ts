import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/process.ts';
import { closeLoadAgent } from './lib/load.ts';
import { runScenario } from './lib/report.ts';
import { scenarios } from './scenarios/index.ts';

/**
 * The short version of every chaos scenario (`npm run test:chaos -- --short` runs the same), in CI. Each
 * prints its figures; a failed check fails the test with the figure that broke it.
 */
if (!process.env.DATABASE_URL) console.log('SKIPPED: chaos suite (DATABASE_URL is unset; it runs on a Postgres server)');

afterAll(async () => {
  await killAll();
  await closeLoadAgent();
});

describe.runIf(process.env.DATABASE_URL)('chaos (short)', () => {
  for (const s of scenarios) {
    it(`${s.name}: ${s.guarantees}`, async () => {
      const r = await runScenario(s, 'short', (line) => console.log(`[${s.name}] ${line}`));
      expect(r.error?.message ?? null).toBeNull();
      expect(r.failed).toEqual([]);
    });
  }
});
