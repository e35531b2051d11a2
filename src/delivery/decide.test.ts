import { describe, expect, it } from 'vitest';
import type { ClaimedDelivery } from '../store/queue.ts';
import { decide } from './decide.ts';

const d = {
  id: 'dlv_1',
  tenantId: 'ten_1',
  messageId: 'msg_1',
  endpointId: 'ep_1',
  attempts: 2,
  roundStart: 0,
} as ClaimedDelivery;
const o = { retryScheduleMs: [0, 1000, 2000], random: () => 0.5 };

describe('decide (stage 3)', () => {
  it('carries the policy’s reason and builds the attempt row', () => {
    const v = decide(d, { kind: 'response', status: 410, retryAfterMs: null, excerpt: 'gone', durationMs: 12.4 }, 1_000, o);
    expect(v.decision).toEqual({ state: 'failed', reason: 'endpoint_gone' });
    expect(v.attempt).toMatchObject({
      deliveryId: 'dlv_1',
      attempt: 3,
      outcome: 'failed',
      statusCode: 410,
      error: 'HTTP 410',
      responseBody: 'gone',
      durationMs: 12,
    });
    expect(v.attempt.startedAt).toEqual(new Date(1_000));
    expect(v.statusClass).toBe('4xx');
  });

  it('says the retries ran out, and classes a transport failure', () => {
    const v = decide(d, { kind: 'error', code: 'timeout', message: 'timed out after 15000 ms', durationMs: 15_000 }, 0, o);
    expect(v.decision).toEqual({ state: 'failed', reason: 'attempts_exhausted' });
    expect([v.attempt.statusCode, v.attempt.responseBody, v.statusClass]).toEqual([null, null, 'timeout']);
  });

  it('keeps a response excerpt with a NUL byte recordable (Postgres text holds no NUL)', () => {
    const v = decide(
      { ...d, attempts: 0 },
      { kind: 'response', status: 500, retryAfterMs: null, excerpt: 'a\u0000b', durationMs: 1 },
      0,
      o,
    );
    expect(v.decision).toEqual({ state: 'pending', retryInMs: 1000 });
    expect(v.attempt.responseBody).toBe('a\uFFFDb');
  });
});
