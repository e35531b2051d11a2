import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, waitForOk } from './ports.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const OPERATOR_TOKEN = 'bench-operator-token-0123456789';
const MASTER_KEY = Buffer.alloc(32, 1).toString('base64');

type Role = 'all' | 'api' | 'worker' | 'scheduler';

/**
 * How the gateway's roles are spread over processes: `all` (one process), or roles joined by `+`
 * (`api+worker`: one API process and one worker process). Each process is one Node thread, so on a
 * 2-core machine a split layout can use both cores for the gateway.
 */
export type Layout = string;

export function parseLayout(layout: Layout): Role[] {
  const roles = layout.split('+').map((r) => r.trim()) as Role[];
  for (const r of roles) if (!['all', 'api', 'worker', 'scheduler'].includes(r)) throw new Error(`layout "${layout}": unknown role "${r}"`);
  if (!roles.some((r) => r === 'all' || r === 'api')) throw new Error(`layout "${layout}" has no API process`);
  return roles;
}

export interface GatewayProcess {
  readonly role: Role;
  readonly child: ChildProcess;
  readonly pid: number;
}

export interface RunningGateway {
  /** The first API process's base URL. */
  readonly url: string;
  readonly layout: Layout;
  readonly processes: readonly GatewayProcess[];
  pids(): number[];
  stop(): Promise<void>;
}

export interface GatewayOptions {
  /** DATABASE_URL or TRAMLINE_DATA_DIR (see database.ts). */
  dbEnv: Record<string, string>;
  layout?: Layout;
  /** Settings for this run (e.g. TRAMLINE_ENDPOINT_CONCURRENCY); they win over the bench's defaults. */
  extraEnv?: Record<string, string>;
}

/**
 * Starts the real gateway (`node bin/tramline.js start --role …`) as child processes. The abuse limits
 * would cap what a benchmark measures (one tenant, one key), so they are lifted unless the environment
 * sets them; the limiters still run on every request. BENCH_GATEWAY_NODE_ARGS passes node flags (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`) to every gateway process.
 */
export async function startGateway(o: GatewayOptions): Promise<RunningGateway> {
  const layout = o.layout ?? 'all';
  const roles = parseLayout(layout);
  if (o.dbEnv.TRAMLINE_DATA_DIR && roles.length > 1) throw new Error('PGlite is embedded in one process: use layout "all"');
  const nodeArgs = process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const processes: GatewayProcess[] = [];
  const alive = new Set<ChildProcess>();
  let apiUrl: string | null = null;
  const stop = async (): Promise<void> => {
    await Promise.all(
      processes.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (!alive.has(p.child)) return resolve();
            const kill = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
            p.child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            p.child.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    for (const role of roles) {
      const port = await freePort();
      const metricsPort = await freePort();
      const env = {
        // API rate limits stay at their defaults (none): a new user's first benchmark must see no 429.
        TRAMLINE_OUTBOUND_PER_TENANT: '1000000',
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        TRAMLINE_METRICS_PORT: String(metricsPort),
        LOG_LEVEL: process.env.BENCH_GATEWAY_LOG_LEVEL ?? 'warn',
        TRAMLINE_OPERATOR_TOKEN: OPERATOR_TOKEN,
        TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8',
        TRAMLINE_MASTER_KEY: MASTER_KEY,
        ...o.extraEnv,
        ...o.dbEnv,
      };
      // The bench's own DATABASE_URL points at the admin database: a PGlite run must not inherit it.
      if (o.dbEnv.TRAMLINE_DATA_DIR) delete (env as Record<string, string | undefined>).DATABASE_URL;
      const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin/tramline.js'), 'start', '--role', role], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      alive.add(child);
      child.once('exit', () => alive.delete(child));
      processes.push({ role, child, pid: child.pid! });
      // One at a time: the first process migrates the database, the next ones find it migrated.
      if (role === 'all' || role === 'api') {
        const url = `http://127.0.0.1:${port}`;
        await waitForOk(`${url}/readyz`, 60_000, () => alive.has(child));
        apiUrl ??= url;
      } else {
        await waitForOk(`http://127.0.0.1:${metricsPort}/metrics`, 60_000, () => alive.has(child));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: apiUrl!, layout, processes, pids: () => processes.filter((p) => alive.has(p.child)).map((p) => p.pid), stop };
}
