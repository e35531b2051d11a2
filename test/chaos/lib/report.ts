import { loadAverage, type Outcome, type Scenario, type Size } from './scenario.ts';

export interface Report {
  ok: boolean;
  outcome: Outcome | null;
  failed: string[];
  error: Error | null;
}

/** Runs one scenario, prints its figures, its conservation line and every failed check; never throws. */
export async function runScenario(s: Scenario, size: Size, log: (line: string) => void): Promise<Report> {
  const started = Date.now();
  log(`${size} run starting (load average ${loadAverage()})`);
  let outcome: Outcome | null = null;
  try {
    outcome = await s.run(size, log);
  } catch (err) {
    log(`FAILED: ${(err as Error).stack ?? err}`);
    return { ok: false, outcome: null, failed: [(err as Error).message], error: err as Error };
  }
  const c = outcome.figures.conservation;
  log(`figures ${JSON.stringify(outcome.figures)}`);
  log(
    `conservation: accepted ${c.accepted}, delivered ${c.delivered}, lost ${c.lost}, duplicates ${c.duplicates} (${c.duplicatePercent} %), ` +
      `drained in ${(c.drainMs / 1000).toFixed(1)} s; ${((Date.now() - started) / 1000).toFixed(0)} s in all, load average ${loadAverage()}`,
  );
  const failed = outcome.checks.filter(([, holds]) => !holds).map(([what]) => what);
  for (const f of failed) log(`FAILED: ${f}`);
  if (!failed.length) log(`held: ${outcome.checks.length} checks`);
  return { ok: failed.length === 0, outcome, failed, error: null };
}
