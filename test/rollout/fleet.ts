/**
 * The fleet of the rollout test and of its capacity probe: api, worker and scheduler processes of the compiled
 * build (`node bin/tramline.js start --role …`) on a fresh Postgres database, behind Debian's nginx configured
 * from deploy/nginx/rollout.conf.template, delivering to a receiver process; and the endpoints controller that
 * keeps nginx's upstream list to the api processes that are ready and not terminating.
 *
 * Everything listens on 127.0.0.1; `stop()` ends every process it started and drops the database.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Nginx, startNginx } from './nginx.ts';
import { freePort, ROOT, say, sleep, tail, withDatabase, withTimeout } from './support.ts';

const BIN = path.join(ROOT, 'bin', 'tramline.js');
// A readiness probe as Kubernetes runs it: every 250 ms, 2 s timeout, out after 3 failures in a row, in after
// 1 success. A terminating process is out at once, whatever its probe says (as an EndpointSlice marks it).
const PROBE_INTERVAL_MS = 250;
const PROBE_TIMEOUT_MS = 2000;
const FAILURE_THRESHOLD = 3;

export type Role = 'api' | 'worker' | 'scheduler';
export interface Proc {
  name: string;
  role: Role;
  child: ChildProcess;
  port: number | null;
  log: string;
  exited: Promise<number | null>;
  /** Readiness as the controller sees it (api only). */
  ready: boolean;
  failures: number;
  /** SIGTERM sent: out of the upstream list whatever its probe says. */
  terminating: boolean;
  /** Wall-clock times (ms) of SIGTERM, of leaving nginx's loaded configuration, and of the exit. */
  sigtermAt: number | null;
  outAt: number | null;
  exitAt: number | null;
}

export interface FleetOptions {
  apis: number;
  workers: number;
  drainDelayMs: number;
  baseDb: string;
  /** How late the controller sees a SIGTERM (a slow endpoints controller or ingress); 0 by default. */
  controllerLagMs?: number;
}

export class Fleet {
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-rollout-'));
  readonly procs = new Set<Proc>();
  /** Every api process ever started (for the post-mortem of failed requests). */
  readonly history: Proc[] = [];
  readonly operatorToken = `rollout-operator-${randomBytes(12).toString('hex')}`;
  readonly dbName = `tramline_rollout_${process.pid}_${randomBytes(3).toString('hex')}`;
  readonly dbUrl: string;
  nginx: Nginx | null = null;
  rxUrl = '';
  private receiver: ChildProcess | null = null;
  private controllerStopped = false;
  private readonly masterKey = randomBytes(32).toString('base64');
  private stopping: Promise<void> | null = null;

  constructor(readonly opts: FleetOptions) {
    this.dbUrl = withDatabase(opts.baseDb, this.dbName);
  }

  /** Database (migrated as the migration Job does), receiver, every process ready, nginx, the controller. */
  async start(): Promise<void> {
    const admin = new pg.Client({ connectionString: this.opts.baseDb });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${this.dbName}`);
    await admin.end();
    say(`database ${this.dbName}`);
    await this.runToEnd(['migrate'], 'migrate');
    this.rxUrl = await this.startReceiver();
    say(`receiver ${this.rxUrl}`);
    const started: Proc[] = [];
    for (let i = 1; i <= this.opts.apis; i++) started.push(await this.startProc('api', `api-${i}`));
    for (let i = 1; i <= this.opts.workers; i++) started.push(await this.startProc('worker', `worker-${i}`));
    started.push(await this.startProc('scheduler', 'scheduler'));
    await Promise.all(started.map((p) => (p.role === 'api' ? this.waitReady(p) : this.waitStarted(p))));
    say(`fleet started: ${this.opts.apis} api, ${this.opts.workers} worker, 1 scheduler`);
    this.nginx = await startNginx(
      path.join(this.tmp, 'nginx'),
      this.apis().map((p) => p.port!),
    );
    say(`nginx on ${this.nginx.url} → api ${this.nginx.upstreams.join(', ')}`);
    this.runController();
  }

  apis(): Proc[] {
    return [...this.procs].filter((p) => p.role === 'api');
  }

  others(): Proc[] {
    return [...this.procs].filter((p) => p.role !== 'api');
  }

  /** SIGTERM → readiness fails → out of nginx → drained and exited → a new one → ready → back in nginx. */
  async replaceApi(old: Proc): Promise<string> {
    const nginx = this.nginx!;
    const t0 = Date.now();
    say(`${old.name}: SIGTERM (readiness fails now; serving ${this.opts.drainDelayMs} ms more)`);
    old.terminating = true;
    old.sigtermAt = t0;
    old.child.kill('SIGTERM');
    // The controller takes it out of the upstream list; the rollout waits for that reload to be loaded
    // (none in progress that was computed before the SIGTERM).
    const outDeadline = Date.now() + 30_000 + (this.opts.controllerLagMs ?? 0);
    while ((nginx.reloading || nginx.upstreams.includes(old.port!)) && Date.now() < outDeadline) await sleep(20);
    if (nginx.upstreams.includes(old.port!)) throw new Error(`${old.name} is still in nginx's upstreams 30 s after SIGTERM`);
    const outMs = Date.now() - t0;
    if (outMs >= this.opts.drainDelayMs) say(`${old.name}: out of nginx only after ${outMs} ms, later than its drain delay`);
    say(`${old.name}: out of nginx after ${outMs} ms (generation ${nginx.generation})`);
    const code = await withTimeout(old.exited, 60_000, `${old.name} did not exit within 60 s of SIGTERM`);
    const exitMs = (old.exitAt ?? Date.now()) - t0;
    if (code !== 0) throw new Error(`${old.name} exited with ${code}:\n${tail(old.log)}`);
    this.procs.delete(old);
    const fresh = await this.startProc('api', old.name);
    await this.waitReady(fresh);
    const readyMs = Date.now() - t0;
    const inDeadline = Date.now() + 30_000;
    while (!nginx.upstreams.includes(fresh.port!) && Date.now() < inDeadline) await sleep(20);
    if (!nginx.upstreams.includes(fresh.port!)) throw new Error(`${fresh.name} was not put back into nginx`);
    const inMs = Date.now() - t0;
    say(`${old.name}: replaced (exited 0 after ${exitMs} ms, new one ready after ${readyMs} ms, in nginx after ${inMs} ms)`);
    return `${old.name.padEnd(10)} out of nginx ${outMs} ms, exited ${exitMs} ms, new ready ${readyMs} ms, back in nginx ${inMs} ms after SIGTERM`;
  }

