import { nextRetryDelay } from './retry-schedule.ts';

/**
 * What one HTTP attempt came to, as a value: the transport says what happened, this module
 * decides what it means. Pure, with randomness passed in.
 */
export type AttemptResult =
  | { kind: 'response'; status: number; retryAfterMs: number | null }
  | { kind: 'error'; code: string; message: string };

export type Decision =
  | { state: 'succeeded' }
  | { state: 'pending'; retryInMs: number }
  | { state: 'failed'; disableEndpoint?: string };

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
  if (r.kind === 'response' && r.status === 410) return { state: 'failed', disableEndpoint: 'the endpoint answered 410 Gone' };
  const delay = nextRetryDelay({
    attemptsMade: i.attemptsInRound,
    scheduleMs: i.scheduleMs,
    random: i.random,
    retryAfterMs: r.kind === 'response' ? r.retryAfterMs : null,
  });
  return delay === null ? { state: 'failed' } : { state: 'pending', retryInMs: delay };
}

/** The error text kept with an attempt: a status, or what went wrong on the wire. */
export const describeResult = (r: AttemptResult): string | null =>
  r.kind === 'error' ? `${r.code}: ${r.message}` : isSuccess(r) ? null : `HTTP ${r.status}`;
