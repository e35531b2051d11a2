// One step of a probe run: timed, bounded by a deadline, its failure named.

export const STEPS = ['setup', 'publish', 'deliver', 'signature', 'readback', 'browser'] as const;
export type StepName = (typeof STEPS)[number];

/**
 * ok: passed. failed: the product misbehaved (or did not answer in time).
 * skipped: not run — an earlier step it needs failed, or a tool it needs (Chromium) is missing.
 */
export type StepStatus = 'ok' | 'failed' | 'skipped';

export interface StepResult {
  status: StepStatus;
  /** Wall time of the step; 0 when skipped. */
  seconds: number;
  /** Why it failed or was skipped. */
  detail?: string;
}

/** A failure the step explains itself (no stack needed in the summary). */
export class StepError extends Error {}

/** Rejects after `ms` with a message naming the step, and aborts `signal` so sockets and browsers are let go. */
export async function withDeadline<T>(step: StepName, ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new StepError(`${step}: timed out after ${ms / 1000}s`);
      ac.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([fn(ac.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Seconds to the microsecond: enough for a latency, short enough to read in a summary. */
export const toSeconds = (ms: number): number => Math.round(ms * 1000) / 1e6;

export const skipped = (detail: string): StepResult => ({ status: 'skipped', seconds: 0, detail });

/** Runs `fn` as `step`, turning any error into a failed StepResult (never throws). */
export async function runStep<T>(
  step: StepName,
  timeoutMs: number,
  fn: (signal: AbortSignal) => Promise<T>,
  now: () => number = () => performance.now(),
): Promise<{ result: StepResult; value?: T }> {
  const started = now();
  try {
    const value = await withDeadline(step, timeoutMs, fn);
    return { result: { status: 'ok', seconds: toSeconds(now() - started) }, value };
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    const detail = message.startsWith(`${step}:`) ? message : `${step}: ${message}`;
    return { result: { status: 'failed', seconds: toSeconds(now() - started), detail } };
  }
}
