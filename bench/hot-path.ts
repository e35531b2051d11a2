/**
 * The delivery queue's hot statements, in process, without HTTP or child processes: what a change to the store's
 * SQL or row mapping costs. Each round publishes a batch (insertMessages + enqueue, one tenant transaction),
 * claims it (claimAndPace, system role) and completes it (completeMany, one tenant transaction), as the API and the
 * worker do (the claim reserving the tenant's outbound-cap slots, as the worker's does: the cap set high enough
 * that nothing waits). Prints the mean and p50/p95 of each statement's transaction and the rounds per second.
 *
 *   npx tsx bench/hot-path.ts [--engine postgres|pglite] [--rounds 300] [--batch 50]
 *
 * Postgres: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) is the admin connection; a fresh
 * database is created for the run and dropped afterwards. PGlite: in memory.
 */
import { parseArgs } from 'node:util';
import { openScratchDb } from './lib/scratch-db.ts';
import { migrate } from '../src/store/migrate.ts';
import { newId } from '../src/store/ids.ts';
import { insertTenant } from '../src/store/tenants.ts';
import { insertConsumer } from '../src/store/consumers.ts';
import { insertEndpoint } from '../src/store/endpoints.ts';
import { insertMessages } from '../src/store/messages.ts';
import { enqueue } from '../src/store/deliveries.ts';
import { CLAIM_TX, claimAndPace, completeMany } from '../src/store/queue.ts';
import { intervalMs, PACE_HORIZON_MS, paceRule, toleranceMs } from '../src/domain/pacing.ts';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string', default: 'postgres' },
    rounds: { type: 'string', default: '300' },
    batch: { type: 'string', default: '50' },
  },
});
const rounds = Number(args.rounds);
const batch = Number(args.batch);

const { db, drop } = await openScratchDb(args.engine!, 'hot');
try {
  await migrate(db);
  const tenantId = newId('ten');
  await db.system((q) => insertTenant(q, { id: tenantId, name: 'bench' }));
  const consumer = (await db.tenant(tenantId, (q) =>
    insertConsumer(q, { id: newId('con'), tenantId, uid: null, name: 'c', metadata: {} }),
  ))!;
  for (let i = 0; i < 10; i++) {
    await db.tenant(tenantId, (q) =>
      insertEndpoint(q, {
        id: newId('ep'),
        tenantId,
        consumerId: consumer.id,
        url: `http://127.0.0.1:9/e${i}`,
        description: '',
        eventTypes: null,
        channels: null,
        headers: {},
        rateLimitPerSecond: null,
        disabled: false,
        secret: 'sealed-secret',
      }),
    );
  }
  const timings = { publish: [] as number[], claim: [] as number[], complete: [] as number[] };
  const cap = paceRule(1_000_000);
  const pacing = { tenant: { intervalMs: intervalMs(cap), toleranceMs: toleranceMs(cap) }, horizonMs: PACE_HORIZON_MS };
  const time = async <T>(into: number[], fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    into.push(performance.now() - t0);
    return r;
  };
  const warmup = Math.min(20, Math.floor(rounds / 10));
  const started = performance.now();
  let measuredFrom = started;
  for (let round = 0; round < rounds + warmup; round++) {
    if (round === warmup) {
      for (const list of Object.values(timings)) list.length = 0;
      measuredFrom = performance.now();
    }
    // One message per batch slot, to one endpoint each (10 endpoints, batch / 10 messages fan out to all 10).
    const ms = Array.from({ length: batch / 10 }, (_, i) => ({
      id: newId('msg'),
      consumerRef: consumer.id,
      eventType: 'invoice.paid',
      eventId: `${round}-${i}`,
      payload: JSON.stringify({ round, i, text: 'x'.repeat(200) }),
      channels: null,
      traceparent: null,
    }));
    await time(timings.publish, () =>
      db.tenant(tenantId, async (q) => {
        const out = await insertMessages(q, tenantId, ms);
        const items = out.flatMap((o) => (o.kind === 'inserted' ? [{ messageId: o.message.id, endpointIds: o.endpointIds }] : []));
        return enqueue(q, tenantId, items, () => newId('dlv'));
      }),
    );
    const { claimed, reservations } = await time(timings.claim, () =>
      db.system((q) => claimAndPace(q, { limit: batch, perEndpoint: batch, leaseMs: 30_000, owner: 'bench', pacing }), CLAIM_TX),
    );
    if (claimed.length !== batch) throw new Error(`claimed ${claimed.length}, expected ${batch}`);
    if (reservations.get(`tenant:${tenantId}`)?.granted !== batch) throw new Error('the tenant cap did not grant the batch');
    await time(timings.complete, () =>
      db.tenant(tenantId, (q) =>
        completeMany(
          q,
          'bench',
          claimed.map((d) => ({
            attempt: {
              id: newId('atm'),
              tenantId: d.tenantId,
              deliveryId: d.id,
              messageId: d.messageId,
              endpointId: d.endpointId,
              attempt: d.attempts + 1,
              outcome: 'succeeded' as const,
              statusCode: 204,
              error: null,
              responseBody: '',
              startedAt: new Date(),
              durationMs: 3,
            },
            next: { state: 'succeeded' as const },
          })),
        ),
      ),
    );
  }
  const seconds = (performance.now() - measuredFrom) / 1000;
  const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  process.stdout.write(`hot path on ${args.engine}: ${rounds} rounds of ${batch} deliveries (after ${warmup} warm-up rounds)\n`);
  for (const [name, xs] of Object.entries(timings)) {
    process.stdout.write(
      `  ${name.padEnd(8)} mean ${mean(xs).toFixed(2)} ms  p50 ${pct(xs, 0.5).toFixed(2)} ms  p95 ${pct(xs, 0.95).toFixed(2)} ms\n`,
    );
  }
  process.stdout.write(`  ${(rounds / seconds).toFixed(1)} rounds/s = ${((rounds * batch) / seconds).toFixed(0)} deliveries/s\n`);
} finally {
  await drop();
}
