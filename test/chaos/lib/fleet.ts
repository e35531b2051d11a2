import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { openPostgres } from '../../../src/store/db.ts';
import { migrate } from '../../../src/store/migrate.ts';
import { withDatabase } from '../../global-setup.ts';
import { freePort, spawnTramline, type TramlineProcess } from '../../helpers/process.ts';

/**
 * A fleet as production runs it: separate `tramline start --role api|worker|scheduler` processes (the compiled
 * build) on a fresh Postgres database of their own. Each process has a name (`api-0`, `worker-1`, `scheduler`);
 * a scenario kills, restarts or re-routes them by name. Everything listens on 127.0.0.1.
 */
export const OPERATOR_TOKEN = `chaos-operator-${randomBytes(8).toString('hex')}`;
/** The deadline of one delivery attempt; the lease is this plus 5 s (src/config.ts). */
export const DELIVERY_TIMEOUT_MS = 2_000;
export const LEASE_MS = DELIVERY_TIMEOUT_MS + 5_000;
/** Twelve fast attempts: a delivery failing 22 % of the time runs out of them once in ~10^8. */
export const FAST_RETRIES = '0s,100ms,200ms,500ms,1s,1s,1s,1s,1s,1s,1s,1s';

export interface ChaosDatabase {
  /** The database's URL on the real server (never through a proxy). */
  url: string;
  /** Owner queries for the scenario's checks (a pool of its own, outside the fleet). */
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export async function createDatabase(): Promise<ChaosDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is unset: the chaos suite runs on a Postgres server');
  const name = `tramline_chaos_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  // A run that was interrupted (Ctrl-C, a killed CI job) left its databases: drop those whose process is gone.
  const left = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'tramline\\_chaos\\_%'`);
  for (const { datname } of left.rows) {
    const pid = Number(datname.split('_')[2]);
    if (pid && !alive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(base, name);
  const db = openPostgres(url, 2);
  await migrate(db);
  await db.close();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  return {
    url,
    async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
      return (await pool.query<T>(sql, params)).rows;
    },
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: base });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export type Role = 'api' | 'worker' | 'scheduler';

export interface ProcSpec {
  role: Role;
  /** Settings of this process only (a DATABASE_URL through a proxy, a clock skew…). */
  env?: Record<string, string>;
}

export interface Fleet {
  db: ChaosDatabase;
  /** Base URLs of the api processes, in order (api-0, api-1…). */
  apiUrls: string[];
  names(): string[];
  proc(name: string): TramlineProcess;
  /** Spawns `name` again (same role, port and settings) and waits until it is ready. */
  start(name: string): Promise<TramlineProcess>;
  /** kill -9 and wait for the exit. */
  kill(name: string): Promise<void>;
  /** Resident memory of a running process, in bytes (from /proc). */
  rss(name: string): number;
  stop(): Promise<void>;
}

export function baseEnv(dbUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    DATABASE_URL: dbUrl,
    TRAMLINE_OPERATOR_TOKEN: OPERATOR_TOKEN,
    TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8',
    TRAMLINE_DELIVERY_TIMEOUT: `${DELIVERY_TIMEOUT_MS}ms`,
    TRAMLINE_POLL_INTERVAL: '200ms',
    TRAMLINE_RETRY_SCHEDULE: FAST_RETRIES,
    TRAMLINE_SHUTDOWN_TIMEOUT: '2s',
    // The load generator is one client address with one key per tenant: it must meet the gateway, not its brakes.
    TRAMLINE_RATE_LIMIT_PER_KEY: '1000000',
    TRAMLINE_RATE_LIMIT_PER_TENANT: '1000000',
    TRAMLINE_AUTH_FAILURES_PER_IP: '1000000',
    TRAMLINE_OUTBOUND_PER_TENANT: '1000000',
    TRAMLINE_METRICS_PORT: '0',
    // info: the `tramline started` line tells that a worker is up; deliveries themselves log nothing at info.
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/**
 * Starts `specs` in order (`api-0`, `api-1`, `worker-0`… named by role and index) on `db`.
 * `env` applies to every process; a spec's own env wins.
 */
export async function startFleet(db: ChaosDatabase, specs: ProcSpec[], env: Record<string, string> = {}): Promise<Fleet> {
  const count: Record<Role, number> = { api: 0, worker: 0, scheduler: 0 };
  const table = new Map<string, { spec: ProcSpec; port: number | null; proc: TramlineProcess | null }>();
  const apiUrls: string[] = [];
  for (const spec of specs) {
    const i = count[spec.role]++;
    const name = spec.role === 'scheduler' && i === 0 ? 'scheduler' : `${spec.role}-${i}`;
    const port = spec.role === 'api' ? await freePort() : null;
    if (port) apiUrls.push(`http://127.0.0.1:${port}`);
    table.set(name, { spec, port, proc: null });
  }
  const entry = (name: string) => {
    const e = table.get(name);
    if (!e) throw new Error(`no process ${name} in the fleet`);
    return e;
  };
  const start = async (name: string): Promise<TramlineProcess> => {
    const e = entry(name);
    const p = spawnTramline(['start', '--role', e.spec.role], baseEnv(db.url, { PORT: String(e.port ?? 0), ...env, ...e.spec.env }), {
      name,
    });
    e.proc = p;
    if (e.port) await p.waitForReady(`http://127.0.0.1:${e.port}`, 60_000);
    else await p.waitForOutput('tramline started', 60_000);
    return p;
  };
  const fleet: Fleet = {
    db,
    apiUrls,
    names: () => [...table.keys()],
    proc(name) {
      const p = entry(name).proc;
      if (!p) throw new Error(`${name} was never started`);
      return p;
    },
    start,
    async kill(name) {
      const p = fleet.proc(name);
      p.kill('SIGKILL');
      await p.exited;
    },
    rss(name) {
      return rssOf(fleet.proc(name).pid);
    },
    async stop() {
      await Promise.all(
        [...table.values()].map(async (e) => {
          if (e.proc && !e.proc.exit) await e.proc.stop(5_000);
        }),
      );
    },
  };
  await Promise.all([...table.keys()].map(start));
  return fleet;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function rssOf(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
