import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import { DELIVERY_CHANNEL } from '../store/deliveries.ts';
import * as queue from '../store/queue.ts';
import type { Decision } from '../domain/delivery-policy.ts';
import type { TenantCipher } from '../domain/secrets/tenant-cipher.ts';
import type { AttemptOutcome, Metrics } from '../telemetry/metrics.ts';
import type { ErrorReporter } from '../telemetry/errors.ts';
import type { HttpClient } from './http-client.ts';
import { createFairShare, type FairShare } from './fair-share.ts';
import { intervalMs, PACE_HORIZON_MS, paceRule, toleranceMs, type Pacer } from '../domain/pacing.ts';
import { FAST_ANSWER_MS, SLOW_ANSWER_MS, type HealthPolicy } from '../domain/endpoint-health.ts';
import { createDbClock, type DbClock } from './db-clock.ts';
import { createPace, type Paced } from './pace.ts';
import { createWakeup, type Wakeup } from './wakeup.ts';
import { withOpenCache } from './secret-cache.ts';
import { createLeaseReaper } from './lease-reaper.ts';
import { prepare } from './prepare.ts';
import { send } from './send.ts';
import { decide, type Verdict } from './decide.ts';
import { createRecorder, type RecordOutcome } from './record.ts';

/** Handing leases back is one statement: BEGIN, it and COMMIT in one round trip. */
const ONE = { oneStatement: true } as const;

