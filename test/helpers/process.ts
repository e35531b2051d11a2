import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { beforeEach } from 'vitest';
import { withDatabase } from '../global-setup.ts';

/**
 * The real `tramline` CLI as child processes: `node bin/tramline.js …` with an explicit
 * environment, its stdout and stderr kept in a buffer that is printed when a test fails.
 */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'tramline.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TramlineProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr interleaved in the order they arrived. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Set once the process has exited. */
  readonly exit: Exit | null;
  readonly exited: Promise<Exit>;
  /** Resolves with the output once it matches (checked against everything printed so far). */
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Polls `${baseUrl}/readyz` until it answers 200. */
  waitForReady(baseUrl: string, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
}

/** What a child's output keeps (its last characters) for waitForOutput and the failure report. */
const MAX_BUFFER = 4 * 1024 * 1024;
const all: TramlineProcess[] = [];

/**
 * A clean environment: the child sees what the test passes and a few basics (PATH, HOME…),
 * never the test runner's own DATABASE_URL, TEST_DB or VITEST variables.
 */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'SYSTEMROOT']) if (process.env[k] !== undefined) base[k] = process.env[k];
  // Every process of one test fleet shares a master key, as a real fleet must (a test may override it).
  if (env.DATABASE_URL) base.TRAMLINE_MASTER_KEY = Buffer.alloc(32, 0x5a).toString('base64');
  // dist/ was built once before the run (test/build-once.ts): every child runs that build, even when a
  // source file is edited during the run (bin/tramline.js would otherwise rebuild it in the middle of a test).
  base.TRAMLINE_BUILD_CHECK = '0';
  for (const [k, v] of Object.entries(env)) if (v !== undefined) base[k] = v;
  return base;
}

/**
 * `opts.entry`: another build of Tramline (node arguments instead of this checkout's bin, and its folder).
 * `opts.launcher`: a command that runs the rest of its arguments with `exec` (the pid stays Tramline's), e.g. one
 * that first moves itself into a cgroup, so that node starts already inside it.
 */
export function spawnTramline(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { name?: string; entry?: { nodeArgs: string[]; cwd: string }; launcher?: string[] } = {},
): TramlineProcess {
  const name = opts.name ?? `tramline ${args.join(' ')}`;
  const argv = [process.execPath, ...(opts.entry?.nodeArgs ?? [BIN]), ...args];
  const child = spawn(opts.launcher?.[0] ?? argv[0]!, [...(opts.launcher?.slice(1) ?? []), ...(opts.launcher ? argv : argv.slice(1))], {
    cwd: opts.entry?.cwd ?? ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let so = '';
  let se = '';
  const listeners = new Set<() => void>();
  const append = (which: 'out' | 'err', chunk: Buffer): void => {
    const s = chunk.toString('utf8');
    out += s;
    if (which === 'out') so += s;
    else se += s;
    // Trimmed to the last MAX_BUFFER only once it holds twice that: trimming at every chunk copied 4 MB per chunk
    // once a chatty process had filled it (the 30-minute soak's test process spent most of a core on it).
    if (out.length > 2 * MAX_BUFFER) out = out.slice(-MAX_BUFFER);
    if (so.length > 2 * MAX_BUFFER) so = so.slice(-MAX_BUFFER);
    if (se.length > 2 * MAX_BUFFER) se = se.slice(-MAX_BUFFER);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', (c: Buffer) => append('out', c));
  child.stderr!.on('data', (c: Buffer) => append('err', c));
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Let the pipes drain before anyone reads the final output.
      setTimeout(() => {
        for (const l of listeners) l();
        resolve({ code, signal });
      }, 20);
    });
    child.once('error', (err) => {
      out += `\n[spawn error] ${err.message}\n`;
      exit = { code: null, signal: null };
      resolve(exit);
    });
  });
  const tail = (): string => (out.length > 6000 ? `…${out.slice(-6000)}` : out);

  const p: TramlineProcess = {
    name,
    child,
    pid: child.pid ?? -1,
    output: () => out,
    stdout: () => so,
    stderr: () => se,
    get exit() {
      return exit;
    },
    exited,
    waitForOutput(pattern, timeoutMs = 30_000) {
      const matches = (): boolean => (typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out));
      return new Promise((resolve, reject) => {
        const done = (err?: Error): void => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve(out);
        };
        const check = (): void => {
          if (matches()) done();
          else if (exit) done(new Error(`${name} exited (${JSON.stringify(exit)}) before printing ${String(pattern)}:\n${tail()}`));
        };
        const timer = setTimeout(
          () => done(new Error(`${name} did not print ${String(pattern)} within ${timeoutMs} ms:\n${tail()}`)),
          timeoutMs,
        );
        listeners.add(check);
        check();
      });
    },
    async waitForReady(baseUrl, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exit) throw new Error(`${name} exited (${JSON.stringify(exit)}) before it was ready:\n${tail()}`);
        try {
          const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
          await res.arrayBuffer();
          if (res.status === 200) return;
        } catch {
          /* not listening yet */
        }
        if (Date.now() > deadline) throw new Error(`${name} was not ready at ${baseUrl} within ${timeoutMs} ms:\n${tail()}`);
        await sleep(100);
      }
    },
    kill(signal = 'SIGTERM') {
      if (!exit) child.kill(signal);
    },
    async stop(graceMs = 10_000) {
      if (exit) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
  };
  all.push(p);
  return p;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the command had to be killed after `timeoutMs`. */
  timedOut: boolean;
  ms: number;
}

/** Runs a CLI command to its end (killed after `timeoutMs`: a hang shows as `timedOut`). */
export async function runTramline(args: string[], env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<Run> {
  const started = Date.now();
  const p = spawnTramline(args, env);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill('SIGKILL');
  }, timeoutMs);
  const e = await p.exited;
  clearTimeout(timer);
  return { ...e, stdout: p.stdout(), stderr: p.stderr(), timedOut, ms: Date.now() - started };
}

/** SIGKILLs every child a test file started that is still running (afterAll / afterEach). */
export async function killAll(): Promise<void> {
  await Promise.all(
    all.map(async (p) => {
      if (p.exit) return;
      p.kill('SIGKILL');
      await p.exited;
    }),
  );
}

/** Registers a hook that prints the output of every child started by a test when that test fails. */
export function printChildOutputOnFailure(): void {
  beforeEach(({ onTestFailed }) => {
    const from = all.length;
    onTestFailed(() => {
      for (const p of all.slice(from)) {
        const o = p.output();
        console.log(
          `----- ${p.name} (pid ${p.pid}, exit ${JSON.stringify(p.exit)}) -----\n${o.length > 20_000 ? `…${o.slice(-20_000)}` : o}`,
        );
      }
    });
  });
}

/** A TCP port that was free a moment ago, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export { sleep, waitUntil } from './wait.ts';
import { sleep } from './wait.ts';

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * A brand-new, empty (unmigrated) database on the Postgres server of DATABASE_URL, for tests
 * of `migrate` itself; `drop()` removes it.
 */
export async function emptyPostgresDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is unset');
  const name = `tramline_empty_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(base, name),
    async drop() {
      const a = new pg.Client({ connectionString: base });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
