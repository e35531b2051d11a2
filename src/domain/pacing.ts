/**
 * Fleet-wide rate limits as slots on a timeline (GCRA, the "generic cell rate algorithm"): each limited key
 * (an endpoint's `rateLimitPerSecond`, a tenant's outbound cap) keeps the time of its next free slot. A
 * batch of n deliveries takes the next slots, one interval apart, but only those within a short horizon:
 * the worker holds those and sends each at its slot's time (a timer, not a later claim, whose latency
 * would bunch them); the rest are handed back to the queue, due about when their turn should come, and
 * reserve again then — postponed, never failed, never counted as an attempt. Idle time earns at most
 * `burst` slots at once, so in any window of T seconds a key sends at most `rate × T + burst`.
 *
 * The store (a Postgres function, or a Redis script) does the one atomic step — take the slots, move the
 * key's next slot on, say where the first was — and these pure functions say what it means; the clock is
 * passed in.
 */
export interface PaceRule {
  readonly ratePerSecond: number;
  /** Slots that idle time may accumulate (sent back to back). */
  readonly burst: number;
}

/** A tenth of a second's worth, at least one: bursts stay close to the rate. */
export const paceRule = (ratePerSecond: number): PaceRule => ({ ratePerSecond, burst: Math.max(1, Math.ceil(ratePerSecond / 10)) });

export const intervalMs = (r: PaceRule): number => 1000 / r.ratePerSecond;

/** How far behind now the next slot may lag (idle credit): burst − 1 intervals. */
export const toleranceMs = (r: PaceRule): number => (r.burst - 1) * intervalMs(r);

/** How far ahead slots are taken: a slot later than this is not held by a worker but left to a later claim. */
export const PACE_HORIZON_MS = 1_000;

/**
 * The reservation a store makes atomically: where the first slot is, how many of the n wanted fall within
 * the horizon (those are taken), and where the next free slot moves to.
 */
export function reserve(
  nextSlotMs: number | null,
  r: PaceRule,
  nowMs: number,
  n: number,
  horizonMs = PACE_HORIZON_MS,
): { firstSlotMs: number; granted: number; nextSlotMs: number } {
  const first = Math.max(nextSlotMs ?? Number.NEGATIVE_INFINITY, nowMs - toleranceMs(r));
  const granted = Math.min(n, Math.max(0, Math.floor((nowMs + horizonMs - first) / intervalMs(r)) + 1));
  return { firstSlotMs: first, granted, nextSlotMs: first + granted * intervalMs(r) };
}

/** The delay of each of n deliveries whose first slot is `firstSlotMs` (0: send now); past the granted ones, an estimate of their turn. */
export function slotDelays(firstSlotMs: number, r: PaceRule, nowMs: number, n: number): number[] {
  const step = intervalMs(r);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.ceil(firstSlotMs + i * step - nowMs)));
}

/** One key's request in a reservation batch: `n` deliveries wanting slots. */
export interface PaceRequest {
  readonly key: string;
  readonly tenantId: string;
  readonly rule: PaceRule;
  readonly n: number;
}

/**
 * A key's answer: how long after the store's "now" its first slot is (ms; negative: already due), and how many
 * of the n slots were taken. Relative, so a worker whose clock is off schedules on its own clock all the same
 * (the chaos suite's clock-skew scenario: an absolute slot on the store's clock made a worker 2 min behind
 * hold its deliveries for 2 min); the answer's transit time is the only error.
 */
export interface Reservation {
  firstInMs: number;
  granted: number;
}

/** Something that reserves slots atomically across the fleet (Postgres or Redis: delivery/pacers.ts). */
export interface Pacer {
  reserve(requests: readonly PaceRequest[]): Promise<Map<string, Reservation>>;
}

export const endpointKey = (endpointId: string): string => `endpoint:${endpointId}`;
export const tenantKey = (tenantId: string): string => `tenant:${tenantId}`;
