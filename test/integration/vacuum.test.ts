import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVacuumPass, startVacuum } from '../../src/scheduler/vacuum.ts';
import { autovacuumRuns, readTableActivity } from '../../src/store/maintenance.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

/**
 * The embedded database has no autovacuum: the scheduler does its work (issue 12). Dead rows from deletes and
 * updates must be reclaimed and statistics refreshed, or scans slow down for ever on a long-running laptop gateway.
 */
describe('vacuum pass', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => {
    await t?.close();
  });

  const tenantsActivity = async () => (await readTableActivity(t.db)).find((a) => a.table === 'tenants')!;
  const lastRun = async () =>
    (
      await t.db.owner((q) =>
        q.query<{ vacuumed: Date | null; analysed: Date | null }>(
          `SELECT last_vacuum AS vacuumed, last_analyze AS analysed FROM pg_stat_user_tables WHERE relname = 'tenants'`,
        ),
      )
    ).rows[0]!;

  /** 2,000 tenants inserted and deleted: 2,000 dead rows, far past 50 + 20 % of what is left. */
  async function churn(): Promise<void> {
    await t.db.owner((q) =>
      q.exec(`INSERT INTO tenants (id, name) SELECT 'ten_vacuum' || g, 'churn' FROM generate_series(1, 2000) g;
              DELETE FROM tenants WHERE name = 'churn'`),
    );
    // A Postgres server publishes a backend's counters up to a few seconds late; PGlite at once.
    const deadline = Date.now() + 20_000;
    while ((await tenantsActivity()).deadRows < 2_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  }

  it('vacuums and analyses a table with dead rows, and then finds nothing to do for it', async () => {
    await churn();
    expect((await tenantsActivity()).deadRows).toBeGreaterThanOrEqual(2_000);
    const pass = await runVacuumPass(t.db);
    expect(pass.tables.find((m) => m.table === 'tenants')).toMatchObject({ vacuum: true, analyze: true });
    expect((await tenantsActivity()).deadRows).toBe(0);
    const after = await lastRun();
    expect(after.vacuumed).toBeInstanceOf(Date);
    expect(after.analysed).toBeInstanceOf(Date);
    const again = await runVacuumPass(t.db);
    expect(again.tables.map((m) => m.table)).not.toContain('tenants');
  });

  it('runs on its timer where no autovacuum runs (saying so on a Postgres server), and stop waits for the pass in progress', async () => {
    const selfVacuums = !(await autovacuumRuns(t.db));
    await churn();
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const vacuum = startVacuum({ db: t.db, log, intervalMs: 100 });
    const deadline = Date.now() + (selfVacuums ? 20_000 : 1_000);
    while ((await tenantsActivity()).deadRows > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await vacuum.stop();
    const warned = lines.filter((l) => l.includes('autovacuum is off')).length;
    if (selfVacuums) {
      expect((await tenantsActivity()).deadRows).toBe(0);
      expect(lines.some((l) => l.includes('tables vacuumed and analysed'))).toBe(true);
      // Said once, on a server; the embedded database never has autovacuum, so there is nothing to say.
      expect(warned).toBe(t.engine === 'postgres' ? 1 : 0);
    } else {
      // A server whose autovacuum runs is left to it.
      expect((await tenantsActivity()).deadRows).toBeGreaterThan(0);
      expect(lines).toEqual([]);
    }
  });
});
