import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/store/deliveries.ts';
import { insertConsumer } from '../../src/store/consumers.ts';
import { insertEndpoint } from '../../src/store/endpoints.ts';
import { newId } from '../../src/store/ids.ts';
import { insertMessages } from '../../src/store/messages.ts';
import { CLAIM_SCAN_ROWS, CLAIM_TX, claimAndPace } from '../../src/store/queue.ts';
import { insertTenant } from '../../src/store/tenants.ts';
import { type Queryable, sqlLiteral } from '../../src/store/db.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

/**
 * One endpoint at its window with a backlog longer than a claim's scan must not hide anyone else's due
 * deliveries (issue 12). Before the bounded scan, every claim read the busy endpoint's whole backlog to
 * skip it: 1–2 s per claim with 17,000 due, and the whole fleet delivered ~10/s.
 */
const WINDOW = 4;
const BACKLOG = CLAIM_SCAN_ROWS + 500;
const SURGE = 5_000;

interface PlanNode {
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

/** Rows a plan read from a table, over all its loops. */
const rowsOf = (n: PlanNode, table: string): number =>
  (n['Relation Name'] === table ? n['Actual Rows'] * n['Actual Loops'] : 0) + (n.Plans ?? []).reduce((sum, c) => sum + rowsOf(c, table), 0);

/** Thrown to end a transaction without keeping what it did. */
class Rollback extends Error {}

describe('a claim behind one endpoint’s long backlog', () => {
  let t: TestDb;
  let tenantId: string;
  let consumerId: string;
  const endpoint: Record<'busy' | 'quiet' | 'other', string> = { busy: '', quiet: '', other: '' };

  beforeAll(async () => {
    t = await openTestDb();
    tenantId = newId('ten');
    await t.db.system((q) => insertTenant(q, { id: tenantId, name: 'backlog' }));
    consumerId = (await t.db.tenant(tenantId, (q) =>
      insertConsumer(q, { id: newId('con'), tenantId, uid: null, name: 'c', metadata: {} }),
    ))!.id;
    for (const name of ['busy', 'quiet', 'other'] as const) {
      const id = newId('ep');
      await t.db.tenant(tenantId, (q) =>
        insertEndpoint(q, {
          id,
          tenantId,
          consumerId,
          url: `http://127.0.0.1:9/${name}`,
          description: '',
          eventTypes: [name],
          channels: null,
          headers: {},
          rateLimitPerSecond: null,
          disabled: false,
          secret: 'sealed-secret',
        }),
      );
      endpoint[name] = id;
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  /** n messages of this event type (one delivery each), published in q's transaction. */
  async function enqueueIn(q: Queryable, eventType: 'busy' | 'quiet' | 'other', n: number): Promise<void> {
    for (let from = 0; from < n; from += 500) {
      const batch = Array.from({ length: Math.min(500, n - from) }, (_, i) => ({
        id: newId('msg'),
        consumerRef: consumerId,
        eventType,
        eventId: `${eventType}-${from + i}-${Math.random()}`,
        payload: JSON.stringify({ i: from + i }),
        channels: null,
        traceparent: null,
      }));
      const out = await insertMessages(q, tenantId, batch);
      const items = out.flatMap((o) => (o.kind === 'inserted' ? [{ messageId: o.message.id, endpointIds: o.endpointIds }] : []));
      await enqueue(q, tenantId, items, () => newId('dlv'));
    }
  }
  const publish = (eventType: 'busy' | 'quiet' | 'other', n: number): Promise<void> =>
    t.db.tenant(tenantId, (q) => enqueueIn(q, eventType, n));

  const claim = (headCursor = '', skipTenants: string[] = [], tenantRoom = new Map<string, number>()) =>
    t.db.system(
      (q) =>
        claimAndPace(q, {
          limit: 50,
          perEndpoint: WINDOW,
          leaseMs: 60_000,
          owner: 'test',
          pacing: null,
          headCursor,
          skipTenants,
          tenantRoom,
        }),
      CLAIM_TX,
    );

  it('reads only its candidates on a plan made while the queue was empty (the worker’s cached plan)', async () => {
    // The worker's claim is a named statement: after a few runs Postgres keeps one generic plan for the
    // connection, made from the table sizes of then, the gateway's first seconds. That plan once joined
    // the candidates to deliveries by walking every pending row and, for each, all the candidates: 1.2 s
    // per claim with 8,900 pending, growing with the backlog, and delivery all but stopped (issue 12).
    let text = '';
    let params: unknown[] = [];
    const capture = {
      query: async (sql: string, p?: unknown[]) => {
        text = sql;
        params = p ?? [];
        return { rows: [], rowCount: 0 };
      },
    } as unknown as Queryable;
    await claimAndPace(capture, { limit: 50, perEndpoint: WINDOW, leaseMs: 60_000, owner: 'test', pacing: null });
    // EXECUTE takes no bind parameters: the values go in as literals (as PGlite runs named queries).
    const args = params.map(sqlLiteral).join(', ');
    let plan: PlanNode | undefined;
    await t.db
      .system(
        async (q) => {
          await q.query('SET LOCAL plan_cache_mode = force_generic_plan');
          await q.query(`PREPARE claim_on_an_empty_queue AS ${text}`);
          expect((await q.query(`EXECUTE claim_on_an_empty_queue(${args})`)).rows).toHaveLength(1); // planned now
          await enqueueIn(q, 'other', SURGE);
          const r = await q.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
            `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE claim_on_an_empty_queue(${args})`,
          );
          plan = r.rows[0]!['QUERY PLAN'][0]!.Plan;
          throw new Rollback();
          // The claim's planner settings, without its one-statement commit: this transaction runs several.
        },
        { noSort: CLAIM_TX.noSort },
      )
      .catch((err: unknown) => {
        if (!(err instanceof Rollback)) throw err;
      });
    const read = rowsOf(plan!, 'deliveries');
    // The bounded scan and a key lookup per candidate, not the surge.
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(CLAIM_SCAN_ROWS + 500);
    expect(SURGE).toBeGreaterThan(3 * (CLAIM_SCAN_ROWS + 500));
  });

  it('claims the quiet endpoint’s delivery queued behind the busy one’s backlog, and says where it looked', async () => {
    await publish('busy', BACKLOG);
    const first = await claim();
    expect(first.claimed.map((d) => d.endpointId)).toEqual(Array(WINDOW).fill(endpoint.busy));
    // The scan was not cut short by anything held back: no endpoint-by-endpoint look, the cursor is kept.
    expect(first.headCursor).toBeNull();

    // The busy endpoint is at its window; a delivery to the quiet one comes due after its whole backlog.
    await publish('quiet', 1);
    const second = await claim();
    expect(second.claimed.map((d) => d.endpointId)).toEqual([endpoint.quiet]);
    // Both endpoints visited, fewer than the bound: the next look starts from the beginning again.
    expect(second.headCursor).toBe('');

    // Nothing more is due outside the busy endpoint's window: an empty claim, which still reports.
    const third = await claim();
    expect(third.claimed).toEqual([]);
    expect(third.headCursor).toBe('');
  });

  it('starts its endpoint-by-endpoint look after the cursor', async () => {
    await publish('quiet', 1);
    // A cursor past the quiet endpoint's id (endpoint ids sort by creation: quiet after busy) finds nothing.
    const past = await claim(`${endpoint.quiet}~`);
    expect(past.claimed).toEqual([]);
    const from = await claim(endpoint.busy);
    expect(from.claimed.map((d) => d.endpointId)).toEqual([endpoint.quiet]);
  });

  it('skips a tenant at its share in the endpoint-by-endpoint look as well', async () => {
    await publish('quiet', 1);
    const skipped = await claim('', [tenantId]);
    expect(skipped.claimed).toEqual([]);
    expect(skipped.headCursor).toBe(''); // it did look, and found nothing of anyone else
    expect((await claim()).claimed.map((d) => d.endpointId)).toEqual([endpoint.quiet]);
  });

  it('takes no more of a tenant than the room its fair share leaves (nothing claimed only to be handed back)', async () => {
    await publish('other', 6);
    const some = await claim('', [], new Map([[tenantId, 2]]));
    expect(some.claimed.map((d) => d.endpointId)).toEqual([endpoint.other, endpoint.other]);
    // Without a bound on the tenant, the endpoint's window (4) is what stops the claim.
    expect((await claim()).claimed.map((d) => d.endpointId)).toEqual([endpoint.other, endpoint.other]);
  });
});
