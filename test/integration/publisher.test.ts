/**
 * Group commit at publish: concurrent publishes share transactions, and each still gets its own
 * answer — an unknown consumer, a repeated eventId (within one batch or across batches) and a row
 * the database refuses affect only that publish, never its neighbours. The workers are woken once the
 * deliveries are committed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { DELIVERY_CHANNEL } from '../../src/store/deliveries.ts';
import { createPublisher, type PublishResult } from '../../src/domain/publisher.ts';
import { AppError } from '../../src/errors.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

let testDb: TestDb;
let transactions = 0;
/** The real database, counting the tenant transactions the publisher opens. */
let counted: Db;

const TENANT = 'ten_publisher_test';
const CONSUMER = 'con_publisher_test';

beforeAll(async () => {
  testDb = await openTestDb();
  const db = testDb.db;
  counted = { ...db, kind: db.kind, tenant: (t, fn) => (transactions++, db.tenant(t, fn)) } as Db;
  await db.owner(async (q) => {
    await q.query(`INSERT INTO tenants (id, name) VALUES ($1, 'publisher')`, [TENANT]);
    await q.query(`INSERT INTO consumers (id, tenant_id, uid, name) VALUES ($1, $2, 'acme', 'Acme')`, [CONSUMER, TENANT]);
    for (const [id, types, channels] of [
      ['ep_all', null, null],
      ['ep_paid', ['invoice.paid'], null],
      ['ep_eu', null, ['eu']],
    ] as const) {
      await q.query(
        `INSERT INTO endpoints (id, tenant_id, consumer_id, url, event_types, channels, secret) VALUES ($1, $2, $3, 'http://127.0.0.1:9/', $4, $5, 'sealed')`,
        [id, TENANT, CONSUMER, types, channels],
      );
    }
  });
});

afterAll(async () => {
  await testDb?.close();
});

const deliveriesOf = (messageId: string): Promise<string[]> =>
  testDb.db.owner(async (q) =>
    (
      await q.query<{ endpoint_id: string }>(`SELECT endpoint_id FROM deliveries WHERE message_id = $1 ORDER BY endpoint_id`, [messageId])
    ).rows.map((r) => r.endpoint_id),
  );

describe('publisher (group commit)', () => {
  it('commits 300 concurrent publishes in far fewer transactions, each answered on its own', async () => {
    const publisher = createPublisher(counted);
    transactions = 0;
    const N = 300;
    const settled = await Promise.allSettled(
      Array.from({ length: N }, (_, i) => {
        // Every 10th names a consumer that does not exist; every 7th repeats the eventId of the one before it.
        const consumer = i % 10 === 9 ? 'con_missing' : i % 2 ? 'acme' : CONSUMER;
        const eventId = i % 7 === 6 ? `evt_${i - 1}` : `evt_${i}`;
        return publisher.publish(TENANT, consumer, {
          eventType: i % 3 === 0 ? 'invoice.paid' : 'invoice.void',
          payload: JSON.stringify({ i }),
          eventId,
          channels: i % 4 === 0 ? ['eu'] : undefined,
        });
      }),
    );
    expect(transactions).toBeGreaterThan(0);
    expect(transactions).toBeLessThan(N / 4);

    const created = new Map<string, PublishResult & { index: number }>();
    for (const [i, s] of settled.entries()) {
      if (i % 10 === 9) {
        expect(s.status).toBe('rejected');
        expect((s as PromiseRejectedResult).reason).toBeInstanceOf(AppError);
        expect(((s as PromiseRejectedResult).reason as AppError).code).toBe('NOT_FOUND');
        continue;
      }
      expect(s.status).toBe('fulfilled');
      const r = (s as PromiseFulfilledResult<PublishResult>).value;
      if (r.created) created.set(r.message.eventId, { ...r, index: i });
    }
    // A repeat answers with the original message, whichever batch the original went in; which of the
    // two concurrent publishes of one eventId became the original is a race, but exactly one did.
    for (const [i, s] of settled.entries()) {
      if (i % 10 === 9 || i % 7 !== 6 || (i - 1) % 10 === 9) continue;
      const repeat = (s as PromiseFulfilledResult<PublishResult>).value;
      const first = (settled[i - 1] as PromiseFulfilledResult<PublishResult>).value;
      expect([first.created, repeat.created].filter(Boolean)).toHaveLength(1);
      expect(repeat.message.id).toBe(first.message.id);
      expect(repeat.message.id).toBe(created.get(`evt_${i - 1}`)!.message.id);
    }
    const stored = await testDb.db.owner(
      async (q) => (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE tenant_id = $1`, [TENANT])).rows[0]!.n,
    );
    expect(stored).toBe(created.size);

    // Filters applied per message: type, channel, or neither.
    for (const r of [...created.values()].slice(0, 40)) {
      const i = r.index;
      const expected = ['ep_all', ...(i % 4 === 0 ? ['ep_eu'] : []), ...(i % 3 === 0 ? ['ep_paid'] : [])].sort();
      expect(await deliveriesOf(r.message.id)).toEqual(expected);
      expect(r.deliveries).toBe(expected.length);
    }
  });

  it('a row the database refuses fails alone; the rest of its batch commits', async () => {
    const publisher = createPublisher(counted);
    // A NUL character never reaches here through the API (refused with 400); the database refuses it too.
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        publisher.publish(TENANT, CONSUMER, {
          eventType: 'invoice.void',
          payload: i === 17 ? '{"x":"\u0000"}' : `{"n":${i}}`,
          eventId: `bad_batch_${i}`,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results[17]!.status).toBe('rejected');
    const ids = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.message.id] : []));
    expect(ids).toHaveLength(39);
    for (const id of ids.slice(0, 5)) expect(await deliveriesOf(id)).toEqual(['ep_all']);
  });

  it('wakes the workers once the deliveries are committed, one wake-up per commit', async () => {
    const publisher = createPublisher(counted);
    const seenAtWake: number[] = [];
    const visible = (): Promise<number> =>
      testDb.db.owner(
        async (q) =>
          (
            await q.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.event_id LIKE 'wake_%'`,
            )
          ).rows[0]!.n,
      );
    const unlisten = await testDb.db.listen(DELIVERY_CHANNEL, () => {
      void visible().then((n) => seenAtWake.push(n));
    });
    try {
      transactions = 0;
      const published = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          publisher.publish(TENANT, CONSUMER, { eventType: 'invoice.void', payload: '{}', eventId: `wake_${i}` }),
        ),
      );
      expect(published.every((r) => r.deliveries === 1)).toBe(true);
      await vi.waitFor(() => expect(seenAtWake.length).toBeGreaterThan(0), { timeout: 5_000 });
      // What a woken worker looks for is already there: the wake-up follows the commit.
      expect(seenAtWake[0]).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200));
      // One per commit, not per publish: a burst shares its transactions' wake-ups.
      expect(seenAtWake.length).toBeLessThanOrEqual(transactions);
      expect(Math.max(...seenAtWake)).toBe(50);
    } finally {
      await unlisten();
    }
  });
});
