/**
 * Rows removed per second by the retention cleanup (runRetention, as the scheduler runs it): `--messages`
 * messages, each with one succeeded delivery and `--attempts` attempts, all out of the window; one in ten
 * messages has a delivery still pending and must stay. Prints the rows removed (messages + deliveries +
 * attempts) per second and checks that exactly the expected rows are left.
 *
 *   npx tsx bench/retention.ts [--engine postgres|pglite] [--messages 20000] [--attempts 2] [--batch 1000]
 *
 * Postgres: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) is the admin connection; a fresh
 * database is created for the run and dropped afterwards. PGlite: in memory.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { runRetention } from '../src/scheduler/retention.ts';
import { openScratchDb } from './lib/scratch-db.ts';
import { newId } from '../src/store/ids.ts';
import { migrate } from '../src/store/migrate.ts';
import { insertTenant } from '../src/store/tenants.ts';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string', default: 'postgres' },
    messages: { type: 'string', default: '20000' },
    attempts: { type: 'string', default: '2' },
    batch: { type: 'string', default: '1000' },
  },
});
const messages = Number(args.messages);
const attemptsPer = Number(args.attempts);

const { db, drop } = await openScratchDb(args.engine!, 'retention');
try {
  await migrate(db);
  const tenantId = newId('ten');
  await db.system((q) => insertTenant(q, { id: tenantId, name: 'bench' }));
  // Ids made now (they sort by time): the run's clock is moved 31 days ahead instead.
  const ids = Array.from({ length: messages }, () => newId('msg'));
  const dlv = Array.from({ length: messages }, () => newId('dlv'));
  await db.owner(async (q) => {
    await q.query(`INSERT INTO consumers (id, tenant_id, name) VALUES ('con_bench', $1, 'c')`, [tenantId]);
    await q.query(
      `INSERT INTO endpoints (id, tenant_id, consumer_id, url, secret) VALUES ('ep_bench', $1, 'con_bench', 'http://127.0.0.1:9/', 's')`,
      [tenantId],
    );
    await q.query(
      `INSERT INTO messages (id, tenant_id, consumer_id, event_type, event_id, payload)
       SELECT id, $1, 'con_bench', 'invoice.paid', id, '{"amount":4200,"text":"${'x'.repeat(200)}"}' FROM unnest($2::text[]) AS id`,
      [tenantId, ids],
    );
    await q.query(
      `INSERT INTO deliveries (id, tenant_id, message_id, endpoint_id, state, attempts)
       SELECT d, $1, m, 'ep_bench', CASE WHEN k % 10 = 0 THEN 'pending' ELSE 'succeeded' END, $4
       FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(m, d, k)`,
      [tenantId, ids, dlv, attemptsPer],
    );
    await q.query(
      `INSERT INTO attempts (id, tenant_id, delivery_id, message_id, endpoint_id, attempt, outcome, status_code, started_at, duration_ms)
       SELECT 'atm_' || d || '_' || a, $1, d, m, 'ep_bench', a, 'succeeded', 200, now(), 5
       FROM unnest($2::text[], $3::text[]) AS u(m, d), generate_series(1, $4) AS a`,
      [tenantId, ids, dlv, attemptsPer],
    );
  });
  const t0 = performance.now();
  const r = await runRetention({ db, defaultDays: 30, batch: Number(args.batch) }, new Date(Date.now() + 31 * 24 * 3600 * 1000));
  const s = (performance.now() - t0) / 1000;
  const rows = r.messages + r.deliveries + r.attempts;
  const left = await db.owner(async (q) => (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0]!.n);
  const pending = messages - Math.floor(messages * 0.9);
  console.log(
    `retention on ${args.engine}: ${messages} messages (${attemptsPer} attempts each), batches of ${args.batch}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`  removed ${r.messages} messages, ${r.deliveries} deliveries, ${r.attempts} attempts in ${s.toFixed(2)} s`);
  console.log(
    `  ${Math.round(rows / s)} rows/s (${Math.round(r.messages / s)} messages/s); ${left} messages left with a pending delivery (expected ${pending})`,
  );
  if (left !== pending) process.exitCode = 1;
} finally {
  await drop();
}
