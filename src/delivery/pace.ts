import {
  endpointKey,
  intervalMs,
  toleranceMs,
  paceRule,
  tenantKey,
  type PaceRequest,
  type PaceRule,
  type Pacer,
  type Reservation,
} from '../domain/pacing.ts';

/** What pacing needs of a claimed delivery. */
export interface Paceable {
  id: string;
  tenantId: string;
  endpointId: string;
  /** The endpoint's limit; null: none. */
  rateLimitPerSecond: number | null;
}

export interface Paced<T> {
  /**
   * Each with the wait until its slot (0: now); the worker holds it and sends it then, unless its timer fired
   * past `lateAtMs` (a stalled process): sent that late it would land beside the next slots' deliveries, so
   * it goes back to the queue instead and takes a new slot.
   */
  send: Array<{ d: T; waitMs: number; lateAtMs: number }>;
  /** No slot within the horizon: handed back, due about when its turn should come. */
  later: Array<{ id: string; delayMs: number }>;
}

/**
 * The rate-limit stage between the claim and the sends: every claimed delivery takes a slot of its endpoint's
 * limit (when it has one) and of its tenant's outbound cap, fleet-wide (domain/pacing.ts). One that got its
 * slots is sent at the later of them; one that did not is handed back — not attempted, no attempt counted,
 * never failed. (A delivery that got a slot of one key but not of the other leaves that slot unused: the
 * limit is then met from below, never exceeded.)
 */
export function createPace(pacer: Pacer | null, outboundPerTenantPerSecond: number | null, clock: () => number) {
  const tenantRule = outboundPerTenantPerSecond ? paceRule(outboundPerTenantPerSecond) : null;
  /** `reserved`: the slots were already taken with the claim (Postgres); else `pacer` takes them now (Redis). */
  return async function pace<T extends Paceable>(claimed: readonly T[], reserved?: ReadonlyMap<string, Reservation>): Promise<Paced<T>> {
    const out: Paced<T> = { send: [], later: [] };
    const wanting: Array<{ d: T; keys: Array<[string, number]> }> = [];
    const requests = new Map<string, { -readonly [K in keyof PaceRequest]: PaceRequest[K] }>();
    const want = (key: string, tenantId: string, rule: PaceRule): [string, number] => {
      const r = requests.get(key);
      if (r) return [key, r.n++];
      requests.set(key, { key, tenantId, rule, n: 1 });
      return [key, 0];
    };
    for (const d of claimed) {
      const keys: Array<[string, number]> = [];
      if (d.rateLimitPerSecond) keys.push(want(endpointKey(d.endpointId), d.tenantId, paceRule(d.rateLimitPerSecond)));
      if (tenantRule) keys.push(want(tenantKey(d.tenantId), d.tenantId, tenantRule));
      if (keys.length === 0) out.send.push({ d, waitMs: 0, lateAtMs: Number.POSITIVE_INFINITY });
      else wanting.push({ d, keys });
    }
    if (wanting.length === 0) return out;
    const reservations = reserved ?? (pacer ? await pacer.reserve([...requests.values()]) : new Map<string, Reservation>());
    const now = clock();
    for (const { d, keys } of wanting) {
      let granted = true;
      let slotAt = Number.NEGATIVE_INFINITY;
      let slack = Number.POSITIVE_INFINITY;
      for (const [key, i] of keys) {
        const r = reservations.get(key);
        if (!r) continue;
        const rule = requests.get(key)!.rule;
        slotAt = Math.max(slotAt, now + r.firstInMs + i * intervalMs(rule));
        slack = Math.min(slack, intervalMs(rule) + toleranceMs(rule));
        if (i >= r.granted) granted = false;
      }
      const waitMs = Number.isFinite(slotAt) ? Math.ceil(slotAt - now) : 0;
      if (granted)
        // Only a delivery that waits for its slot can be late for it (its timer fired late): one whose slot
        // was already due when the answer came goes now, so a slow database never turns into a hand-back loop.
        out.send.push({ d, waitMs: Math.max(0, waitMs), lateAtMs: waitMs > 0 ? now + waitMs + slack : Number.POSITIVE_INFINITY });
      else out.later.push({ id: d.id, delayMs: Math.max(1, waitMs) });
    }
    return out;
  };
}
