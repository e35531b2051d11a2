/**
 * A fair share of this worker's delivery slots for every tenant. Without it, one tenant whose endpoints
 * hold each request until the timeout filled every slot, and every other tenant's deliveries waited
 * behind it (a portal user can create endpoints, so a tenant's customer could do this).
 *
 * Decision: work-conserving with a reserve. A tenant alone may use most of the slots, but never more
 * than `share` of them (75 %, and at least one endpoint's worth): the rest stay free for the others,
 * because a slot held by a slow delivery cannot be taken back until its request ends. Claims skip the
 * tenants at their share, and interleave tenants (tenant turn first, then due time), so a quiet tenant's
 * delivery is claimed in the next round trip however long a noisy tenant's backlog is. Counted per
 * worker: each process protects its own slots, so the fleet's capacity grows with its workers.
 */
export interface FairShare {
  /** The most slots one tenant may hold in this worker. */
  readonly cap: number;
  /** Tenants at their cap now: the next claim skips them. */
  full(): string[];
  /** Tenants holding slots but below their cap, and how many more each may take: the next claim takes no more. */
  room(): Map<string, number>;
  /** Takes the claimed deliveries a tenant's share allows and counts them; the rest go back to the queue. */
  admit<T extends { id: string; tenantId: string }>(claimed: readonly T[]): { take: T[]; giveBack: T[] };
  /** A delivery of this tenant left its slot. */
  finished(tenantId: string): void;
}

export const TENANT_SHARE = 0.75;

export function createFairShare(concurrency: number, endpointConcurrency: number): FairShare {
  const cap = Math.min(concurrency, Math.max(endpointConcurrency, Math.ceil(concurrency * TENANT_SHARE)));
  const held = new Map<string, number>();
  return {
    cap,
    full: () => [...held].filter(([, n]) => n >= cap).map(([t]) => t),
    room: () => new Map([...held].filter(([, n]) => n < cap).map(([t, n]) => [t, cap - n])),
    admit(claimed) {
      const take: (typeof claimed)[number][] = [];
      const giveBack: (typeof claimed)[number][] = [];
      for (const d of claimed) {
        const n = held.get(d.tenantId) ?? 0;
        if (n >= cap) giveBack.push(d);
        else {
          held.set(d.tenantId, n + 1);
          take.push(d);
        }
      }
      return { take, giveBack };
    },
    finished(tenantId) {
      const n = (held.get(tenantId) ?? 1) - 1;
      if (n <= 0) held.delete(tenantId);
      else held.set(tenantId, n);
    },
  };
}
