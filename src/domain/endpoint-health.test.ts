import { describe, expect, it } from 'vitest';
import type { AttemptResult, Decision } from './delivery-policy.ts';
import { healthy, isHealthy, observe, signalOf, type EndpointHealth, type HealthPolicy, type Observation } from './endpoint-health.ts';

const P: HealthPolicy = {
  baseInFlight: 16,
  maxInFlight: 16,
  fastAnswerMs: 250,
  slowAnswerMs: 1_000,
  decreaseEveryMs: 1_000,
  pauseBaseMs: 1_000,
  maxPauseMs: 60_000,
  disableAfterMs: 5 * 24 * 3_600_000,
  disableAfterMessages: 0,
  failingEventAfterAttempts: 4,
};
const ok: AttemptResult = { kind: 'response', status: 200, retryAfterMs: null };
const tooMany = (retryAfterMs: number | null = null): AttemptResult => ({ kind: 'response', status: 429, retryAfterMs });
const pending: Decision = { state: 'pending', retryInMs: 5_000 };
const exhausted: Decision = { state: 'failed', reason: 'attempts_exhausted' };
const obs = (result: AttemptResult, decision: Decision = pending, attemptsInRound = 1): Observation => ({
  result,
  decision,
  attemptsInRound,
});

function run(h: EndpointHealth, steps: Array<[number, Observation]>, p = P) {
  const events: string[] = [];
  for (const [now, o] of steps) {
    const r = observe(h, o, now, p);
    h = r.health;
    events.push(...r.events.map((e) => e.kind));
  }
  return { h, events };
}

describe('endpoint health: back-off on pressure', () => {
  it('classifies 429, 502–504, timeouts and connection errors as pressure; other failures not', () => {
    expect([429, 502, 503, 504].map((status) => signalOf({ kind: 'response', status, retryAfterMs: null }))).toEqual(
      Array(4).fill('pressure'),
    );
    expect(signalOf({ kind: 'response', status: 500, retryAfterMs: null })).toBe('failure');
    expect(signalOf({ kind: 'error', code: 'timeout', message: '' })).toBe('pressure');
    expect(signalOf({ kind: 'error', code: 'ECONNREFUSED', message: '' })).toBe('pressure');
    expect(signalOf({ kind: 'error', code: 'egress_refused', message: '' })).toBe('failure');
    expect(signalOf(ok)).toBe('success');
  });

  it('halves the window once per second of pressure, however many answers arrive together', () => {
    const burst = Array.from({ length: 16 }, (): [number, Observation] => [1_000, obs(tooMany())]);
    const { h } = run(healthy(P), burst);
    expect(h.maxInFlight).toBe(8);
    expect(run(h, [[2_000, obs(tooMany())]]).h.maxInFlight).toBe(4);
    expect(
      run(
        healthy(P),
        Array.from({ length: 10 }, (_, i): [number, Observation] => [i * 1_000, obs(tooMany())]),
      ).h.maxInFlight,
    ).toBe(1);
  });

  it('pauses for the Retry-After given, bounded, else for a back-off doubling with each pressure in a row', () => {
    expect(observe(healthy(P), obs(tooMany(3_000)), 10_000, P).health.pausedUntilMs).toBe(13_000);
    expect(observe(healthy(P), obs(tooMany(3_600_000)), 10_000, P).health.pausedUntilMs).toBe(70_000);
    const { h } = run(healthy(P), [
      [0, obs(tooMany())],
      [1_000, obs(tooMany())],
      [3_000, obs(tooMany())],
    ]);
    expect(h.pausedUntilMs).toBe(3_000 + 4_000);
    expect(h.pressureStreak).toBe(3);
  });

  it('answers that were in flight when the pause began do not compound it', () => {
    const burst = Array.from({ length: 16 }, (_, i): [number, Observation] => [i, obs(tooMany())]);
    const { h } = run(healthy(P), burst);
    expect(h.pressureStreak).toBe(1);
    expect(h.pausedUntilMs).toBe(15 + 1_000);
  });

  it('a plain failure (500) neither pauses nor shrinks the window', () => {
    const h = observe(healthy(P), obs({ kind: 'response', status: 500, retryAfterMs: null }), 0, P).health;
    expect(h).toMatchObject({ maxInFlight: 16, pausedUntilMs: null, failingSinceMs: 0 });
  });

  it('grows back additively with successes to the configured maximum, then is healthy again', () => {
    let { h } = run(
      healthy(P),
      Array.from({ length: 5 }, (_, i): [number, Observation] => [i * 1_000, obs(tooMany())]),
    );
    expect(h.maxInFlight).toBe(1);
    let successes = 0;
    while (h.maxInFlight < 16) {
      h = observe(h, obs(ok), 10_000 + successes, P).health;
      successes++;
    }
    expect(successes).toBeGreaterThan(15); // additive: about 1 + 2 + … + 15 successes, not one
    expect(successes).toBeLessThan(200);
    expect(isHealthy(h, P)).toBe(true);
  });
});

