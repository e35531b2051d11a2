/**
 * Pool leak: one database connection, thousands of interleaved transactions of two tenants,
 * errors injected mid-transaction, and not one foreign row.
 *
 * The Db is opened on ONE connection (PGlite is one connection by nature; on Postgres a pool of
 * size 1 over a fresh database), so every transaction reuses the session the previous one left
 * behind, whether it committed or failed half-way. Then a seeded random sequence of
 * `db.tenant(A|B, …)` transactions runs, issued concurrently so that they queue on the one
 * connection and interleave in random order; a fraction throws after a query: a JS exception,
 * a division by zero, a unique violation, a write into the other tenant (refused by the policy),
 * or a query in the already-aborted transaction. `db.system` and `db.owner` transactions are
 * mixed in to look for what a previous transaction might have left on the session.
 *
 * Asserted:
 *  - every successful read saw only its own tenant's rows, and all of them (0 foreign rows, 0 missing);
 *  - inside a tenant transaction the role is tramline_app and the setting is that tenant;
 *  - outside one, the setting is empty (`db.system` and `db.owner` see '' or NULL) and the user
 *    is not tramline_app;
 *  - each injected error surfaces to the caller with its own SQLSTATE, every non-injected
 *    transaction succeeds (including each one that ran right after a failure), and on Postgres only
 *    one transaction body ever runs at a time (one connection, one backend pid; the embedded database's
 *    thread starts bodies at once and serialises their statements itself);
 *  - afterwards, the rows written are exactly those of the committed transactions, each under
 *    the tenant of the transaction that wrote it; nothing from a rolled-back one survived.
 *
 * The operation sequence comes from fast-check with a seed (env FUZZ_SEED to replay one).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE, openPostgres, type Db, type Queryable } from '../../src/store/db.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

const TRANSACTIONS = 3_000;
/** How many callers wait on the one connection at a time: enough to interleave, bounded memory. */
const IN_FLIGHT = 16;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Math.random() * 2 ** 31) | 0;

let testDb: TestDb;
let db: Db;
let ownDb: Db | undefined;

interface TenantSeed {
  id: string;
  consumers: string[];
  messages: string[];
}
let A: TenantSeed;
let B: TenantSeed;

const rid = (prefix: string): string => `${prefix}_${randomBytes(8).toString('hex')}`;

beforeAll(async () => {
  testDb = await openTestDb();
  if (testDb.engine === 'postgres') {
    ownDb = openPostgres(testDb.url!, 1);
    db = ownDb;
  } else {
    db = testDb.db; // PGlite: one connection by nature
  }
  const seedTenant = async (name: string, consumers: number, messagesPerConsumer: number): Promise<TenantSeed> => {
    const t: TenantSeed = { id: rid('ten'), consumers: [], messages: [] };
    await db.system(async (q) => {
      await q.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [t.id, name]);
      for (let c = 0; c < consumers; c++) {
        const cid = rid('con');
        t.consumers.push(cid);
        await q.query('INSERT INTO consumers (id, tenant_id, uid, name) VALUES ($1, $2, $3, $4)', [
          cid,
          t.id,
          `${name}-${c}`,
          `${name} consumer ${c}`,
        ]);
        for (let m = 0; m < messagesPerConsumer; m++) {
          const mid = rid('msg');
          t.messages.push(mid);
          await q.query(
            'INSERT INTO messages (id, tenant_id, consumer_id, event_type, event_id, payload) VALUES ($1, $2, $3, $4, $5, $6)',
            [mid, t.id, cid, 'seed.event', mid, JSON.stringify({ tenant: name, c, m })],
          );
        }
      }
    });
    return t;
  };
  // Different sizes, so a read that saw the other tenant's rows would not even have the right count.
  A = await seedTenant('A', 3, 4);
  B = await seedTenant('B', 5, 3);
});

afterAll(async () => {
  await ownDb?.close();
  await testDb?.close();
});

