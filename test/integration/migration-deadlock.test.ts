import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrate.ts';
import { engine, openTestDb, type TestDb } from '../helpers/db.ts';
import { waitUntil } from '../helpers/wait.ts';

/**
 * During a rolling upgrade the old fleet keeps working while the new release migrates. A migration that
 * locks several of the tables it uses (0014 drops a constraint on messages, deliveries and attempts) can
 * deadlock with one of its transactions, and Postgres then aborts one of the two. When it aborts the
 * migration, the migration must run again rather than fail the process that started it.
 */
describe.runIf(engine() === 'postgres')(
  'a migration that deadlocks with the running fleet (Postgres: PGlite has one connection, nothing to deadlock with)',
  () => {
    let t: TestDb;
    let fleet: pg.Client;

    beforeAll(async () => {
      t = await openTestDb();
      // Back to the schema before 0014, so that it has something to do.
      await t.db.owner((q) =>
        q.exec(`ALTER TABLE messages ADD CONSTRAINT messages_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE;
              ALTER TABLE deliveries ADD CONSTRAINT deliveries_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE;
              ALTER TABLE attempts ADD CONSTRAINT attempts_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE;
              DELETE FROM tramline_migrations WHERE id = '0014_hot_tenant_row'`),
      );
      fleet = new pg.Client({ connectionString: t.url! });
      await fleet.connect();
    });

    afterAll(async () => {
      await fleet?.end();
      await t?.close();
    });

    it('is aborted once by the deadlock, runs again, and is applied', async () => {
      const deadlocks = async (): Promise<number> =>
        (await fleet.query<{ n: number }>('SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0]!
          .n;
      const before = await deadlocks();

      // A fleet transaction holds attempts and will want messages, as a completion then a read would.
      await fleet.query('BEGIN; LOCK TABLE attempts IN ACCESS SHARE MODE');
      const migrating = migrate(t.db);
      // The migration holds messages and deliveries and waits for attempts…
      await waitUntil(
        async () => {
          const r = await fleet.query(`SELECT 1 FROM pg_locks WHERE relation = 'attempts'::regclass AND NOT granted`);
          return r.rows.length === 1 || undefined;
        },
        10_000,
        'the migration waiting for the lock on attempts',
      );
      // …and now the fleet waits for messages: a cycle. The migration has waited longer, so its deadlock
      // check runs first (deadlock_timeout) and aborts it, which lets the fleet's lock through.
      await fleet.query('LOCK TABLE messages IN ACCESS SHARE MODE');
      await fleet.query('COMMIT');

      expect(await migrating).toEqual(['0014_hot_tenant_row']);
      expect(await deadlocks()).toBe(before + 1);
      const fks = await fleet.query(
        `SELECT conname FROM pg_constraint WHERE contype = 'f' AND confrelid = 'tenants'::regclass
         AND conrelid IN ('messages'::regclass, 'deliveries'::regclass, 'attempts'::regclass)`,
      );
      expect(fks.rows).toEqual([]);
    }, 30_000);
  },
);