describe('endpoint health: a window that grows for fast, saturated endpoints', () => {
  const G: HealthPolicy = { ...P, maxInFlight: 256 };
  const fast = (saturated = true): Observation => ({ ...obs(ok), durationMs: 2, saturated });

  it('doubles per window of fast saturated successes until the ceiling, and stays there', () => {
    let h = healthy(G);
    for (let i = 0; i < 16; i++) h = observe(h, fast(), i, G).health;
    expect(h.maxInFlight).toBe(32);
    for (let i = 0; i < 1_000; i++) h = observe(h, fast(), i, G).health;
    expect(h.maxInFlight).toBe(256);
    expect(isHealthy(h, G)).toBe(false); // a grown window is kept
  });

  it('does not grow for answers that are not fast, or for an endpoint that had room left', () => {
    const slowish: Observation = { ...obs(ok), durationMs: 400, saturated: true };
    expect(observe(healthy(G), slowish, 0, G).health.maxInFlight).toBe(16);
    expect(observe(healthy(G), fast(false), 0, G).health.maxInFlight).toBe(16);
    expect(observe(healthy(P), fast(), 0, P).health.maxInFlight).toBe(16); // ceiling = start: no growth
  });

  it('halves a grown window on a slow answer (at most once a second), never below the start', () => {
    let h = { ...healthy(G), maxInFlight: 128 };
    const slow: Observation = { ...obs(ok), durationMs: 2_000 };
    h = observe(h, slow, 10_000, G).health;
    expect(h.maxInFlight).toBe(64);
    expect(observe(h, slow, 10_500, G).health.maxInFlight).toBe(64);
    for (let t = 11_000; t < 20_000; t += 1_000) h = observe(h, slow, t, G).health;
    expect(h.maxInFlight).toBe(16);
    expect(isHealthy(h, G)).toBe(true);
  });

  it('after pressure, grows back to the start and then only additively', () => {
    let h = observe(healthy(G), obs(tooMany()), 0, G).health;
    expect(h.maxInFlight).toBe(8);
    let n = 0;
    while (h.maxInFlight < 17) {
      h = observe(h, fast(), 10_000 + n, G).health;
      n++;
    }
    expect(n).toBeGreaterThan(16 + 8); // back to 16 additively, then a whole window's worth for the 17th slot
  });
});

describe('endpoint health: breaker and operational events', () => {
  it('disables after failing every attempt for the configured time, with the reason', () => {
    const day = 24 * 3_600_000;
    const { events, h } = run(healthy(P), [
      [0, obs(tooMany())],
      [2 * day, obs({ kind: 'response', status: 500, retryAfterMs: null })],
      [5 * day, obs({ kind: 'error', code: 'timeout', message: '' })],
    ]);
    expect(events).toEqual(['disable']);
    expect(h.failingSinceMs).toBe(0);
  });

  it('a success resets the streak', () => {
    const day = 24 * 3_600_000;
    const { events } = run(healthy(P), [
      [0, obs(tooMany())],
      [3 * day, obs(ok)],
      [4 * day, obs(tooMany())],
      [6 * day, obs(tooMany())],
    ]);
    expect(events).toEqual([]);
  });

  it('disables after N deliveries in a row exhausted their attempts, and says so each time one does', () => {
    const p = { ...P, disableAfterMessages: 3 };
    const fail = obs({ kind: 'response', status: 500, retryAfterMs: null }, exhausted, 3);
    const { events } = run(
      healthy(p),
      [
        [0, fail],
        [1, fail],
        [2, fail],
      ],
      p,
    );
    expect(events).toEqual(['exhausted', 'exhausted', 'exhausted', 'disable']);
  });

  it('says failing at the configured attempt, and recovered at the next success', () => {
    const fail = (n: number) => obs({ kind: 'response', status: 500, retryAfterMs: null }, pending, n);
    const { events } = run(healthy(P), [
      [0, fail(3)],
      [1, fail(4)],
      [2, fail(5)],
      [3, obs(ok)],
      [4, obs(ok)],
    ]);
    expect(events).toEqual(['failing', 'recovered']);
  });
});