type ErrorKind = 'js-throw' | 'division-by-zero' | 'unique-violation' | 'foreign-write' | 'aborted-tx';
// `named`: the transaction's queries are named (prepared) statements, which a Postgres server sends with BEGIN in
// one round trip; `one`: a one-statement transaction, BEGIN, the statement and COMMIT in one round trip.
type Op =
  | { kind: 'read'; tenant: 'A' | 'B'; named: boolean }
  | { kind: 'write'; tenant: 'A' | 'B'; named: boolean }
  | { kind: 'fail'; tenant: 'A' | 'B'; error: ErrorKind; writeFirst: boolean; named: boolean }
  | { kind: 'one'; tenant: 'A' | 'B'; fails: boolean }
  | { kind: 'system' }
  | { kind: 'owner' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 40,
    arbitrary: fc.record({ kind: fc.constant('read' as const), tenant: fc.constantFrom('A' as const, 'B' as const), named: fc.boolean() }),
  },
  {
    weight: 20,
    arbitrary: fc.record({ kind: fc.constant('write' as const), tenant: fc.constantFrom('A' as const, 'B' as const), named: fc.boolean() }),
  },
  {
    weight: 10,
    arbitrary: fc.record({ kind: fc.constant('one' as const), tenant: fc.constantFrom('A' as const, 'B' as const), fails: fc.boolean() }),
  },
  {
    weight: 30,
    arbitrary: fc.record({
      kind: fc.constant('fail' as const),
      tenant: fc.constantFrom('A' as const, 'B' as const),
      error: fc.constantFrom<ErrorKind>('js-throw', 'division-by-zero', 'unique-violation', 'foreign-write', 'aborted-tx'),
      writeFirst: fc.boolean(),
      named: fc.boolean(),
    }),
  },
  { weight: 6, arbitrary: fc.constant({ kind: 'system' as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'owner' as const }) },
);

class Injected extends Error {}

/** What one transaction saw: the tenant ids of every row it read, table by table. */
interface Seen {
  setting: string | null;
  user: string;
  pid: number;
  consumers: string[];
  messages: string[];
  tenants: string[];
}

async function look(q: Queryable, named = false): Promise<Seen> {
  const s = await q.query<{ setting: string | null; usr: string; pid: number }>(
    `SELECT current_setting('tramline.tenant_id', true) AS setting, current_user::text AS usr, pg_backend_pid() AS pid`,
    [],
    named ? 'pool_leak_look' : undefined,
  );
  // No WHERE clause on purpose: only row-level security stands between this query and the other tenant.
  const c = await q.query<{ tenant_id: string }>('SELECT tenant_id FROM consumers');
  const m = await q.query<{ tenant_id: string }>('SELECT tenant_id FROM messages');
  const t = await q.query<{ id: string }>('SELECT id FROM tenants');
  return {
    setting: s.rows[0]!.setting,
    user: s.rows[0]!.usr,
    pid: Number(s.rows[0]!.pid),
    consumers: c.rows.map((r) => r.tenant_id),
    messages: m.rows.map((r) => r.tenant_id),
    tenants: t.rows.map((r) => r.id),
  };
}

