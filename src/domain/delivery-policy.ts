import { nextRetryDelay } from './retry-schedule.ts';

/**
 * What one HTTP attempt came to, as a value: the transport says what happened, this module
 * decides what it means. Pure, with randomness passed in.
 */
export type AttemptResult =
  | { kind: 'response'; status: number; retryAfterMs: number | null }
  | { kind: 'error'; code: string; message: string };

/**
 * Why a delivery stopped without succeeding, as a value that travels with the decision (to the record, the
 * metrics and the log), never re-derived later from a status code.
 */
export type FailReason =
  /** 410 Gone: the receiver says this endpoint will never take deliveries again; the endpoint is disabled. */
  | 'endpoint_gone'
  /** The last attempt of the retry schedule failed. */
  | 'attempts_exhausted';

export type Decision = { state: 'succeeded' } | { state: 'pending'; retryInMs: number } | { state: 'failed'; reason: FailReason };

/** The reasons that disable the endpoint, each with the text kept on it (`disabledReason`). */
const DISABLES: Readonly<Partial<Record<FailReason, string>>> = { endpoint_gone: 'the endpoint answered 410 Gone' };

/** Why this decision disables its endpoint, or null when it does not. */
export const endpointDisableReason = (d: Decision): string | null => (d.state === 'failed' ? (DISABLES[d.reason] ?? null) : null);

export interface DecideInput {
  result: AttemptResult;
  /** Attempts made in this round (resend/recover start a new round), including this one. */
  attemptsInRound: number;
  scheduleMs: readonly number[];
  random: () => number;
}

export const isSuccess = (r: AttemptResult): boolean => r.kind === 'response' && r.status >= 200 && r.status < 300;

export function decide(i: DecideInput): Decision {
  const r = i.result;
  if (isSuccess(r)) return { state: 'succeeded' };
  // 410 Gone: the receiver says this endpoint will never take deliveries again.
  if (r.kind === 'response' && r.status === 410) return { state: 'failed', reason: 'endpoint_gone' };
  const delay = nextRetryDelay({
    attemptsMade: i.attemptsInRound,
    scheduleMs: i.scheduleMs,
    random: i.random,
    retryAfterMs: r.kind === 'response' ? r.retryAfterMs : null,
  });
  return delay === null ? { state: 'failed', reason: 'attempts_exhausted' } : { state: 'pending', retryInMs: delay };
}

/**
 * The error text kept with an attempt, which the tenant and its customer (the portal) read: a status,
 * a timeout, or a generic network failure. Never the transport's own words: "resolved to a refused
 * address: 10.0.0.7", or connection refused here and a timeout there, would make the gateway a scanner
 * of the networks it can reach. The detail goes to the operator's log (delivery/worker.ts).
 */
export function describeResult(r: AttemptResult): string | null {
  if (r.kind === 'response') return isSuccess(r) ? null : `HTTP ${r.status}`;
  if (r.code === 'timeout') return 'timeout: no response within the delivery timeout';
  return 'network: the endpoint could not be reached (the gateway’s operator has the detail)';
}
