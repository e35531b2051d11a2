import type { Db } from '../store/db.ts';
import { recordOutcomes, type Outcome, type OutcomeRules } from '../domain/delivery-outcomes.ts';
import type { Metrics } from '../telemetry/metrics.ts';

/** Stage 4 of a delivery: the outcome recorded (resolves once committed; rejects when it could not be). */
export type RecordOutcome = (outcome: Outcome & { messageCreatedAtMs: number }) => Promise<void>;

/**
 * Outcomes are written in batches: whatever finished while the previous batch was being written goes
 * in the next one, one transaction per tenant (recordOutcomes). Metrics count what was committed:
 * latency once per delivered delivery (one whose lease was taken over counts where it was moved).
 */
export function createRecorder(o: {
  db: Db;
  owner: string;
  metrics?: Metrics | undefined;
  clock: () => number;
  rules: OutcomeRules;
}): RecordOutcome {
  type Item = { outcome: Outcome & { messageCreatedAtMs: number }; done: (err?: unknown) => void };
  let pending: Item[] = [];
  let flushing = false;

  async function writeTenant(tenantId: string, items: Item[]): Promise<void> {
    try {
      const { moved, disabled } = await recordOutcomes(
        o.db,
        tenantId,
        o.owner,
        items.map((i) => i.outcome),
        o.rules,
      );
      if (o.metrics) {
        observe(o.metrics, tenantId, items, moved);
        for (const d of disabled) o.metrics.endpointDisabled(d.cause);
      }
      for (const i of items) i.done();
    } catch (err) {
      for (const i of items) i.done(err);
    }
  }

  function observe(m: Metrics, tenantId: string, items: readonly Item[], moved: Set<string>): void {
    const now = o.clock();
    for (const { outcome: x } of items) {
      if (!moved.has(x.attempt.deliveryId)) continue;
      if (x.decision.state === 'succeeded') m.delivered(tenantId, (now - x.messageCreatedAtMs) / 1000);
    }
  }

  async function flush(): Promise<void> {
    flushing = true;
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const byTenant = new Map<string, Item[]>();
      for (const item of batch) {
        const tenantId = item.outcome.attempt.tenantId;
        const list = byTenant.get(tenantId);
        if (list) list.push(item);
        else byTenant.set(tenantId, [item]);
      }
      await Promise.all([...byTenant].map(([tenantId, items]) => writeTenant(tenantId, items)));
    }
    flushing = false;
  }

  return (outcome) =>
    new Promise((resolve, reject) => {
      pending.push({ outcome, done: (err) => (err ? reject(err) : resolve()) });
      if (!flushing) void flush();
    });
}
