import type { Logger } from 'pino';
import { maintenanceDue } from '../domain/vacuum-policy.ts';
import type { Db } from '../store/db.ts';
import { autovacuumRuns, maintainTable, readTableActivity } from '../store/maintenance.ts';

export interface VacuumPass {
  tables: { table: string; vacuum: boolean; analyze: boolean; ms: number }[];
}

/**
 * One pass of what autovacuum would do, for the embedded database (PGlite has none): each table past its
 * threshold is vacuumed and/or analysed, one statement at a time, so requests wait for one table at most.
 */
export async function runVacuumPass(db: Db): Promise<VacuumPass> {
  const tables: VacuumPass['tables'] = [];
  for (const m of maintenanceDue(await readTableActivity(db))) {
    const started = performance.now();
    await maintainTable(db, m.table, m);
    tables.push({ ...m, ms: Math.round(performance.now() - started) });
  }
  return { tables };
}

/**
 * A pass every `intervalMs` where nothing else vacuums: always on the embedded database, and on a Postgres server
 * only while its autovacuum is off (asked each time; said once). Never two at once; `stop` waits for the one in
 * progress (on PGlite it holds the database).
 */
export function startVacuum(o: { db: Db; log: Logger; intervalMs: number }): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let warned = false;
  const pass = async (): Promise<VacuumPass | null> => {
    if (await autovacuumRuns(o.db)) return null;
    if (o.db.kind === 'postgres' && !warned) {
      warned = true;
      o.log.warn(
        'autovacuum is off on this Postgres server: the scheduler vacuums and analyses Tramline’s tables itself (turn autovacuum on: dead queue rows slow every claim)',
      );
    }
    return runVacuumPass(o.db);
  };
  const timer = setInterval(() => {
    if (running) return;
    running = pass()
      .then((r) => {
        if (r && r.tables.length > 0) o.log.info({ vacuum: r.tables }, 'tables vacuumed and analysed');
      })
      .catch((err: unknown) => o.log.error({ err }, 'vacuum failed'))
      .finally(() => {
        running = null;
      });
  }, o.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
