/**
 * Debian's nginx as the rollout test runs it: a non-daemon process with its own prefix, configured from
 * deploy/nginx/rollout.conf.template, reloaded (SIGHUP) when the upstream list changes; and the reading of its
 * access log (one line per request with every upstream tried, in the template's `upstreams` format).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, ROOT, sleep, tail } from './support.ts';

const NGINX = process.env.NGINX ?? 'nginx';

export interface Nginx {
  readonly url: string;
  readonly prefix: string;
  /** The api ports in the loaded configuration. */
  readonly upstreams: number[];
  readonly generation: number;
  /** True while a reload is being loaded. */
  readonly reloading: boolean;
  reload(ports: number[]): Promise<void>;
  stop(): Promise<void>;
}

/** One line of the access log: what the client got, and every upstream nginx tried for it. */
export interface AccessEntry {
  /** When nginx logged it (the answer's end), ms since the epoch. */
  endMs: number;
  method: string;
  uri: string;
  status: number;
  /** Ports of the upstreams tried, in order ('' for none). */
  upstreams: number[];
  upstreamStatuses: string[];
  requestMs: number;
  idempotencyKey: boolean;
}

export async function startNginx(prefix: string, ports: number[]): Promise<Nginx> {
  for (const d of ['', 'client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    fs.mkdirSync(path.join(prefix, d), { recursive: true, mode: 0o777 });
  fs.chmodSync(path.dirname(prefix), 0o755);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let generation = 1;
  let upstreams = ports;
  let reloading = false;
  const file = writeConfig(prefix, port, generation, ports);
  const check = spawnSync(NGINX, ['-t', '-p', prefix, '-c', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t failed:\n${check.stdout}${check.stderr}`);
  const out = fs.openSync(path.join(prefix, 'nginx.out'), 'a');
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', file], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  await waitGeneration(url, prefix, generation);
  return {
    url,
    prefix,
    get upstreams() {
      return upstreams;
    },
    get generation() {
      return generation;
    },
    get reloading() {
      return reloading;
    },
    async reload(next: number[]) {
      reloading = true;
      try {
        generation++;
        writeConfig(prefix, port, generation, next);
        child.kill('SIGHUP');
        await waitGeneration(url, prefix, generation);
        upstreams = next;
      } finally {
        reloading = false;
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function nginxVersion(): string {
  const r = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return /nginx\/(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

export function readAccessLog(prefix: string): AccessEntry[] {
  const file = path.join(prefix, 'access.log');
  if (!fs.existsSync(file)) return [];
  const out: AccessEntry[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    // $msec $request_method $uri $status "$upstream_addr" "$upstream_status" $request_time $has_idempotency_key
    const m = /^(\d+\.\d+) (\S+) (\S+) (\d+) "([^"]*)" "([^"]*)" (\S+) ([01])$/.exec(line);
    if (!m) continue;
    out.push({
      endMs: Number(m[1]) * 1000,
      method: m[2]!,
      uri: m[3]!,
      status: Number(m[4]),
      upstreams: [...m[5]!.matchAll(/127\.0\.0\.1:(\d+)/g)].map((u) => Number(u[1])),
      upstreamStatuses: m[6] === '-' ? [] : m[6]!.split(/, ?|: ?/),
      requestMs: Number(m[7]) * 1000,
      idempotencyKey: m[8] === '1',
    });
  }
  return out;
}

/** nginx's error log lines at or above `warn` (upstream errors name the upstream and the reason). */
export function readErrorLog(prefix: string): string[] {
  const file = path.join(prefix, 'error.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

function writeConfig(prefix: string, port: number, generation: number, ports: number[]): string {
  const template = fs.readFileSync(path.join(ROOT, 'deploy/nginx/rollout.conf.template'), 'utf8');
  const conf = template
    .replaceAll('{{PREFIX}}', prefix)
    .replaceAll('{{PORT}}', String(port))
    .replaceAll('{{GENERATION}}', String(generation))
    .replaceAll('{{USER}}', process.getuid?.() === 0 ? 'user nobody nogroup;' : '')
    .replaceAll('{{SERVERS}}', ports.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n'));
  const file = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(file, conf);
  return file;
}

async function waitGeneration(url: string, prefix: string, generation: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // A new connection each time: only the reloaded workers accept new connections.
      const r = await fetch(`${url}/__generation`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(2000) });
      if ((await r.text()).trim() === String(generation)) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline)
      throw new Error(`nginx did not load generation ${generation} within ${timeoutMs} ms:\n${tail(path.join(prefix, 'error.log'))}`);
    await sleep(20);
  }
}
