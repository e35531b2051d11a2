import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { DELIVERY_CHANNEL } from '../store/deliveries.ts';
import { disableEndpoint } from '../store/endpoints.ts';
import { insertAudit } from '../store/audit-log.ts';
import * as queue from '../store/queue.ts';
import { decide, describeResult, isSuccess, type AttemptResult, type Decision } from '../domain/delivery-policy.ts';
import { buildWebhook, signingSecrets } from '../domain/webhook.ts';
import type { HttpClient, SendResult } from './http-client.ts';
import { createOutboundCap } from './outbound-cap.ts';
import { withOpenCache } from './secret-cache.ts';
import { openHeaders, secretAad, type TenantCipher } from '../domain/secrets/tenant-cipher.ts';
import { statusClassOf, type AttemptOutcome, type Metrics, type StatusClass } from '../telemetry/metrics.ts';
import type { ErrorReporter } from '../telemetry/errors.ts';
import { withDeliverSpan } from '../telemetry/tracing.ts';

export interface WorkerOptions {
  db: Db;
  http: HttpClient;
  cipher: TenantCipher;
  log: Logger;
  /** Identifies this worker's leases. */
  owner: string;
  concurrency: number;
  endpointConcurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  retryScheduleMs: readonly number[];
  /** Outbound requests per second per tenant in this process; over it, claims are handed back with a delay (see outbound-cap.ts). */
  outboundPerTenantPerSecond?: number;
  clock?: () => number;
  random?: () => number;
  /** Largest claim per round trip. */
  batchSize?: number;
  /**
   * Shortest pause between two claims when the queue ran dry: wake-ups that come closer than this
   * (one per publish, one per finished delivery) are served by one claim instead of one each.
   */
  claimPacingMs?: number;
  metrics?: Metrics;
  /** Where failures to claim or record go besides the log (Sentry when configured). */
  errors?: ErrorReporter;
}

const OUTCOME_OF: Record<Decision['state'], AttemptOutcome> = { succeeded: 'success', pending: 'retry', failed: 'failed' };

/** The status class of an attempt for metrics: the HTTP class, or what went wrong before there was one. */
const classOf = (sent: SendResult): StatusClass =>
  sent.kind === 'response'
    ? statusClassOf(sent.status)
    : sent.code === 'egress_refused' || sent.code === 'invalid_url'
      ? 'refused'
      : sent.code === 'timeout'
        ? 'timeout'
        : 'network';

export interface Worker {
  start(): Promise<void>;
  /** Stops claiming, lets in-flight deliveries finish until the deadline, hands back the rest. */
  stop(deadlineMs: number): Promise<void>;
  readonly inFlight: number;
}

/**
 * Claim → send → record. Claims run in batches under a lease; a NOTIFY from a publish wakes
 * the loop at once and a poll timer covers lost notifications and retries coming due.
 * Expired leases (a worker that died) are reaped here too, so any worker recovers them.
 */
