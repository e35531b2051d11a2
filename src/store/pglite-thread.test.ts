import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from './db.ts';
import { openPgliteThread } from './pglite-thread.ts';

// The embedded database on its own thread keeps the transaction semantics the gateway relies on.
let db: Db;

beforeAll(async () => {
  db = await openPgliteThread({ dataDir: 'memory://' });
  await db.owner(async (q) => {
    await q.exec(`CREATE ROLE tramline_app; CREATE ROLE tramline_system;
      CREATE TABLE t (id int PRIMARY KEY, v text, at timestamptz, doc jsonb, n bigint, raw bytea);
      GRANT ALL ON t TO tramline_app, tramline_system`);
  });
}, 60_000);

afterAll(async () => {
  await db.close();
});

const ids = async (): Promise<number[]> =>
  (await db.owner((q) => q.query<{ id: number }>('SELECT id FROM t ORDER BY id'))).rows.map((r) => r.id);

describe('the embedded database on its own thread', () => {
  it('commits a transaction whole, and rolls all of it back on a failure, with the error code intact', async () => {
    await db.system(async (q) => {
      await q.query('INSERT INTO t (id) VALUES (1)');
      await q.query('INSERT INTO t (id) VALUES (2)');
    });
    const failed = db.system(async (q) => {
      await q.query('INSERT INTO t (id) VALUES (3)');
      await q.query('INSERT INTO t (id) VALUES (1)');
    });
    await expect(failed).rejects.toMatchObject({ code: '23505', constraint: 't_pkey' });
    expect(await ids()).toEqual([1, 2]);
  });

  it('commits with a statement marked last, and refuses one after it', async () => {
    await expect(
      db.system(async (q) => {
        await q.query('INSERT INTO t (id) VALUES (10)', [], undefined, { last: true });
        await q.query('INSERT INTO t (id) VALUES (11)');
      }),
    ).rejects.toThrow(/after its transaction committed/);
    expect(await ids()).toContain(10);
    expect(await ids()).not.toContain(11);
    await db.system((q) => q.query('INSERT INTO t (id) VALUES (12)'), { oneStatement: true });
    expect(await ids()).toContain(12);
  });

  it('rolls back when the caller throws between statements', async () => {
    await expect(
      db.system(async (q) => {
        await q.query('INSERT INTO t (id) VALUES (20)');
        throw new Error('the caller changed its mind');
      }),
    ).rejects.toThrow('the caller changed its mind');
    expect(await ids()).not.toContain(20);
  });

  it('runs named statements with their parameters as literals, and keeps the types of the rows', async () => {
    const at = new Date('2026-12-01T04:00:00.123Z');
    const insert = 'INSERT INTO t (id, v, at, doc, n, raw) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *';
    const run = (id: number, v: string | null) =>
      db.system((q) => q.query(insert, [id, v, at, JSON.stringify({ a: [1, "b'c"] }), 2 ** 40, Buffer.from([0, 255])], 'thread_t_insert'), {
        oneStatement: true,
      });
    const [a, b] = await Promise.all([run(30, "O'Brien; DROP TABLE t"), run(31, null)]);
    expect(a.rows[0]).toMatchObject({ id: 30, v: "O'Brien; DROP TABLE t", at, doc: { a: [1, "b'c"] }, n: 2 ** 40 });
    expect([...(a.rows[0]!.raw as Uint8Array)]).toEqual([0, 255]);
    expect(b.rows[0]).toMatchObject({ id: 31, v: null });
    expect(a.rowCount).toBe(1);
  });

  it('gives each of many concurrent transactions its own role and tenant, and none sees another', async () => {
    const seen = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        db.tenant(`ten_${i}`, async (q) => {
          const who = await q.query<{ t: string; u: string }>("SELECT current_setting('tramline.tenant_id') AS t, current_user AS u");
          await q.query('INSERT INTO t (id, v) VALUES ($1, $2)', [100 + i, `ten_${i}`]);
          const mine = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE id >= 100');
          return { ...who.rows[0], before: mine.rows[0]!.n };
        }),
      ),
    );
    seen.forEach((s, i) => expect(s).toMatchObject({ t: `ten_${i}`, u: 'tramline_app', before: i + 1 }));
    const outside = await db.system((q) => q.query<{ t: string | null }>("SELECT current_setting('tramline.tenant_id', true) AS t"));
    expect(outside.rows[0]!.t ?? '').toBe('');
  });

  it('delivers notifications and runs maintenance outside transactions', async () => {
    const got: string[] = [];
    const stop = await db.listen('thread_test', (p) => got.push(p));
    await db.owner((q) => q.query("SELECT pg_notify('thread_test', 'hello')"));
    await expect.poll(() => got).toEqual(['hello']);
    await stop();
    await db.maintenance('VACUUM t');
  });
});

describe('the thread and its process', () => {
  it('keeps the process alive while a call waits, and not after: a command that never closes it still exits', () => {
    const script = `import { openPgliteThread } from './src/store/pglite-thread.ts';
      const db = await openPgliteThread({ dataDir: 'memory://' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const r = await db.owner((q) => q.query("SELECT 'answered' AS a, pg_sleep(0.3)"));
      console.log(r.rows[0].a);`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 60_000,
      encoding: 'utf8',
    });
    expect(run.stdout.trim()).toBe('answered');
    expect(run.status).toBe(0);
  }, 70_000);
});

describe('a closed database thread', () => {
  it('refuses calls instead of leaving them waiting', async () => {
    const other = await openPgliteThread({ dataDir: 'memory://' });
    await other.close();
    await expect(other.owner((q) => q.query('SELECT 1'))).rejects.toThrow(/database thread exited/);
  }, 60_000);
});