describe('pool leak: one connection, two tenants, errors mid-transaction', () => {
  it(`${TRANSACTIONS} interleaved transactions: 0 foreign rows, no setting or role carried over, every error contained`, {
    timeout: 120_000,
  }, async () => {
    const ops = fc.sample(opArb, { numRuns: TRANSACTIONS, seed: SEED });
    const seeds = { A: () => A, B: () => B };
    const other = (t: 'A' | 'B'): TenantSeed => (t === 'A' ? B : A);

    const figures = {
      transactions: 0,
      tenantTx: 0,
      systemTx: 0,
      ownerTx: 0,
      injected: 0,
      injectedByKind: {} as Record<string, number>,
      rowsRead: 0,
      foreignRows: 0,
      missingRows: 0,
      afterError: 0,
      afterErrorFailed: 0,
      unexpectedErrors: [] as string[],
      leaks: [] as string[],
      wrongSqlstate: [] as string[],
    };
    const pids = new Set<number>();
    /** Rows written by transactions, and whether each committed. */
    const written = new Map<string, { tenant: string; committed: boolean }>();
    let bodiesRunning = 0;
    let maxBodiesRunning = 0;
    /** Whether the transaction body that ran last (on the one connection) ended in an injected failure. */
    let previousFailed = false;

    const enter = (): boolean => {
      bodiesRunning++;
      maxBodiesRunning = Math.max(maxBodiesRunning, bodiesRunning);
      figures.transactions++;
      const followsError = previousFailed;
      if (followsError) figures.afterError++;
      return followsError;
    };
    const leave = (failed: boolean): void => {
      bodiesRunning--;
      previousFailed = failed;
    };

    const checkOwn = (i: number, tenant: TenantSeed, seen: Seen): void => {
      pids.add(seen.pid);
      if (seen.setting !== tenant.id) figures.leaks.push(`#${i}: tenant tx of ${tenant.id} had setting ${seen.setting}`);
      if (seen.user !== APP_ROLE) figures.leaks.push(`#${i}: tenant tx ran as ${seen.user}`);
      const rows = [...seen.consumers, ...seen.messages, ...seen.tenants];
      figures.rowsRead += rows.length;
      figures.foreignRows += rows.filter((id) => id !== tenant.id).length;
      const own = (xs: string[]) => xs.filter((id) => id === tenant.id).length;
      figures.missingRows +=
        Math.max(0, tenant.consumers.length - own(seen.consumers)) +
        Math.max(0, tenant.messages.length - own(seen.messages)) +
        Math.max(0, 1 - own(seen.tenants));
    };

    const run = async (op: Op, i: number): Promise<void> => {
      if (op.kind === 'system' || op.kind === 'owner') {
        const which = op.kind;
        let followsError = false;
        try {
          const s = await (which === 'system' ? db.system : db.owner)(async (q) => {
            followsError = enter();
            try {
              return (
                await q.query<{ setting: string | null; usr: string; pid: number }>(
                  `SELECT current_setting('tramline.tenant_id', true) AS setting, current_user::text AS usr, pg_backend_pid() AS pid`,
                )
              ).rows[0]!;
            } finally {
              leave(false);
            }
          });
          pids.add(Number(s.pid));
          if (which === 'system') figures.systemTx++;
          else figures.ownerTx++;
          // A custom setting that was set locally reads back as '' once its transaction is over.
          if (s.setting !== null && s.setting !== '')
            figures.leaks.push(`#${i}: ${which} tx started with tramline.tenant_id = ${s.setting}`);
          if (s.usr === APP_ROLE) figures.leaks.push(`#${i}: ${which} tx ran as ${s.usr}`);
        } catch (err) {
          figures.unexpectedErrors.push(`#${i} ${which}${followsError ? ' (after an error)' : ''}: ${String(err)}`);
          if (followsError) figures.afterErrorFailed++;
        }
        return;
      }

      if (op.kind === 'one') {
        const tenant = seeds[op.tenant]();
        const row = `op-${i}`;
        let followsError = false;
        try {
          const got = await db.tenant(
            tenant.id,
            async (q) => {
              followsError = enter();
              try {
                if (op.fails) {
                  await q.query('SELECT 1 / (count(*) - count(*)) FROM consumers', [], 'pool_leak_one_divide');
                  throw new Error(`tx ${i}: the one-statement division by zero did not fail`);
                }
                written.set(row, { tenant: tenant.id, committed: false });
                const r = await q.query<{ tenant_id: string; usr: string; pid: number }>(
                  `INSERT INTO event_types (tenant_id, name, description) VALUES (current_setting('tramline.tenant_id', true), $1, $2)
                   RETURNING tenant_id, current_user::text AS usr, pg_backend_pid() AS pid`,
                  [row, `tx ${i}`],
                  'pool_leak_one_write',
                );
                return r.rows[0]!;
              } finally {
                leave(op.fails);
              }
            },
            { oneStatement: true },
          );
          figures.tenantTx++;
          pids.add(Number(got.pid));
          if (got.tenant_id !== tenant.id || got.usr !== APP_ROLE)
            figures.leaks.push(`#${i}: one-statement tx of ${tenant.id} wrote as ${got.usr} under ${got.tenant_id}`);
          written.get(row)!.committed = true;
        } catch (err) {
          if (op.fails && (err as { code?: string }).code === '22012') {
            figures.tenantTx++;
            figures.injected++;
            figures.injectedByKind['one-statement'] = (figures.injectedByKind['one-statement'] ?? 0) + 1;
            return;
          }
          figures.unexpectedErrors.push(`#${i} one${followsError ? ' (after an error)' : ''}: ${String(err)}`);
          if (followsError) figures.afterErrorFailed++;
        }
        return;
      }

      const tenant = seeds[op.tenant]();
      const row = `op-${i}`;
      let followsError = false;
      let expected: { sqlstate?: string; injected?: true } | null = null;
      try {
        const seen = await db.tenant(tenant.id, async (q) => {
          followsError = enter();
          let failed = false;
          try {
            const write = async (): Promise<void> => {
              // The tenant comes from the session setting, not from the caller: a leaked setting would mis-file the row.
              await q.query(
                `INSERT INTO event_types (tenant_id, name, description) VALUES (current_setting('tramline.tenant_id', true), $1, $2)`,
                [row, `tx ${i}`],
                op.named ? 'pool_leak_write' : undefined,
              );
              written.set(row, { tenant: tenant.id, committed: false });
            };
            if (op.kind === 'write' || (op.kind === 'fail' && op.writeFirst)) await write();
            const seen = await look(q, op.named);
            if (op.kind === 'write') {
              const back = await q.query<{ tenant_id: string }>('SELECT tenant_id FROM event_types WHERE name = $1', [row]);
              if (back.rows.length !== 1 || back.rows[0]!.tenant_id !== tenant.id)
                figures.leaks.push(`#${i}: own write read back as ${JSON.stringify(back.rows)}`);
            }
            if (op.kind === 'fail') {
              failed = true;
              checkOwn(i, tenant, seen); // what it read before failing must be clean too
              switch (op.error) {
                case 'js-throw':
                  expected = { injected: true };
                  throw new Injected(`injected after a query in tx ${i}`);
                case 'division-by-zero':
                  expected = { sqlstate: '22012' };
                  await q.query('SELECT 1 / (count(*) - count(*)) FROM consumers', [], op.named ? 'pool_leak_divide' : undefined);
                  break;
                case 'unique-violation':
                  expected = { sqlstate: '23505' };
                  await q.query(
                    `INSERT INTO consumers (id, tenant_id, name) VALUES ($1, current_setting('tramline.tenant_id', true), 'dup')`,
                    [tenant.consumers[0]],
                  );
                  break;
                case 'foreign-write':
                  // Row-level security refuses a row filed under the other tenant.
                  expected = { sqlstate: '42501' };
                  await q.query(`INSERT INTO consumers (id, tenant_id, name) VALUES ($1, $2, 'intruder')`, [
                    rid('con'),
                    other(op.tenant).id,
                  ]);
                  break;
                case 'aborted-tx':
                  // The caller swallows an SQL error and goes on in the aborted transaction.
                  expected = { sqlstate: '25P02' };
                  await q.query('SELECT 1 / 0').catch(() => {});
                  await q.query('SELECT 1');
                  break;
              }
              throw new Error(`tx ${i}: the injected ${op.error} did not fail`);
            }
            return seen;
          } finally {
            leave(failed);
          }
        });
        if (op.kind === 'fail') {
          figures.unexpectedErrors.push(`#${i}: the injected ${op.error} transaction succeeded`);
          return;
        }
        figures.tenantTx++;
        checkOwn(i, tenant, seen);
        if (op.kind === 'write') written.get(row)!.committed = true;
      } catch (err) {
        if (op.kind !== 'fail' || expected === null) {
          figures.unexpectedErrors.push(`#${i} ${op.kind}${followsError ? ' (after an error)' : ''}: ${String(err)}`);
          if (followsError) figures.afterErrorFailed++;
          return;
        }
        figures.tenantTx++;
        figures.injected++;
        figures.injectedByKind[op.error] = (figures.injectedByKind[op.error] ?? 0) + 1;
        const e = expected as { sqlstate?: string; injected?: true };
        const code = (err as { code?: string }).code;
        if (e.injected ? !(err instanceof Injected) : code !== e.sqlstate) {
          figures.wrongSqlstate.push(
            `#${i} ${op.error}: expected ${e.sqlstate ?? 'the injected exception'}, got ${code ?? ''} ${String(err)}`,
          );
        }
      }
    };

    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < ops.length) {
          const i = next++;
          await run(ops[i]!, i);
        }
      }),
    );
    const ms = Date.now() - started;

    // Afterwards, from the cross-tenant path: the rows on disk are exactly the committed writes, each under its writer's tenant.
    const onDisk = await db.system((q) =>
      q.query<{ name: string; tenant_id: string }>(`SELECT name, tenant_id FROM event_types WHERE name LIKE 'op-%'`),
    );
    const committed = [...written].filter(([, w]) => w.committed);
    const misfiled = onDisk.rows.filter((r) => written.get(r.name)?.tenant !== r.tenant_id).length;
    const survivors = onDisk.rows.filter((r) => written.get(r.name)?.committed !== true).length;
    const intruders = await db.system((q) => q.query(`SELECT id FROM consumers WHERE name IN ('dup', 'intruder')`));
    // And the one connection still works, as each tenant.
    const finalA = await db.tenant(A.id, look);
    const finalB = await db.tenant(B.id, look);
    checkOwn(-1, A, finalA);
    checkOwn(-2, B, finalB);

    console.log(
      `pool-leak (${testDb.engine}, seed ${SEED}): ${figures.transactions} transactions on 1 connection in ${ms} ms ` +
        `(${figures.tenantTx} tenant, ${figures.systemTx} system, ${figures.ownerTx} owner); ` +
        `injected errors ${figures.injected} ${JSON.stringify(figures.injectedByKind)}; ` +
        `${figures.afterError} transactions ran right after a failure, ${figures.afterErrorFailed} of them failed; ` +
        `rows read ${figures.rowsRead}, foreign rows = ${figures.foreignRows}, missing rows = ${figures.missingRows}; ` +
        `writes committed ${committed.length}, on disk ${onDisk.rows.length}, misfiled ${misfiled}, from rolled-back tx ${survivors}; ` +
        `setting/role leaks ${figures.leaks.length}; backend pids ${pids.size}; max bodies at once ${maxBodiesRunning}`,
    );

    expect(figures.unexpectedErrors).toEqual([]);
    expect(figures.wrongSqlstate).toEqual([]);
    expect(figures.leaks).toEqual([]);
    expect(figures.foreignRows).toBe(0);
    expect(figures.missingRows).toBe(0);
    expect(figures.afterErrorFailed).toBe(0);
    expect(misfiled).toBe(0);
    expect(survivors).toBe(0);
    expect(onDisk.rows.length).toBe(committed.length);
    expect(intruders.rows).toEqual([]);
    // It really was one connection, and the run really mixed what it claims to mix.
    expect(pids.size).toBe(1);
    // On a Postgres connection a body runs only once it holds the connection. The embedded database runs on its own
    // thread (store/pglite-thread.ts): there bodies start at once and their statements wait their turn in the
    // thread, so several bodies are under way while one transaction holds the database.
    if (testDb.engine === 'postgres') expect(maxBodiesRunning).toBe(1);
    else expect(maxBodiesRunning).toBeGreaterThan(1);
    expect(figures.transactions).toBe(TRANSACTIONS);
    expect(figures.injected).toBeGreaterThan(TRANSACTIONS / 5);
    expect(Object.keys(figures.injectedByKind).sort()).toEqual([
      'aborted-tx',
      'division-by-zero',
      'foreign-write',
      'js-throw',
      'one-statement',
      'unique-violation',
    ]);
    expect(figures.afterError).toBeGreaterThan(TRANSACTIONS / 10);
    expect(figures.systemTx + figures.ownerTx).toBeGreaterThan(TRANSACTIONS / 20);
    expect(figures.rowsRead).toBeGreaterThan(TRANSACTIONS * 10);
  });
});
