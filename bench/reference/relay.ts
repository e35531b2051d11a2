/**
 * The bare pipeline Tramline is compared with: the least a durable relay can do, and nothing more.
 * No auth, no signing, no tenants, no retries schedule. A separate Node process:
 *
 *   - ingest: node:http, POST /publish `{ target, payload }` → JSON.parse → group commit: everything that
 *     arrived while the previous commit was in flight goes into one `INSERT … SELECT FROM unnest(…)`;
 *     each request gets its 202 `{ id }` after its commit;
 *   - delivery: a claim loop (`FOR UPDATE SKIP LOCKED LIMIT 50`, rows marked in flight in the same
 *     statement), undici POSTs to the receiver with keep-alive, completions batched into one UPDATE.
 *
 * Usage: node --import tsx bench/reference/relay.ts (env DATABASE_URL, PORT, RECEIVER_URL).
 */
import http from 'node:http';
import pg from 'pg';
import { Pool as HttpPool } from 'undici';

const DATABASE_URL = process.env.DATABASE_URL!;
const PORT = Number(process.env.PORT ?? 0);
const RECEIVER_URL = process.env.RECEIVER_URL!;
const CLAIM = 50;
const MAX_IN_FLIGHT = 256;

const db = new pg.Pool({ connectionString: DATABASE_URL, max: 6 });
await db.query(`
  CREATE TABLE IF NOT EXISTS relay_events (
    seq      bigserial PRIMARY KEY,
    id       text NOT NULL,
    target   text NOT NULL,
    payload  text NOT NULL,
    state    smallint NOT NULL DEFAULT 0 -- 0 due, 1 in flight, 2 done
  );
  CREATE INDEX IF NOT EXISTS relay_events_due ON relay_events (seq) WHERE state = 0;
`);

// --- ingest with group commit ---
interface Pending {
  id: string;
  target: string;
  payload: string;
  res: http.ServerResponse;
}
let queue: Pending[] = [];
let committing = false;
let counter = 0;
const prefix = `ref_${process.pid}_`;

async function commit(): Promise<void> {
  if (committing || queue.length === 0) return;
  committing = true;
  const batch = queue;
  queue = [];
  try {
    await db.query('INSERT INTO relay_events (id, target, payload) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])', [
      batch.map((p) => p.id),
      batch.map((p) => p.target),
      batch.map((p) => p.payload),
    ]);
    for (const p of batch) p.res.writeHead(202, { 'content-type': 'application/json' }).end(`{"id":"${p.id}"}`);
    wake();
  } catch (err) {
    for (const p of batch) p.res.writeHead(500).end(String(err));
  } finally {
    committing = false;
    if (queue.length > 0) void commit();
  }
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/readyz') return void res.writeHead(200).end('ok');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: { target?: unknown; payload?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return void res.writeHead(400).end('bad json');
    }
    if (typeof body.target !== 'string' || body.payload === undefined) return void res.writeHead(400).end('target and payload required');
    queue.push({ id: prefix + counter++, target: body.target, payload: JSON.stringify(body.payload), res });
    void commit();
  });
});
server.keepAliveTimeout = 60_000;

// --- delivery ---
const receiver = new HttpPool(RECEIVER_URL, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 });
let inFlight = 0;
let claiming = false;
let again = false;
let done: string[] = [];
let failed: string[] = [];
let completing = false;

function wake(): void {
  if (claiming) {
    again = true;
    return;
  }
  void claimLoop();
}

async function claimLoop(): Promise<void> {
  claiming = true;
  try {
    do {
      again = false;
      while (inFlight <= MAX_IN_FLIGHT - CLAIM) {
        const { rows } = await db.query<{ seq: string; id: string; target: string; payload: string }>(
          `UPDATE relay_events SET state = 1 WHERE seq IN (
             SELECT seq FROM relay_events WHERE state = 0 ORDER BY seq LIMIT ${CLAIM} FOR UPDATE SKIP LOCKED
           ) RETURNING seq, id, target, payload`,
        );
        if (rows.length === 0) break;
        for (const r of rows) void deliver(r);
      }
    } while (again);
  } finally {
    claiming = false;
  }
}

async function deliver(r: { seq: string; id: string; target: string; payload: string }): Promise<void> {
  inFlight++;
  try {
    const res = await receiver.request({
      method: 'POST',
      path: r.target,
      body: r.payload,
      headers: { 'content-type': 'application/json', 'webhook-id': r.id },
    });
    await res.body.dump();
    (res.statusCode < 300 ? done : failed).push(r.seq);
  } catch {
    failed.push(r.seq);
  } finally {
    inFlight--;
    void complete();
    if (inFlight <= MAX_IN_FLIGHT - CLAIM) wake();
  }
}

async function complete(): Promise<void> {
  if (completing || (done.length === 0 && failed.length === 0)) return;
  completing = true;
  const ok = done;
  const bad = failed;
  done = [];
  failed = [];
  try {
    if (ok.length) await db.query('UPDATE relay_events SET state = 2 WHERE seq = ANY($1::bigint[])', [ok]);
    if (bad.length) await db.query('UPDATE relay_events SET state = 0 WHERE seq = ANY($1::bigint[])', [bad]);
  } finally {
    completing = false;
    if (done.length || failed.length) void complete();
  }
}

// Rows due but not woken for (a failed delivery put back): a slow poll covers them.
setInterval(wake, 250).unref();

server.listen(PORT, '127.0.0.1', () => {
  const a = server.address() as { port: number };
  process.stdout.write(`relay listening on ${a.port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void receiver
    .close()
    .then(() => db.end())
    .then(() => process.exit(0));
});
