import type { AttemptResult, Decision } from './delivery-policy.ts';

/**
 * How an endpoint is doing, and what that changes — pure, with the clock passed in.
 *
 * Back-off on pressure (AIMD, as TCP does): a 429, 502, 503 or 504, a timeout or a connection error says
 * the receiver is overloaded. The endpoint's in-flight window is halved (at most once per `decreaseEveryMs`,
 * so one burst of 16 answers halves it once, not 16 times) and the endpoint is paused: for its Retry-After
 * when it gave one (bounded), else for a back-off that doubles with each pressure in a row. Each success
 * grows the window by 1/window (one whole slot per window's worth of successes) back to the configured
 * start. Other endpoints are untouched: the state is per endpoint.
 *
 * Growth past the start: an endpoint that had more due than its window allowed (saturated) and answered
 * fast gets a larger window, up to the ceiling: one slot per fast success until its first pressure (the
 * window doubles per window's worth, as TCP's slow start), then one per window's worth. Only fast answers
 * earn slots, because a slot held by a slow answer is one the worker cannot give anyone else; a slow
 * answer halves a grown window back toward the start. A single busy endpoint answering in a millisecond
 * was held to 16 in flight, about 550 deliveries/s, while the relay reached 4,096/s.
 *
 * Circuit breaker: an endpoint that has failed every attempt since `failingSince` for `disableAfterMs`, or
 * whose last `disableAfterMessages` deliveries all exhausted their attempts, is disabled.
 */
export interface EndpointHealth {
  /** Deliveries this endpoint may have in flight across the fleet (fractional between whole steps). */
  maxInFlight: number;
  pausedUntilMs: number | null;
  /** Pressure signals in a row (no success between): the back-off's exponent. */
  pressureStreak: number;
  lastDecreaseAtMs: number | null;
  /** The first failed attempt since the last success. */
  failingSinceMs: number | null;
  /** Deliveries that exhausted their attempts since the last success. */
  failedMessages: number;
  /** An operational event said the endpoint is failing (so a success says it recovered). */
  notified: boolean;
}

/** Answers this fast may grow a saturated endpoint's window; this slow, shrink a grown one (the reasons: above). */
export const FAST_ANSWER_MS = 250;
export const SLOW_ANSWER_MS = 1_000;

export interface HealthPolicy {
  /** The configured per-endpoint concurrency: an endpoint's window when nothing is known of it. */
  baseInFlight: number;
  /** The window's ceiling: what fast, saturated endpoints grow to. */
  maxInFlight: number;
  /** A success answered within this many ms may grow a saturated endpoint's window. */
  fastAnswerMs: number;
  /** A success answered after this many ms shrinks a grown window toward the start. */
  slowAnswerMs: number;
  decreaseEveryMs: number;
  /** The first pause without Retry-After; doubled for each further pressure in a row. */
  pauseBaseMs: number;
  /** Ceiling of any pause, Retry-After included. */
  maxPauseMs: number;
  /** Failing every attempt this long disables the endpoint; 0: never. */
  disableAfterMs: number;
  /** This many deliveries in a row exhausting their attempts disables the endpoint; 0: never. */
  disableAfterMessages: number;
  /** A delivery's n-th failed attempt in a round sends `message.attempt.failing`; 0: never. */
  failingEventAfterAttempts: number;
}

export const healthy = (p: HealthPolicy): EndpointHealth => ({
  maxInFlight: p.baseInFlight,
  pausedUntilMs: null,
  pressureStreak: 0,
  lastDecreaseAtMs: null,
  failingSinceMs: null,
  failedMessages: 0,
  notified: false,
});

/** Nothing worth keeping: the store deletes the row. */
export const isHealthy = (h: EndpointHealth, p: HealthPolicy): boolean =>
  h.maxInFlight === p.baseInFlight && h.pressureStreak === 0 && h.failingSinceMs === null && !h.notified;

export type Signal = 'success' | 'pressure' | 'failure';

const PRESSURE_STATUSES = new Set([429, 502, 503, 504]);
/** Failures of ours (a refused address, a bad URL) say nothing about the receiver's load. */
const NOT_PRESSURE_ERRORS = new Set(['egress_refused', 'invalid_url']);

export function signalOf(r: AttemptResult): Signal {
  if (r.kind === 'response') {
    if (r.status >= 200 && r.status < 300) return 'success';
    return PRESSURE_STATUSES.has(r.status) ? 'pressure' : 'failure';
  }
  return NOT_PRESSURE_ERRORS.has(r.code) ? 'failure' : 'pressure';
}

/** One finished attempt, as the health model sees it. */
export interface Observation {
  result: AttemptResult;
  decision: Decision;
  /** Attempts made in this round, this one included. */
  attemptsInRound: number;
  /** How long the answer took (ms); absent: not known, neither fast nor slow. */
  durationMs?: number | null;
  /** The endpoint had more due than its window when this delivery was claimed. */
  saturated?: boolean;
}

