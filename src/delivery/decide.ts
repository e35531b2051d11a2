import { decide as decidePolicy, describeResult, isSuccess, type AttemptResult, type Decision } from '../domain/delivery-policy.ts';
import { newId } from '../store/ids.ts';
import type { AttemptRecord, ClaimedDelivery } from '../store/queue.ts';
import { statusClassOf, type StatusClass } from '../telemetry/metrics.ts';
import type { SendResult } from './http-client.ts';

/** Stage 3 of a delivery: what the attempt means (the policy's decision, with its reason) and the attempt-log row. */
export interface Verdict {
  decision: Decision;
  /** What the attempt came to, as the policy saw it (the endpoint's health reads it too). */
  result: AttemptResult;
  attemptsInRound: number;
  attempt: AttemptRecord;
  /** The attempt's status class for metrics: the HTTP class, or what went wrong before there was one. */
  statusClass: StatusClass;
  durationSeconds: number;
}

export interface DecideOptions {
  retryScheduleMs: readonly number[];
  random: () => number;
}

export function decide(d: ClaimedDelivery, sent: SendResult, startedAtMs: number, o: DecideOptions): Verdict {
  const result: AttemptResult =
    sent.kind === 'response'
      ? { kind: 'response', status: sent.status, retryAfterMs: sent.retryAfterMs }
      : { kind: 'error', code: sent.code, message: sent.message };
  const attemptsInRound = d.attempts - d.roundStart + 1;
  const decision = decidePolicy({
    result,
    attemptsInRound,
    scheduleMs: o.retryScheduleMs,
    random: o.random,
  });
  const attempt: AttemptRecord = {
    id: newId('atm'),
    tenantId: d.tenantId,
    deliveryId: d.id,
    messageId: d.messageId,
    endpointId: d.endpointId,
    attempt: d.attempts + 1,
    outcome: isSuccess(result) ? 'succeeded' : 'failed',
    statusCode: sent.kind === 'response' ? sent.status : null,
    error: describeResult(result),
    // Postgres text cannot hold NUL: a receiver's NUL byte must not make the attempt unrecordable.
    responseBody: sent.kind === 'response' ? sent.excerpt.replaceAll('\u0000', '\uFFFD') : null,
    startedAt: new Date(startedAtMs),
    durationMs: Math.round(sent.durationMs),
  };
  return { decision, result, attemptsInRound, attempt, statusClass: classOf(sent), durationSeconds: sent.durationMs / 1000 };
}

const classOf = (sent: SendResult): StatusClass =>
  sent.kind === 'response'
    ? statusClassOf(sent.status)
    : sent.code === 'egress_refused' || sent.code === 'invalid_url'
      ? 'refused'
      : sent.code === 'timeout'
        ? 'timeout'
        : 'network';
