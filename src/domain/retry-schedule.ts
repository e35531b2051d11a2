// Retry timing for webhook delivery. Pure: the caller passes randomness (and,
// via the attempt count, time) so the schedule is deterministic under test.
//
// Semantics: scheduleMs[i] is the delay BEFORE attempt i+1, so scheduleMs[0]
// (normally 0) is the first attempt and scheduleMs.length is the total number
// of attempts. After `attemptsMade` attempts have failed, the next attempt
// waits scheduleMs[attemptsMade] ± jitter; once the schedule is exhausted the
// delivery has failed for good (null). Jitter spreads retries so endpoints
// recovering from an outage are not hit by a synchronized thundering herd.
// A receiver's Retry-After may only postpone a retry (never hasten it), and is
// capped so a hostile or buggy endpoint cannot park a message indefinitely.

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Immediately, 5s, 5m, 30m, 2h, 5h, 10h, 10h: 8 attempts spanning ~1.5 days. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([
  0,
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
]);

export const DEFAULT_JITTER = 0.2;
export const DEFAULT_MAX_RETRY_AFTER_MS = 24 * HOUR;

export interface RetryInput {
  /** Attempts done, including the one that just failed (>= 1). */
  attemptsMade: number;
  scheduleMs: readonly number[];
  /** Uniform in [0, 1), e.g. Math.random. */
  random: () => number;
  /** Parsed Retry-After of the failed response, in ms, if any. */
  retryAfterMs?: number | null;
  /** Relative jitter: the delay is scaled by a uniform factor in [1-jitter, 1+jitter). Default 0.2. */
  jitter?: number;
  /** Upper bound for an honoured Retry-After. Default 24h. */
  maxRetryAfterMs?: number;
}

/** Milliseconds to wait before the next attempt, or null when no attempts are left. */
export function nextRetryDelay(input: RetryInput): number | null {
  const { attemptsMade, scheduleMs, random, retryAfterMs, jitter = DEFAULT_JITTER, maxRetryAfterMs = DEFAULT_MAX_RETRY_AFTER_MS } = input;
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) {
    throw new RangeError(`attemptsMade must be an integer >= 1, got ${attemptsMade}`);
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`jitter must be within [0, 1], got ${jitter}`);
  }
  const base = scheduleMs[attemptsMade];
  if (base === undefined) return null;

  const factor = 1 + jitter * (2 * random() - 1);
  const delay = Math.max(0, Math.round(base * factor));

  if (retryAfterMs != null && Number.isFinite(retryAfterMs) && retryAfterMs > delay) {
    // Never go below our own schedule, even if the cap is smaller than it.
    return Math.max(delay, Math.round(Math.min(retryAfterMs, maxRetryAfterMs)));
  }
  return delay;
}
