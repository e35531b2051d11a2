import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/store/deliveries.ts';
import { insertConsumer } from '../../src/store/consumers.ts';
import { insertEndpoint } from '../../src/store/endpoints.ts';
import { newId } from '../../src/store/ids.ts';
import { insertMessages } from '../../src/store/messages.ts';
import { CLAIM_TX, claimAndPace, completeMany } from '../../src/store/queue.ts';
import { insertTenant } from '../../src/store/tenants.ts';
import { intervalMs, PACE_HORIZON_MS, paceRule, toleranceMs } from '../../src/domain/pacing.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

/**
 * Messages, deliveries and attempts no longer reference `tenants` directly (migration 0014: that key
 * share-locked the tenant's one row on every insert). Removing a tenant must still remove every row it
 * owns, through its consumers and endpoints, and nothing of another tenant.
 */
describe('removing a tenant', () => {
  let t: TestDb;
  const cap = paceRule(1_000_000);
  const pacing = { tenant: { intervalMs: intervalMs(cap), toleranceMs: toleranceMs(cap) }, horizonMs: PACE_HORIZON_MS };

  /** A tenant with one consumer, one endpoint and one message delivered once: a row in each table. */
  const seed = async (name: string): Promise<string> => {
    const tenantId = newId('ten');
    await t.db.system((q) => insertTenant(q, { id: tenantId, name }));
    const consumerId = (await t.db.tenant(tenantId, (q) =>
      insertConsumer(q, { id: newId('con'), tenantId, uid: null, name: 'c', metadata: {} }),
    ))!.id;
    await t.db.tenant(tenantId, (q) =>
      insertEndpoint(q, {
        id: newId('ep'),
        tenantId,
        consumerId,
        url: 'http://127.0.0.1:9/hook',
        description: '',
        eventTypes: null,
        channels: null,
        headers: {},
        rateLimitPerSecond: null,
        disabled: false,
        secret: 'sealed-secret',
      }),
    );
    await t.db.tenant(tenantId, async (q) => {
      const out = await insertMessages(q, tenantId, [
        { id: newId('msg'), consumerRef: consumerId, eventType: 'a', eventId: 'e1', payload: '{}', channels: null, traceparent: null },
      ]);
      const items = out.flatMap((o) => (o.kind === 'inserted' ? [{ messageId: o.message.id, endpointIds: o.endpointIds }] : []));
      return enqueue(q, tenantId, items, () => newId('dlv'));
    });
    const { claimed } = await t.db.system(
      (q) => claimAndPace(q, { limit: 10, perEndpoint: 10, leaseMs: 30_000, owner: 'test', pacing }),
      CLAIM_TX,
    );
    const mine = claimed.filter((d) => d.tenantId === tenantId);
    expect(mine).toHaveLength(1);
    await t.db.tenant(tenantId, (q) =>
      completeMany(
        q,
        'test',
        mine.map((d) => ({
          attempt: {
            id: newId('atm'),
            tenantId,
            deliveryId: d.id,
            messageId: d.messageId,
            endpointId: d.endpointId,
            attempt: 1,
            outcome: 'succeeded' as const,
            statusCode: 204,
            error: null,
            responseBody: '',
            startedAt: new Date(),
            durationMs: 1,
          },
          next: { state: 'succeeded' as const },
        })),
      ),
    );
    return tenantId;
  };

  /** Rows of the tenant in each table that holds its events. */
  const rowsOf = (tenantId: string) =>
    t.db.owner(async (q) => {
      const counts: Record<string, number> = {};
      for (const table of ['consumers', 'endpoints', 'messages', 'deliveries', 'attempts']) {
        const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenantId]);
        counts[table] = r.rows[0]!.n;
      }
      return counts;
    });

  beforeAll(async () => {
    t = await openTestDb();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('removes its consumers, endpoints, messages, deliveries and attempts, and only its own', async () => {
    const gone = await seed('gone');
    const kept = await seed('kept');
    const one = { consumers: 1, endpoints: 1, messages: 1, deliveries: 1, attempts: 1 };
    expect(await rowsOf(gone)).toEqual(one);

    await t.db.owner((q) => q.query('DELETE FROM tenants WHERE id = $1', [gone]));

    expect(await rowsOf(gone)).toEqual({ consumers: 0, endpoints: 0, messages: 0, deliveries: 0, attempts: 0 });
    expect(await rowsOf(kept)).toEqual(one);
  });
});