export function createWorker(o: WorkerOptions): Worker {
  const clock = o.clock ?? Date.now;
  const random = o.random ?? Math.random;
  const batchSize = o.batchSize ?? 50;
  const pacing = o.claimPacingMs ?? 5;
  const cipher = withOpenCache(o.cipher);
  const outbound = o.outboundPerTenantPerSecond ? createOutboundCap(o.outboundPerTenantPerSecond) : null;
  const inFlight = new Map<string, AbortController>();
  let running = false;
  let stopping = false;
  let loopDone: Promise<void> = Promise.resolve();
  let unlisten: (() => Promise<void>) | undefined;
  let kick: (() => void) | undefined;
  // A wake-up that came while the loop was busy claiming is kept, not lost.
  let woken = false;
  let lastReap = 0;
  let lastClaimReport = -Infinity;
  o.metrics?.setLeasesHeld(() => inFlight.size);

  const wake = (): void => {
    if (kick) kick();
    else woken = true;
  };

  function waitForWork(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        kick = undefined;
        woken = false;
        resolve();
      }
      kick = done;
    });
  }

  async function deliver(d: queue.ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const now = clock();
    const aad = secretAad(d.endpointId);
    const secret = await cipher.open(d.tenantId, d.secret, aad);
    const previous = d.previousSecret === null ? null : await cipher.open(d.tenantId, d.previousSecret, aad);
    const { headers, body } = buildWebhook({
      messageId: d.messageId,
      eventType: d.eventType,
      payload: d.payload,
      messageCreatedAt: d.messageCreatedAt,
      secrets: signingSecrets(secret, previous, d.previousSecretExpiresAt, now),
      customHeaders: await openHeaders(cipher, d.tenantId, d.endpointId, d.headers),
      nowMs: now,
    });
    const sent = await withDeliverSpan(
      { tenantId: d.tenantId, messageId: d.messageId, endpointId: d.endpointId, deliveryId: d.id, attempt: d.attempts + 1, traceparent: d.traceparent },
      async (span) => {
        const r = await o.http.post(d.url, headers, body, signal);
        if (r.kind === 'response') span.setAttribute('http.response.status_code', r.status);
        else span.setAttribute('error.type', r.code);
        return r;
      },
    );
    if (stopping && signal.aborted) return; // shutdown cut it short: the lease is handed back, not failed
    const result: AttemptResult =
      sent.kind === 'response'
        ? { kind: 'response', status: sent.status, retryAfterMs: sent.retryAfterMs }
        : { kind: 'error', code: sent.code, message: sent.message };
    const decision = decide({ result, attemptsInRound: d.attempts - d.roundStart + 1, scheduleMs: o.retryScheduleMs, random });
    const attempt: queue.AttemptRecord = {
      id: newId('atm'),
      tenantId: d.tenantId,
      deliveryId: d.id,
      messageId: d.messageId,
      endpointId: d.endpointId,
      attempt: d.attempts + 1,
      outcome: isSuccess(result) ? 'succeeded' : 'failed',
      statusCode: sent.kind === 'response' ? sent.status : null,
      error: describeResult(result),
      responseBody: sent.kind === 'response' ? sent.excerpt : null,
      startedAt: new Date(now),
      durationMs: Math.round(sent.durationMs),
    };
    o.metrics?.attempt(d.tenantId, OUTCOME_OF[decision.state], classOf(sent), sent.durationMs / 1000);
    await record({ attempt, decision, endpointId: d.endpointId, createdAtMs: d.messageCreatedAt.getTime() });
    if (o.log.isLevelEnabled('debug')) {
      o.log.debug(
        {
          tenantId: d.tenantId,
          consumerId: d.consumerId,
          endpointId: d.endpointId,
          messageId: d.messageId,
          deliveryId: d.id,
          attempt: attempt.attempt,
          state: decision.state,
          status: attempt.statusCode,
          durationMs: attempt.durationMs,
        },
        'delivery attempt',
      );
    }
  }

  // Outcomes are written in batches: whatever finished while the previous batch was being written
  // goes in the next one, one transaction per tenant (under that tenant's role, through RLS).
  interface Outcome {
    attempt: queue.AttemptRecord;
    decision: Decision;
    endpointId: string;
    /** The message's created time (publish → delivered latency). */
    createdAtMs: number;
  }
  let pending: Array<{ o: Outcome; done: (err?: unknown) => void }> = [];
  let flushing = false;

  function record(outcome: Outcome): Promise<void> {
    return new Promise((resolve, reject) => {
      pending.push({ o: outcome, done: (err) => (err ? reject(err) : resolve()) });
      if (!flushing) void flush();
    });
  }

  async function flush(): Promise<void> {
    flushing = true;
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const byTenant = new Map<string, typeof batch>();
      for (const item of batch) {
        const list = byTenant.get(item.o.attempt.tenantId) ?? [];
        list.push(item);
        byTenant.set(item.o.attempt.tenantId, list);
      }
      await Promise.all(
        [...byTenant].map(async ([tenantId, items]) => {
          try {
            const moved = await o.db.tenant(tenantId, async (q) => {
              const moved = await queue.completeMany(q, o.owner, items.map((i) => ({ attempt: i.o.attempt, next: i.o.decision })));
              for (const { o: x } of items) {
                if (x.decision.state === 'failed' && x.decision.disableEndpoint && moved.has(x.attempt.deliveryId)) {
                  await disableEndpoint(q, x.endpointId, x.decision.disableEndpoint);
                  await insertAudit(q, { tenantId, actor: 'system', action: 'endpoint.disable', target: x.endpointId });
                }
              }
              return moved;
            });
            if (o.metrics) observeCommitted(o.metrics, tenantId, items, moved);
            for (const i of items) i.done();
          } catch (err) {
            for (const i of items) i.done(err);
          }
        }),
      );
    }
    flushing = false;
  }

  /** Latency once per delivered delivery (one whose lease was taken over counts where it was moved), and disabled endpoints. */
  function observeCommitted(m: Metrics, tenantId: string, items: ReadonlyArray<{ o: Outcome }>, moved: Set<string>): void {
    const now = clock();
    for (const { o: x } of items) {
      if (!moved.has(x.attempt.deliveryId)) continue;
      if (x.decision.state === 'succeeded') m.delivered(tenantId, (now - x.createdAtMs) / 1000);
      else if (x.decision.state === 'failed' && x.decision.disableEndpoint) m.endpointDisabled(x.attempt.statusCode === 410 ? 'gone' : 'failing');
    }
  }

  function run(d: queue.ClaimedDelivery): void {
    const controller = new AbortController();
    inFlight.set(d.id, controller);
    deliver(d, controller.signal)
      .catch((err: unknown) => {
        // The outcome could not be recorded: the lease expires and another attempt follows (at-least-once).
        o.log.error({ err, tenantId: d.tenantId, endpointId: d.endpointId, messageId: d.messageId, deliveryId: d.id }, 'could not record a delivery attempt');
        o.errors?.capture(err, { component: 'worker', tenantId: d.tenantId });
      })
      .finally(() => {
        inFlight.delete(d.id);
        wake();
      });
  }

  async function reapIfDue(): Promise<void> {
    const now = clock();
    if (now - lastReap < Math.max(1000, o.pollIntervalMs * 5)) return;
    lastReap = now;
    const n = await o.db.system((q) => queue.reapExpiredLeases(q));
    o.metrics?.leasesExpired(n);
    if (n > 0) o.log.warn({ count: n }, 'took over deliveries whose lease expired');
  }

  async function loop(): Promise<void> {
    while (running) {
      const free = o.concurrency - inFlight.size;
      if (free <= 0) {
        await waitForWork(o.pollIntervalMs);
        continue;
      }
      const limit = Math.min(free, batchSize);
      let claimed: queue.ClaimedDelivery[];
      try {
        await reapIfDue();
        claimed = await o.db.system((q) =>
          queue.claimDue(q, { limit, perEndpoint: o.endpointConcurrency, leaseMs: o.leaseMs, owner: o.owner }),
        );
      } catch (err) {
        if (!running) break;
        o.log.error({ err }, 'claiming deliveries failed; retrying');
        // The loop retries every poll interval while the database is away: one report a minute is enough.
        if (clock() - lastClaimReport >= 60_000) {
          lastClaimReport = clock();
          o.errors?.capture(err, { component: 'worker' });
        }
        await sleep(o.pollIntervalMs);
        continue;
      }
      const { send, later } = outbound ? outbound.split(claimed, clock()) : { send: claimed, later: [] };
      for (const d of send) run(d);
      if (later.length > 0) {
        // Over the tenant's outbound cap: not attempted, handed back due later (a failure here only
        // leaves the leases to expire and be reaped: the deliveries are late, not lost).
        await o.db.system((q) => queue.postponeLeases(q, o.owner, later)).catch((err: unknown) => o.log.error({ err }, 'could not hand back capped deliveries'));
      }
      if (claimed.length < limit) {
        await sleep(pacing);
        await waitForWork(o.pollIntervalMs);
      }
    }
  }

  return {
    get inFlight() {
      return inFlight.size;
    },
    async start() {
      running = true;
      unlisten = await o.db.listen(DELIVERY_CHANNEL, wake);
      loopDone = loop();
    },
    async stop(deadlineMs) {
      running = false;
      wake();
      await loopDone;
      await unlisten?.().catch(() => {});
      const deadline = clock() + deadlineMs;
      while (inFlight.size > 0 && clock() < deadline) await sleep(50);
      if (inFlight.size > 0) {
        stopping = true;
        const ids = [...inFlight.keys()];
        for (const c of inFlight.values()) c.abort();
        const released = await o.db.system((q) => queue.releaseLeases(q, o.owner, ids));
        o.log.warn({ released }, 'shutdown deadline reached: handed unfinished deliveries back');
        while (inFlight.size > 0) await sleep(10);
      }
    },
  };
}