export interface WorkerOptions {
  db: Db;
  http: HttpClient;
  cipher: TenantCipher;
  log: Logger;
  /** Identifies this worker's leases. */
  owner: string;
  concurrency: number;
  /** An endpoint's window to start with (fleet-wide, in the claim). */
  endpointConcurrency: number;
  /** What a fast, saturated endpoint's window grows to; absent: endpointConcurrency (no growth). */
  endpointConcurrencyMax?: number;
  leaseMs: number;
  pollIntervalMs: number;
  retryScheduleMs: readonly number[];
  /** Outbound requests per second per tenant, fleet-wide; over it, claims are handed back due at their slot (pace.ts). */
  outboundPerTenantPerSecond?: number;
  /** Where rate-limit slots are reserved when not Postgres (Redis: pacers.ts); absent, they are reserved with the claim itself. */
  pacer?: Pacer;
  /** Back-off, breaker and operational events (domain/endpoint-health.ts); the window's bounds come from the concurrencies. */
  health?: BreakerPolicy;
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

export interface Worker {
  start(): Promise<void>;
  /** Stops claiming, lets in-flight deliveries finish until the deadline, hands back the rest. */
  stop(deadlineMs: number): Promise<void>;
  readonly inFlight: number;
}

/** Back-off and breaker defaults when the caller passes none (the configuration's defaults: src/config.ts). */
type BreakerPolicy = Omit<HealthPolicy, 'baseInFlight' | 'maxInFlight' | 'fastAnswerMs' | 'slowAnswerMs'>;
export const DEFAULT_HEALTH: BreakerPolicy = {
  decreaseEveryMs: 1_000,
  pauseBaseMs: 1_000,
  maxPauseMs: 60_000,
  disableAfterMs: 5 * 24 * 3_600_000,
  disableAfterMessages: 0,
  failingEventAfterAttempts: 4,
};

const OUTCOME_OF: Record<Decision['state'], AttemptOutcome> = { succeeded: 'success', pending: 'retry', failed: 'failed' };

/** What the loop and the stages share. */
interface Ctx {
  o: WorkerOptions;
  clock: () => number;
  random: () => number;
  cipher: TenantCipher;
  pace: ReturnType<typeof createPace>;
  /** Rate-limit slots reserved within the claim (Postgres); null when a pacer (Redis) takes them after it. */
  claimPacing: queue.ClaimPacing | null;
  fair: FairShare;
  record: RecordOutcome;
  reap: () => Promise<number>;
  wakeup: Wakeup;
  inFlight: Map<string, AbortController>;
  state: { running: boolean; stopping: boolean; lastReap: number; lastClaimReport: number; headCursor: string };
  dbClock: DbClock;
}

/**
 * Claim → for each delivery: prepare → send → decide → record (one file per stage, each with a typed result).
 * Claims run in batches under a lease; a NOTIFY from a publish wakes the loop at once and a poll timer covers
 * lost notifications and retries coming due. Expired leases (a worker that died) are reaped here too, so any
 * worker recovers them.
 */
export function createWorker(o: WorkerOptions): Worker {
  const dbClock = createDbClock(o.db, o.clock ?? Date.now);
  const clock = dbClock.now;
  const ctx: Ctx = {
    o,
    clock,
    random: o.random ?? Math.random,
    cipher: withOpenCache(o.cipher),
    pace: createPace(o.pacer ?? null, o.outboundPerTenantPerSecond ?? null, clock),
    claimPacing: o.pacer
      ? null
      : {
          tenant: o.outboundPerTenantPerSecond
            ? {
                intervalMs: intervalMs(paceRule(o.outboundPerTenantPerSecond)),
                toleranceMs: toleranceMs(paceRule(o.outboundPerTenantPerSecond)),
              }
            : null,
          horizonMs: PACE_HORIZON_MS,
        },
    fair: createFairShare(o.concurrency, o.endpointConcurrency),
    record: createRecorder({
      db: o.db,
      owner: o.owner,
      metrics: o.metrics,
      clock,
      rules: {
        clock,
        health: {
          ...(o.health ?? DEFAULT_HEALTH),
          baseInFlight: o.endpointConcurrency,
          maxInFlight: Math.max(o.endpointConcurrency, o.endpointConcurrencyMax ?? o.endpointConcurrency),
          fastAnswerMs: FAST_ANSWER_MS,
          slowAnswerMs: SLOW_ANSWER_MS,
        },
      },
    }),
    reap: createLeaseReaper({ db: o.db, log: o.log, metrics: o.metrics }),
    wakeup: createWakeup(),
    inFlight: new Map(),
    state: { running: false, stopping: false, lastReap: 0, lastClaimReport: -Infinity, headCursor: '' },
    dbClock,
  };
  o.metrics?.setLeasesHeld(() => ctx.inFlight.size);
  let loopDone: Promise<void> = Promise.resolve();
  let unlisten: (() => Promise<void>) | undefined;
  return {
    get inFlight() {
      return ctx.inFlight.size;
    },
    async start() {
      ctx.state.running = true;
      unlisten = await o.db.listen(DELIVERY_CHANNEL, ctx.wakeup.wake);
      loopDone = claimLoop(ctx);
    },
    async stop(deadlineMs) {
      ctx.state.running = false;
      ctx.wakeup.wake();
      // A claim stuck on an unreachable database must not hold the shutdown past its deadline; if it
      // returns later, the loop hands what it claimed straight back (see claimLoop).
      const cut = new AbortController();
      await Promise.race([loopDone, sleep(deadlineMs, undefined, { signal: cut.signal }).catch(() => {})]);
      cut.abort();
      await unlisten?.().catch(() => {});
      await drain(ctx, deadlineMs);
    },
  };
}

async function claimLoop(ctx: Ctx): Promise<void> {
  const { o } = ctx;
  const batchSize = o.batchSize ?? 50;
  const pacing = o.claimPacingMs ?? 5;
  while (ctx.state.running) {
    const free = o.concurrency - ctx.inFlight.size;
    if (free <= 0) {
      await ctx.wakeup.wait(o.pollIntervalMs);
      continue;
    }
    const limit = Math.min(free, batchSize);
    const got = await claim(ctx, limit);
    const claimed = got?.claimed ?? null;
    if (!ctx.state.running) {
      // Stopped while claiming: nothing more starts; what was just leased is due again at once.
      if (claimed && claimed.length > 0) {
        const ids = claimed.map((d) => d.id);
        await o.db.system((q) => queue.releaseLeases(q, o.owner, ids), ONE).catch(() => {});
      }
      break;
    }
    if (claimed === null) {
      await sleep(o.pollIntervalMs);
      continue;
    }
    // A tenant's share may have filled since the claim skipped it: the excess goes back, due at once.
    const { take, giveBack } = ctx.fair.admit(claimed);
    const later = giveBack.map((d) => ({ id: d.id, delayMs: 0 }));
    // Rate limits (the endpoint's, the tenant's outbound cap), fleet-wide: each sent at its slot, or handed back.
    const paced = await pace(ctx, take, got!.reservations);
    for (const { d, waitMs, lateAtMs } of paced.send) run(ctx, d, waitMs, lateAtMs);
    later.push(...paced.later);
    if (later.length > 0) {
      // Not attempted, handed back due later (a failure here only leaves the leases to expire and be
      // reaped: the deliveries are late, not lost).
      await o.db
        .system((q) => queue.postponeLeases(q, o.owner, later), ONE)
        .catch((err: unknown) => o.log.error({ err }, 'could not hand back paced deliveries'));
    }
    if (claimed.length < limit) {
      await sleep(pacing);
      await ctx.wakeup.wait(o.pollIntervalMs);
    }
  }
}

/**
 * The pacing stage; a failure to reserve (database or Redis away) sends nothing: the claimed deliveries are
 * handed back due after a poll interval. The fair share forgets what is not sent.
 */
async function pace(
  ctx: Ctx,
  take: queue.ClaimedDelivery[],
  reserved: queue.ClaimReservations | null,
): Promise<Paced<queue.ClaimedDelivery>> {
  let paced: Paced<queue.ClaimedDelivery>;
  try {
    paced = await ctx.pace(take, reserved ?? undefined);
  } catch (err) {
    ctx.o.log.error({ err }, 'could not reserve rate-limit slots; handing the claim back');
    paced = { send: [], later: take.map((d) => ({ id: d.id, delayMs: ctx.o.pollIntervalMs })) };
  }
  if (paced.later.length > 0) {
    const tenantOf = new Map(take.map((d) => [d.id, d.tenantId]));
    for (const x of paced.later) ctx.fair.finished(tenantOf.get(x.id)!);
  }
  return paced;
}

/**
 * Reaps expired leases when due, then claims (with Postgres pacing, reserving the claimed deliveries'
 * rate-limit slots in the same round trip); null when the database failed (logged, reported once a minute).
 */
async function claim(
  ctx: Ctx,
  limit: number,
): Promise<{ claimed: queue.ClaimedDelivery[]; reservations: queue.ClaimReservations | null } | null> {
  const { o } = ctx;
  try {
    await ctx.dbClock.sync();
    const now = ctx.clock();
    if (now - ctx.state.lastReap >= Math.max(1000, o.pollIntervalMs * 5)) {
      ctx.state.lastReap = now;
      await ctx.reap();
    }
    const skipTenants = ctx.fair.full();
    const got = await o.db.system(
      (q) =>
        queue.claimAndPace(q, {
          limit,
          tenantRoom: ctx.fair.room(),
          perEndpoint: o.endpointConcurrency,
          perEndpointMax: Math.max(o.endpointConcurrency, o.endpointConcurrencyMax ?? o.endpointConcurrency),
          leaseMs: o.leaseMs,
          owner: o.owner,
          skipTenants,
          pacing: ctx.claimPacing,
          headCursor: ctx.state.headCursor,
        }),
      queue.CLAIM_TX,
    );
    if (got.headCursor !== null) ctx.state.headCursor = got.headCursor;
    return { claimed: got.claimed, reservations: ctx.claimPacing ? got.reservations : null };
  } catch (err) {
    if (!ctx.state.running) return null;
    o.log.error({ err }, 'claiming deliveries failed; retrying');
    // The loop retries every poll interval while the database is away: one report a minute is enough.
    if (ctx.clock() - ctx.state.lastClaimReport >= 60_000) {
      ctx.state.lastClaimReport = ctx.clock();
      o.errors?.capture(err, { component: 'worker' });
    }
    return null;
  }
}

function run(ctx: Ctx, d: queue.ClaimedDelivery, waitMs: number, lateAtMs: number): void {
  const controller = new AbortController();
  ctx.inFlight.set(d.id, controller);
  deliver(ctx, d, waitMs, lateAtMs, controller.signal)
    .catch((err: unknown) => {
      // The outcome could not be recorded: the lease expires and another attempt follows (at-least-once).
      ctx.o.log.error(
        { err, tenantId: d.tenantId, endpointId: d.endpointId, messageId: d.messageId, deliveryId: d.id },
        'could not record a delivery attempt',
      );
      ctx.o.errors?.capture(err, { component: 'worker', tenantId: d.tenantId });
    })
    .finally(() => {
      ctx.inFlight.delete(d.id);
      ctx.fair.finished(d.tenantId);
      ctx.wakeup.wake();
    });
}

/** One delivery attempt, stage by stage, at its rate-limit slot (`waitMs` from now, within the lease). */
async function deliver(ctx: Ctx, d: queue.ClaimedDelivery, waitMs: number, lateAtMs: number, signal: AbortSignal): Promise<void> {
  if (waitMs > 0) {
    const waited = await sleep(waitMs, true, { signal }).catch(() => false);
    if (!waited) return; // shutdown: the lease is handed back, nothing was sent
  }
  if (ctx.clock() > lateAtMs) {
    // Too late for its slot (the process stalled): sent now it would crowd the next slots. Back to the
    // queue, due at once, to take a new slot; not attempted.
    await ctx.o.db.system((q) => queue.postponeLeases(q, ctx.o.owner, [{ id: d.id, delayMs: 0 }]), ONE);
    return;
  }
  const startedAtMs = ctx.clock();
  const request = await prepare(d, ctx.cipher, startedAtMs);
  const sent = await send(ctx.o.http, d, request, signal);
  if (ctx.state.stopping && signal.aborted) return; // shutdown cut it short: the lease is handed back, not failed
  const verdict = decide(d, sent, startedAtMs, { retryScheduleMs: ctx.o.retryScheduleMs, random: ctx.random });
  ctx.o.metrics?.attempt(d.tenantId, OUTCOME_OF[verdict.decision.state], verdict.statusClass, verdict.durationSeconds);
  await ctx.record({
    attempt: verdict.attempt,
    decision: verdict.decision,
    result: verdict.result,
    attemptsInRound: verdict.attemptsInRound,
    consumerId: d.consumerId,
    eventType: d.eventType,
    healthTracked: d.healthTracked,
    windowGrown: d.windowGrown,
    saturated: d.saturated,
    messageCreatedAtMs: d.messageCreatedAt.getTime(),
  });
  if (sent.kind === 'error') {
    // The tenant sees a generic error (domain/delivery-policy.ts describeResult); the operator sees what happened.
    ctx.o.log.info(
      { tenantId: d.tenantId, endpointId: d.endpointId, messageId: d.messageId, deliveryId: d.id, code: sent.code, detail: sent.message },
      'delivery attempt failed before an answer',
    );
  } else if (ctx.o.log.isLevelEnabled('debug')) logAttempt(ctx.o.log, d, verdict);
}

function logAttempt(log: Logger, d: queue.ClaimedDelivery, v: Verdict): void {
  log.debug(
    {
      tenantId: d.tenantId,
      consumerId: d.consumerId,
      endpointId: d.endpointId,
      messageId: d.messageId,
      deliveryId: d.id,
      attempt: v.attempt.attempt,
      state: v.decision.state,
      ...(v.decision.state === 'failed' ? { reason: v.decision.reason } : {}),
      status: v.attempt.statusCode,
      durationMs: v.attempt.durationMs,
    },
    'delivery attempt',
  );
}

/** In-flight deliveries finish until the deadline; the rest are aborted and their leases handed back. */
async function drain(ctx: Ctx, deadlineMs: number): Promise<void> {
  const deadline = ctx.clock() + deadlineMs;
  while (ctx.inFlight.size > 0 && ctx.clock() < deadline) await sleep(50);
  if (ctx.inFlight.size === 0) return;
  ctx.state.stopping = true;
  const ids = [...ctx.inFlight.keys()];
  for (const c of ctx.inFlight.values()) c.abort();
  const released = await ctx.o.db.system((q) => queue.releaseLeases(q, ctx.o.owner, ids), ONE);
  ctx.o.log.warn({ released }, 'shutdown deadline reached: handed unfinished deliveries back');
  while (ctx.inFlight.size > 0) await sleep(10);
}
