import type { Db, Queryable } from '../store/db.ts';
import { disableEndpoint } from '../store/endpoints.ts';
import { lockHealth, saveHealth, type HealthRow } from '../store/endpoint-health.ts';
import { completeMany, type AttemptRecord } from '../store/queue.ts';
import { auditSystemAction } from './audit.ts';
import { endpointDisableReason, isSuccess, type AttemptResult, type Decision } from './delivery-policy.ts';
import { healthy, isHealthy, observe, type EndpointHealth, type HealthEvent, type HealthPolicy } from './endpoint-health.ts';
import { publishOperationalEvents, type OperationalEvent } from './operational-events.ts';

export interface Outcome {
  attempt: AttemptRecord;
  decision: Decision;
  result: AttemptResult;
  /** Attempts made in this round, this one included. */
  attemptsInRound: number;
  consumerId: string;
  eventType: string;
  /** The endpoint was under pressure or failing when claimed (a success then has something to restore). */
  healthTracked: boolean;
  /** The endpoint's window had grown past the start when claimed (a slow answer shrinks it). */
  windowGrown: boolean;
  /** The endpoint had more due than its window when claimed (a fast answer grows it). */
  saturated: boolean;
}

export interface OutcomeRules {
  health: HealthPolicy;
  clock: () => number;
}

/** An endpoint disabled by this batch, with why (the metrics label it). */
export interface Disabled {
  endpointId: string;
  cause: 'gone' | 'failing';
}

/**
 * Records one tenant's finished attempts in one transaction (under that tenant's role, through RLS):
 * the attempt log, each delivery moved on (only while `owner` still holds its lease), the endpoints'
 * health (domain/endpoint-health.ts: back-off, breaker), an endpoint disabled when a 410 or the breaker
 * says so (audited as the system's doing), and the operational events all this calls for.
 * An endpoint that only succeeded and was healthy costs nothing more than the completion.
 */
export function recordOutcomes(
  db: Db,
  tenantId: string,
  owner: string,
  outcomes: readonly Outcome[],
  rules: OutcomeRules,
): Promise<{ moved: Set<string>; disabled: Disabled[] }> {
  const byEndpoint = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    if (isSuccess(o.result) && !o.healthTracked && endpointDisableReason(o.decision) === null && !changesWindow(o, rules.health)) continue;
    const list = byEndpoint.get(o.attempt.endpointId);
    if (list) list.push(o);
    else byEndpoint.set(o.attempt.endpointId, [o]);
  }
  // The common batch (healthy endpoints that answered 2xx) is the completion alone: one round trip with BEGIN and COMMIT.
  return db.tenant(
    tenantId,
    async (q) => {
      const moved = await completeMany(
        q,
        owner,
        outcomes.map((o) => ({ attempt: o.attempt, next: o.decision })),
      );
      if (byEndpoint.size === 0) return { moved, disabled: [] };
      const disabled = await applyHealth(q, tenantId, byEndpoint, moved, rules);
      return { moved, disabled };
    },
    { oneStatement: byEndpoint.size === 0 },
  );
}

/** A success of a healthy endpoint is written only when it moves the window: fast and saturated, or slow and grown. */
function changesWindow(o: Outcome, p: HealthPolicy): boolean {
  const ms = o.attempt.durationMs;
  if (ms === null) return false;
  return (o.saturated && ms <= p.fastAnswerMs) || (o.windowGrown && ms >= p.slowAnswerMs);
}