  /** Workers and the scheduler: SIGTERM → exit 0 → a new process → started. */
  async replaceBackground(old: Proc): Promise<string> {
    const t0 = Date.now();
    say(`${old.name}: SIGTERM`);
    old.sigtermAt = t0;
    old.child.kill('SIGTERM');
    const code = await withTimeout(old.exited, 60_000, `${old.name} did not exit within 60 s of SIGTERM`);
    if (code !== 0) throw new Error(`${old.name} exited with ${code}:\n${tail(old.log)}`);
    const exitMs = Date.now() - t0;
    this.procs.delete(old);
    const fresh = await this.startProc(old.role, old.name);
    await this.waitStarted(fresh);
    const startedMs = Date.now() - t0;
    say(`${old.name}: replaced (exited 0 after ${exitMs} ms, new one started after ${startedMs} ms)`);
    return `${old.name.padEnd(10)} exited ${exitMs} ms, new started ${startedMs} ms after SIGTERM`;
  }

  /** Stops everything this fleet started (once; a second caller waits for the first). */
  stop(failed: boolean, keep: boolean): Promise<void> {
    this.stopping ??= this.stopOnce(failed, keep);
    return this.stopping;
  }

  private async stopOnce(failed: boolean, keep: boolean): Promise<void> {
    this.controllerStopped = true;
    if (failed) for (const p of this.procs) console.error(`----- ${p.name} (last lines of ${p.log}) -----\n${tail(p.log)}`);
    await Promise.all(
      [...this.procs].map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.child.kill('SIGTERM');
        const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
        await p.exited;
        clearTimeout(timer);
      }),
    );
    await this.nginx?.stop();
    this.receiver?.kill('SIGTERM');
    try {
      const admin = new pg.Client({ connectionString: this.opts.baseDb });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
      await admin.end();
    } catch (err) {
      console.error(`could not drop ${this.dbName}:`, err);
    }
    if (keep || failed) console.log(`logs kept in ${this.tmp}`);
    else fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  private env(role: Role, port: number | null): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: this.dbUrl,
      TRAMLINE_MASTER_KEY: this.masterKey,
      TRAMLINE_OPERATOR_TOKEN: this.operatorToken,
      TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8',
      TRAMLINE_RETRY_SCHEDULE: '0s,1s,2s,5s,10s',
      TRAMLINE_POLL_INTERVAL: '200ms',
      TRAMLINE_SHUTDOWN_TIMEOUT: '10s',
      TRAMLINE_DRAIN_DELAY: `${this.opts.drainDelayMs}ms`,
      TRAMLINE_DB_POOL_SIZE: '8',
      // dist/ was built before the fleet started: every process runs that build.
      TRAMLINE_BUILD_CHECK: '0',
      HOST: '127.0.0.1',
      PORT: String(port ?? 0),
      TRAMLINE_METRICS_PORT: '0',
      LOG_LEVEL: role === 'api' ? 'warn' : 'info',
    };
  }

  private async startProc(role: Role, name: string): Promise<Proc> {
    const port = role === 'api' ? await freePort() : null;
    const log = path.join(this.tmp, `${name}.${Date.now()}.log`);
    const fd = fs.openSync(log, 'a');
    const child = spawn(process.execPath, [BIN, 'start', '--role', role], {
      cwd: ROOT,
      env: this.env(role, port),
      stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    const p: Proc = {
      name,
      role,
      child,
      port,
      log,
      exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
      ready: false,
      failures: 0,
      terminating: false,
      sigtermAt: null,
      outAt: null,
      exitAt: null,
    };
    void p.exited.then(() => (p.exitAt = Date.now()));
    this.procs.add(p);
    if (role === 'api') {
      this.history.push(p);
      this.probeLoop(p);
    }
    return p;
  }

  private async waitReady(p: Proc, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (p.exitAt !== null) throw new Error(`${p.name} exited (${p.child.exitCode}) before it was ready:\n${tail(p.log)}`);
      if (await probe(p)) {
        p.ready = true;
        return;
      }
      if (Date.now() > deadline) throw new Error(`${p.name} not ready within ${timeoutMs} ms:\n${tail(p.log)}`);
      await sleep(100);
    }
  }

  private async waitStarted(p: Proc, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (p.exitAt !== null) throw new Error(`${p.name} exited (${p.child.exitCode}) before it started:\n${tail(p.log)}`);
      if (fs.readFileSync(p.log, 'utf8').includes('"tramline started"')) return;
      if (Date.now() > deadline) throw new Error(`${p.name} not started within ${timeoutMs} ms:\n${tail(p.log)}`);
      await sleep(100);
    }
  }

  /** The readiness probe of one api process, until it exits. */
  private probeLoop(p: Proc): void {
    void (async () => {
      while (p.exitAt === null && !this.controllerStopped) {
        if (await probe(p)) {
          p.failures = 0;
          p.ready = true;
        } else if (++p.failures >= FAILURE_THRESHOLD) p.ready = false;
        await sleep(PROBE_INTERVAL_MS);
      }
    })();
  }

  /**
   * The endpoints controller: puts into nginx's upstream list the api processes that are ready and not
   * terminating, and reloads nginx whenever that set changes — at once for a SIGTERM (as the EndpointSlice
   * controller reacts to a pod's deletion), within a few probe periods for a readiness change.
   */
  private runController(): void {
    const nginx = this.nginx!;
    void (async () => {
      while (!this.controllerStopped) {
        const lag = this.opts.controllerLagMs ?? 0;
        // A late controller has not seen the SIGTERM yet, nor the readiness failures that follow it.
        const late = (p: Proc): boolean => p.terminating && Date.now() - p.sigtermAt! < lag;
        const want = this.apis()
          .filter((p) => late(p) || (p.ready && !p.terminating))
          .map((p) => p.port!)
          .sort((a, b) => a - b);
        if (want.length > 0 && want.join() !== [...nginx.upstreams].sort((a, b) => a - b).join()) {
          await nginx.reload(want);
          const now = Date.now();
          for (const p of this.history) if (p.terminating && p.outAt === null && !want.includes(p.port!)) p.outAt = now;
          say(`nginx reloaded (generation ${nginx.generation}) → api ${want.join(', ')}`);
        } else await sleep(20);
      }
    })().catch((err: unknown) => {
      console.error('readiness controller failed:', err);
      void this.stop(true, true).finally(() => process.exit(1));
    });
  }

  private async startReceiver(): Promise<string> {
    this.receiver = fork(path.join(ROOT, 'test/rollout/receiver.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const rx = this.receiver;
    return withTimeout(
      new Promise<string>((resolve, reject) => {
        rx.once('message', (m: { url: string }) => resolve(m.url));
        rx.once('exit', (code) => reject(new Error(`receiver exited (${code})`)));
      }),
      60_000,
      'receiver did not start within 60 s',
    );
  }

  private async runToEnd(args: string[], name: string): Promise<void> {
    const log = path.join(this.tmp, `${name}.log`);
    const fd = fs.openSync(log, 'a');
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: this.env('scheduler', null), stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    const code = await withTimeout(new Promise<number | null>((r) => child.once('exit', r)), 90_000, `${name} did not finish within 90 s`);
    if (code !== 0) throw new Error(`${name} exited ${code}:\n${tail(log)}`);
  }
}

async function probe(p: Proc): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${p.port}/readyz`, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      headers: { connection: 'close' },
    });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}