export type HealthEvent =
  | { kind: 'disable'; reason: string; failingSinceMs: number | null }
  | { kind: 'recovered'; failingSinceMs: number | null }
  | { kind: 'failing' }
  | { kind: 'exhausted' };

/** The endpoint's next state after one attempt, and what it calls for (events, disabling). */
export function observe(
  h: EndpointHealth,
  o: Observation,
  nowMs: number,
  p: HealthPolicy,
): { health: EndpointHealth; events: HealthEvent[] } {
  const events: HealthEvent[] = [];
  const signal = signalOf(o.result);
  if (signal === 'success') {
    if (h.notified && h.failingSinceMs !== null) events.push({ kind: 'recovered', failingSinceMs: h.failingSinceMs });
    return {
      health: {
        ...h,
        ...windowAfterSuccess(h, o, nowMs, p),
        pressureStreak: 0,
        failingSinceMs: null,
        failedMessages: 0,
        notified: false,
      },
      events,
    };
  }
  const next: EndpointHealth = { ...h, failingSinceMs: h.failingSinceMs ?? nowMs };
  if (signal === 'pressure') {
    if (h.lastDecreaseAtMs === null || nowMs - h.lastDecreaseAtMs >= p.decreaseEveryMs) {
      next.maxInFlight = Math.max(1, Math.floor(h.maxInFlight / 2));
      next.lastDecreaseAtMs = nowMs;
    }
    // Answers to requests sent before the pause began (a burst in flight) do not compound it.
    const paused = h.pausedUntilMs !== null && nowMs < h.pausedUntilMs;
    next.pressureStreak = paused ? Math.max(1, h.pressureStreak) : h.pressureStreak + 1;
    const pause = pauseMs(o.result, next.pressureStreak, p);
    next.pausedUntilMs = Math.max(h.pausedUntilMs ?? 0, nowMs + pause);
  }
  if (o.decision.state === 'failed' && o.decision.reason === 'attempts_exhausted') {
    next.failedMessages = h.failedMessages + 1;
    next.notified = true;
    events.push({ kind: 'exhausted' });
  } else if (o.decision.state === 'pending' && p.failingEventAfterAttempts > 0 && o.attemptsInRound === p.failingEventAfterAttempts) {
    next.notified = true;
    events.push({ kind: 'failing' });
  }
  const reason = disableReason(next, nowMs, p);
  if (reason !== null) events.push({ kind: 'disable', reason, failingSinceMs: next.failingSinceMs });
  return { health: next, events };
}

/** A success's effect on the window: recovery to the start, growth past it when fast and saturated, or a slow answer's cut. */
function windowAfterSuccess(
  h: EndpointHealth,
  o: Observation,
  nowMs: number,
  p: HealthPolicy,
): Pick<EndpointHealth, 'maxInFlight' | 'lastDecreaseAtMs'> {
  const w = h.maxInFlight;
  const ms = o.durationMs ?? null;
  if (w < p.baseInFlight) return { maxInFlight: Math.min(p.baseInFlight, w + 1 / Math.max(1, w)), lastDecreaseAtMs: h.lastDecreaseAtMs };
  if (o.saturated && ms !== null && ms <= p.fastAnswerMs && w < p.maxInFlight) {
    const step = h.lastDecreaseAtMs === null ? 1 : 1 / w;
    return { maxInFlight: Math.min(p.maxInFlight, w + step), lastDecreaseAtMs: h.lastDecreaseAtMs };
  }
  const mayDecrease = h.lastDecreaseAtMs === null || nowMs - h.lastDecreaseAtMs >= p.decreaseEveryMs;
  if (ms !== null && ms >= p.slowAnswerMs && w > p.baseInFlight && mayDecrease) {
    return { maxInFlight: Math.max(p.baseInFlight, Math.floor(w / 2)), lastDecreaseAtMs: nowMs };
  }
  return { maxInFlight: w, lastDecreaseAtMs: h.lastDecreaseAtMs };
}

/** The pause after a pressure signal: the receiver's Retry-After (bounded), else a doubling back-off. */
export function pauseMs(r: AttemptResult, streak: number, p: HealthPolicy): number {
  const retryAfter = r.kind === 'response' ? r.retryAfterMs : null;
  if (retryAfter !== null && Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(retryAfter, p.maxPauseMs);
  return Math.min(p.pauseBaseMs * 2 ** Math.min(30, Math.max(0, streak - 1)), p.maxPauseMs);
}

function disableReason(h: EndpointHealth, nowMs: number, p: HealthPolicy): string | null {
  if (p.disableAfterMessages > 0 && h.failedMessages >= p.disableAfterMessages) {
    return `${h.failedMessages} messages in a row failed every attempt`;
  }
  if (p.disableAfterMs > 0 && h.failingSinceMs !== null && nowMs - h.failingSinceMs >= p.disableAfterMs) {
    return `every attempt failed since ${new Date(h.failingSinceMs).toISOString()}`;
  }
  return null;
}