async function applyHealth(
  q: Queryable,
  tenantId: string,
  byEndpoint: Map<string, Outcome[]>,
  moved: Set<string>,
  rules: OutcomeRules,
): Promise<Disabled[]> {
  const p = rules.health;
  const nowMs = rules.clock();
  const rows = await lockHealth(q, [...byEndpoint.keys()]);
  const save: HealthRow[] = [];
  const healthyAgain: string[] = [];
  const disabled: Disabled[] = [];
  const events: OperationalEvent[] = [];
  for (const [endpointId, list] of byEndpoint) {
    const row = rows.get(endpointId);
    let h = row ? fromRow(row) : healthy(p);
    let disable: { reason: string; failingSinceMs: number | null; cause: Disabled['cause'] } | null = null;
    for (const o of list) {
      const r = observe(
        h,
        {
          result: o.result,
          decision: o.decision,
          attemptsInRound: o.attemptsInRound,
          durationMs: o.attempt.durationMs,
          saturated: o.saturated,
        },
        nowMs,
        p,
      );
      h = r.health;
      for (const e of r.events) events.push(...describe(e, o, nowMs));
      const gone = moved.has(o.attempt.deliveryId) ? endpointDisableReason(o.decision) : null;
      const breaker = r.events.find((e): e is Extract<HealthEvent, { kind: 'disable' }> => e.kind === 'disable');
      if (gone !== null) disable = { reason: gone, failingSinceMs: null, cause: 'gone' };
      else if (breaker) disable = { reason: breaker.reason, failingSinceMs: breaker.failingSinceMs, cause: 'failing' };
      if (disable) {
        // The endpoint's queued deliveries go with it; what it reported stays said, nothing more is judged.
        await disableEndpoint(q, endpointId, disable.reason);
        await auditSystemAction(q, tenantId, 'endpoint.disable', endpointId);
        events.push({
          type: 'endpoint.disabled',
          subjectConsumerId: o.consumerId,
          key: `${endpointId}:${nowMs}`,
          data: {
            endpointId,
            consumerId: o.consumerId,
            reason: disable.reason,
            disabledAt: new Date(nowMs).toISOString(),
            failingSince: disable.failingSinceMs === null ? null : new Date(disable.failingSinceMs).toISOString(),
          },
        });
        disabled.push({ endpointId, cause: disable.cause });
        break;
      }
    }
    // A disabled endpoint's health row is gone with the flip (the migration's trigger): nothing to save.
    if (disable) continue;
    if (isHealthy(h, p)) {
      if (row) healthyAgain.push(endpointId);
    } else save.push(toRow(endpointId, h));
  }
  await saveHealth(q, tenantId, save, healthyAgain);
  await publishOperationalEvents(q, tenantId, events);
  return disabled;
}

/** The operational events one health event calls for (a disable is told by the caller, once it is done). */
function describe(e: HealthEvent, o: Outcome, nowMs: number): OperationalEvent[] {
  const at = new Date(nowMs).toISOString();
  switch (e.kind) {
    case 'disable':
      return [];
    case 'recovered':
      return [
        {
          type: 'endpoint.recovered',
          subjectConsumerId: o.consumerId,
          key: `${o.attempt.endpointId}:${nowMs}`,
          data: {
            endpointId: o.attempt.endpointId,
            consumerId: o.consumerId,
            failingSince: e.failingSinceMs === null ? null : new Date(e.failingSinceMs).toISOString(),
            recoveredAt: at,
          },
        },
      ];
    case 'failing':
    case 'exhausted': {
      const type = e.kind === 'failing' ? 'message.attempt.failing' : 'message.attempt.exhausted';
      return [
        {
          type,
          subjectConsumerId: o.consumerId,
          key: `${o.attempt.deliveryId}:${o.attempt.attempt}`,
          data: {
            messageId: o.attempt.messageId,
            eventType: o.eventType,
            consumerId: o.consumerId,
            endpointId: o.attempt.endpointId,
            deliveryId: o.attempt.deliveryId,
            attempts: o.attempt.attempt,
            lastStatus: o.attempt.statusCode,
            lastError: o.attempt.error,
            at,
          },
        },
      ];
    }
  }
}

const ms = (d: Date | null): number | null => (d === null ? null : new Date(d).getTime());
const date = (n: number | null): Date | null => (n === null ? null : new Date(n));

const fromRow = (r: HealthRow): EndpointHealth => ({
  maxInFlight: Number(r.maxInFlight),
  pausedUntilMs: ms(r.pausedUntil),
  pressureStreak: r.pressureStreak,
  lastDecreaseAtMs: ms(r.lastDecreaseAt),
  failingSinceMs: ms(r.failingSince),
  failedMessages: r.failedMessages,
  notified: r.notified,
});

const toRow = (endpointId: string, h: EndpointHealth): HealthRow => ({
  endpointId,
  maxInFlight: h.maxInFlight,
  pausedUntil: date(h.pausedUntilMs),
  pressureStreak: h.pressureStreak,
  lastDecreaseAt: date(h.lastDecreaseAtMs),
  failingSince: date(h.failingSinceMs),
  failedMessages: h.failedMessages,
  notified: h.notified,
});
