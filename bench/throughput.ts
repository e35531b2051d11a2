/**
 * First throughput figures: publish rate and end-to-end delivery rate of the real gateway
 * (a child process running `tramline start`), with a fast local receiver and a load generator
 * in this process. Usage:
 *
 *   npm run bench -- [--engine pglite|postgres|both] [--messages 20000] [--connections 32]
 *
 * Postgres uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) and a fresh
 * database `tramline_bench` that is dropped afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Pool } from 'undici';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string', default: 'both' },
    messages: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '32' },
    json: { type: 'string' },
  },
});
const MESSAGES = Number(args.messages);
const CONNECTIONS = Number(args.connections);
const OPERATOR = 'bench-operator-token-0123456789';
const ROOT = path.resolve(import.meta.dirname, '..');

interface Result {
  engine: string;
  messages: number;
  publishPerSec: number;
  publishP50Ms: number;
  publishP99Ms: number;
  deliveredPerSec: number;
  e2eP50Ms: number;
  e2eP99Ms: number;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function startReceiver(onHit: (id: string) => void): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      onHit(req.headers['webhook-id'] as string);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, close: () => server.close() };
}

async function startGateway(env: Record<string, string>): Promise<{ url: string; proc: ChildProcess }> {
  const port = 18_000 + Math.floor(Math.random() * 2000);
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/tramline.js'), 'start'], {
    // The abuse limits would cap what this measures (one tenant, one key): lifted unless the environment sets them.
    env: { TRAMLINE_RATE_LIMIT_PER_KEY: '10000000', TRAMLINE_RATE_LIMIT_PER_TENANT: '10000000', TRAMLINE_OUTBOUND_PER_TENANT: '1000000', ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', TRAMLINE_OPERATOR_TOKEN: OPERATOR, TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8', TRAMLINE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, proc };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error('gateway did not become ready');
}

async function json(pool: Pool, method: 'POST' | 'GET', p: string, token: string, body?: unknown): Promise<any> {
  const r = await pool.request({ method, path: p, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : null });
  const text = await r.body.text();
  if (r.statusCode >= 300) throw new Error(`${method} ${p}: ${r.statusCode} ${text}`);
  return JSON.parse(text);
}

async function run(engine: 'pglite' | 'postgres'): Promise<Result> {
  let env: Record<string, string>;
  let cleanup = async (): Promise<void> => {};
  if (engine === 'postgres') {
    const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query('DROP DATABASE IF EXISTS tramline_bench WITH (FORCE)');
    await admin.query('CREATE DATABASE tramline_bench');
    const u = new URL(base);
    u.pathname = '/tramline_bench';
    env = { DATABASE_URL: u.toString() };
    cleanup = async () => {
      await admin.query('DROP DATABASE IF EXISTS tramline_bench WITH (FORCE)');
      await admin.end();
    };
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-bench-'));
    env = { TRAMLINE_DATA_DIR: dir };
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  }
  const sentAt = new Map<string, number>();
  const e2e: number[] = [];
  let delivered = 0;
  let allDelivered: () => void = () => {};
  const done = new Promise<void>((r) => (allDelivered = r));
  const seen = new Set<string>();
  const receiver = await startReceiver((id) => {
    if (seen.has(id)) return;
    seen.add(id);
    const t = sentAt.get(id);
    if (t !== undefined) e2e.push(performance.now() - t);
    if (++delivered === MESSAGES) allDelivered();
  });
  const gw = await startGateway(env);
  const pool = new Pool(gw.url, { connections: CONNECTIONS, pipelining: 1 });
  try {
    const tenant = await json(pool, 'POST', '/v1/tenants', OPERATOR, { name: 'bench' });
    const consumer = await json(pool, 'POST', '/v1/consumers', tenant.apiKey, { name: 'bench' });
    await json(pool, 'POST', `/v1/consumers/${consumer.id}/endpoints`, tenant.apiKey, { url: receiver.url });
    const payload = { invoice: 'inv_0001', amount: 4200, currency: 'EUR', lines: [{ sku: 'A-1', qty: 2 }, { sku: 'B-7', qty: 1 }] };
    const latencies: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < MESSAGES) {
          next++;
          const started = performance.now();
          const r = await pool.request({
            method: 'POST',
            path: `/v1/consumers/${consumer.id}/messages`,
            headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ eventType: 'invoice.paid', payload }),
          });
          const body = (await r.body.json()) as { id: string };
          if (r.statusCode !== 202) throw new Error(`publish answered ${r.statusCode}`);
          latencies.push(performance.now() - started);
          sentAt.set(body.id, started);
        }
      }),
    );
    const published = performance.now();
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${delivered} of ${MESSAGES} delivered`)), 600_000))]);
    const finished = performance.now();
    latencies.sort((a, b) => a - b);
    e2e.sort((a, b) => a - b);
    return {
      engine,
      messages: MESSAGES,
      publishPerSec: Math.round(MESSAGES / ((published - t0) / 1000)),
      publishP50Ms: +pct(latencies, 50).toFixed(1),
      publishP99Ms: +pct(latencies, 99).toFixed(1),
      deliveredPerSec: Math.round(MESSAGES / ((finished - t0) / 1000)),
      e2eP50Ms: +pct(e2e, 50).toFixed(1),
      e2eP99Ms: +pct(e2e, 99).toFixed(1),
    };
  } finally {
    await pool.close();
    gw.proc.kill('SIGTERM');
    await new Promise((r) => gw.proc.once('exit', r));
    receiver.close();
    await cleanup();
  }
}

const engines = args.engine === 'both' ? (['pglite', 'postgres'] as const) : [args.engine as 'pglite' | 'postgres'];
const results: Result[] = [];
for (const e of engines) results.push(await run(e));
console.table(results);
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.version}; ${CONNECTIONS} publishing connections, 1 consumer, 1 endpoint, all on one machine`);
if (args.json) fs.writeFileSync(args.json, JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
