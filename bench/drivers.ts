/**
 * node-postgres (`pg`) against postgres.js (`postgres`) on this machine's Postgres, for the gateway's own query
 * shapes: a publish transaction (a multi-row INSERT of B messages, then one of B deliveries, as a restricted role
 * with the tenant set for the transaction; B = 1 and B = 20, 8 transactions in flight) and a point read by primary
 * key (32 in flight, no transaction, no role switch). Each driver in its best idiomatic form, 4 connections each:
 *  - pg as the gateway uses it (src/store/db.ts): statements PREPAREd once per connection and run as EXECUTE over
 *    the simple protocol; BEGIN, SET LOCAL jit and the role switch travel with the first INSERT, COMMIT with the
 *    second: two round trips. Point reads: a named query (extended protocol).
 *  - postgres.js: sql.begin with the role switch and both INSERTs returned as an array, so they are pipelined
 *    (BEGIN and COMMIT are a round trip each: three in all). Its statements are prepared by default.
 * Prints operations/s, the client's CPU per operation (process.cpuUsage) and the Postgres backends' CPU per
 * operation (/proc/<pid>/stat of the bench database's backends), run interleaved: pg, postgres, pg, postgres.
 *
 *   npx tsx bench/drivers.ts [--seconds 12] [--read-seconds 10] [--rounds 2]
 *
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres, a superuser) is the admin connection: a
 * database bench_drivers_<random> and a role to switch to are created for the run and dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';
import { executeText } from '../src/store/sql-literal.ts';
import { cpuSeconds } from './lib/cpu.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '12' },
    'read-seconds': { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
  },
});
const publishSeconds = Number(args.seconds);
const readSeconds = Number(args['read-seconds']);
const rounds = Number(args.rounds);
const POOL = 4;
const PUBLISH_CONCURRENCY = 8;
const READ_CONCURRENCY = 32;
const WARMUP_SECONDS = 1;
/** Messages in the table before each driver's turn; the point reads pick among them. */
const SEED = 20_000;

const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const tag = randomBytes(4).toString('hex');
const dbName = `bench_drivers_${tag}`;
const role = `bench_drivers_${tag}_app`;
const benchUrl = ((): string => {
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

const SCHEMA = `
  CREATE TABLE messages (
    id text PRIMARY KEY, consumer_id text, event_id text, payload text, created_at timestamptz DEFAULT now(),
    UNIQUE (consumer_id, event_id));
  CREATE INDEX ON messages (consumer_id, id DESC);
  CREATE TABLE deliveries (
    id text PRIMARY KEY, message_id text REFERENCES messages (id), endpoint_id text, state text,
    next_attempt_at timestamptz, UNIQUE (message_id, endpoint_id));
  CREATE INDEX ON deliveries (next_attempt_at) WHERE state = 'pending';
  GRANT SELECT, INSERT ON messages, deliveries TO ${role};`;

// The same statement text for both drivers (postgres.js's tagged templates below number their parameters alike).
const INSERT_MESSAGES = `INSERT INTO messages (id, consumer_id, event_id, payload)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
  ON CONFLICT (consumer_id, event_id) DO NOTHING RETURNING id, created_at`;
const INSERT_DELIVERIES = `INSERT INTO deliveries (id, message_id, endpoint_id, state, next_attempt_at)
  SELECT d.id, d.message_id, d.endpoint_id, 'pending', now() FROM unnest($1::text[], $2::text[], $3::text[]) AS d(id, message_id, endpoint_id)`;
const READ = 'SELECT * FROM messages WHERE id = $1';

interface Batch {
  tenant: string;
  ids: string[];
  consumers: string[];
  eventIds: string[];
  payloads: string[];
  deliveryIds: string[];
  endpoints: string[];
}

// ~300 bytes of JSON text per payload.
const FILLER = 'x'.repeat(200);
let serial = 0;
function batch(size: number): Batch {
  const b: Batch = { tenant: `ten_${serial % 50}`, ids: [], consumers: [], eventIds: [], payloads: [], deliveryIds: [], endpoints: [] };
  for (let i = 0; i < size; i++) {
    const n = (serial++).toString(36);
    b.ids.push(`msg_${tag}_${n}`);
    b.consumers.push(`con_${serial % 100}`);
    b.eventIds.push(`evt_${n}`);
    b.payloads.push(JSON.stringify({ type: 'invoice.paid', id: n, at: Date.now(), customer: { id: `cus_${n}`, note: FILLER } }));
    b.deliveryIds.push(`dlv_${tag}_${n}`);
    b.endpoints.push(`ep_${serial % 10}`);
  }
  return b;
}

const readId = (): string => `seed_${Math.floor(Math.random() * SEED)}`;

interface Driver {
  readonly name: string;
  publish(b: Batch): Promise<void>;
  read(id: string): Promise<unknown>;
  close(): Promise<void>;
}

function nodePostgres(): Driver {
  const pool = new pg.Pool({ connectionString: benchUrl, max: POOL, application_name: 'bench-pg' });
  const prepared = new WeakSet<pg.PoolClient>();
  return {
    name: 'pg',
    async publish(b) {
      const client = await pool.connect();
      try {
        if (!prepared.has(client)) {
          await client.query(`PREPARE ins_msg AS ${INSERT_MESSAGES}; PREPARE ins_dlv AS ${INSERT_DELIVERIES}`);
          prepared.add(client);
        }
        await client.query(
          `BEGIN; SET LOCAL jit = off; SELECT set_config('role', '${role}', true), set_config('tramline.tenant_id', ${pg.escapeLiteral(b.tenant)}, true); ` +
            executeText('ins_msg', [b.ids, b.consumers, b.eventIds, b.payloads]),
        );
        await client.query(`${executeText('ins_dlv', [b.deliveryIds, b.ids, b.endpoints])}; COMMIT`);
        client.release();
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        client.release(err as Error);
        throw err;
      }
    },
    read: (id) => pool.query({ name: 'read_msg', text: READ, values: [id] }),
    close: () => pool.end(),
  };
}

function postgresJs(): Driver {
  const sql = postgres(benchUrl, { max: POOL, connection: { application_name: 'bench-postgresjs' }, onnotice: () => {} });
  return {
    name: 'postgres',
    async publish(b) {
      await sql.begin((tx) => [
        tx`SELECT set_config('jit', 'off', true), set_config('role', ${role}, true), set_config('tramline.tenant_id', ${b.tenant}, true)`,
        tx`INSERT INTO messages (id, consumer_id, event_id, payload)
  SELECT * FROM unnest(${b.ids}::text[], ${b.consumers}::text[], ${b.eventIds}::text[], ${b.payloads}::text[])
  ON CONFLICT (consumer_id, event_id) DO NOTHING RETURNING id, created_at`,
        tx`INSERT INTO deliveries (id, message_id, endpoint_id, state, next_attempt_at)
  SELECT d.id, d.message_id, d.endpoint_id, 'pending', now() FROM unnest(${b.deliveryIds}::text[], ${b.ids}::text[], ${b.endpoints}::text[]) AS d(id, message_id, endpoint_id)`,
      ]);
    },
    read: (id) => sql`SELECT * FROM messages WHERE id = ${id}`,
    close: () => sql.end({ timeout: 5 }),
  };
}

const DRIVERS: Record<string, () => Driver> = { pg: nodePostgres, postgres: postgresJs };

/** `concurrency` loops calling `op` back to back until `seconds` have passed; the number of calls completed. */
async function runFor(seconds: number, concurrency: number, op: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let ops = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await op();
        ops++;
      }
    }),
  );
  return ops;
}

interface Row {
  shape: string;
  driver: string;
  round: number;
  opsPerSecond: number;
  clientUs: number;
  serverUs: number;
}

async function main(admin: pg.Client): Promise<Row[]> {
  const setup = new pg.Client({ connectionString: benchUrl, application_name: 'bench-setup' });
  await setup.connect();
  await setup.query(SCHEMA);
  // The driver's backends: this database's, less the setup connection's (idle during a measurement).
  const backendCpu = async (): Promise<Map<number, number>> => {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND application_name <> 'bench-setup'`,
      [dbName],
    );
    return new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid) ?? 0] as const));
  };
  // Before each driver's turn: the same starting tables (the seed the reads pick from), vacuumed and checkpointed.
  const reset = async (): Promise<void> => {
    await setup.query('TRUNCATE deliveries, messages');
    await setup.query(
      `INSERT INTO messages (id, consumer_id, event_id, payload)
       SELECT 'seed_' || n, 'con_' || (n % 100), 'seed_' || n, $1 FROM generate_series(0, ${SEED - 1}) AS n`,
      [batch(1).payloads[0]],
    );
    await setup.query('VACUUM ANALYZE messages, deliveries');
    await setup.query('CHECKPOINT');
  };

  const rows: Row[] = [];
  const measure = async (
    shape: string,
    driver: Driver,
    round: number,
    seconds: number,
    concurrency: number,
    op: () => Promise<unknown>,
  ): Promise<void> => {
    await runFor(WARMUP_SECONDS, concurrency, op); // connections open, statements prepared
    const server0 = await backendCpu();
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const ops = await runFor(seconds, concurrency, op);
    const elapsed = (performance.now() - t0) / 1000;
    const client = process.cpuUsage(client0);
    const server1 = await backendCpu();
    // A backend first seen at the end started during the run and counts from zero.
    let server = 0;
    for (const [pid, s] of server1) server += s - (server0.get(pid) ?? 0);
    const row = {
      shape,
      driver: driver.name,
      round,
      opsPerSecond: ops / elapsed,
      clientUs: (client.user + client.system) / ops,
      serverUs: (server * 1e6) / ops,
    };
    rows.push(row);
    process.stdout.write(
      `  ${shape.padEnd(11)} ${driver.name.padEnd(8)} round ${round}: ${row.opsPerSecond.toFixed(0)} ops/s, ` +
        `client ${row.clientUs.toFixed(0)} µs/op, Postgres ${row.serverUs.toFixed(0)} µs/op (${server1.size} backends)\n`,
    );
  };

  try {
    for (let round = 1; round <= rounds; round++) {
      for (const make of Object.values(DRIVERS)) {
        await reset();
        const driver = make();
        try {
          await measure('publish B=1', driver, round, publishSeconds, PUBLISH_CONCURRENCY, () => driver.publish(batch(1)));
          await measure('publish B=20', driver, round, publishSeconds, PUBLISH_CONCURRENCY, () => driver.publish(batch(20)));
          await measure('read', driver, round, readSeconds, READ_CONCURRENCY, () => driver.read(readId()));
        } finally {
          await driver.close();
        }
        // Every transaction committed both of its INSERTs.
        const { rows: counts } = await setup.query<{ m: number; d: number }>(
          'SELECT (SELECT count(*) FROM messages)::int - $1 AS m, (SELECT count(*) FROM deliveries)::int AS d',
          [SEED],
        );
        if (counts[0]!.d === 0 || counts[0]!.m !== counts[0]!.d) throw new Error(`${driver.name}: ${JSON.stringify(counts[0])}`);
      }
    }
  } finally {
    await setup.end();
  }
  return rows;
}

function report(rows: Row[]): void {
  const pad = (s: string | number, n: number): string => String(s).padStart(n);
  process.stdout.write(
    `\n${'shape'.padEnd(13)}${'driver'.padEnd(10)}${pad('round', 5)}${pad('ops/s', 9)}${pad('client µs/op', 14)}${pad('Postgres µs/op', 16)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.shape.padEnd(13)}${r.driver.padEnd(10)}${pad(r.round, 5)}${pad(r.opsPerSecond.toFixed(0), 9)}` +
        `${pad(r.clientUs.toFixed(0), 14)}${pad(r.serverUs.toFixed(0), 16)}\n`,
    );
  }
  // Means over the rounds, and postgres.js relative to pg.
  process.stdout.write('\nmean over rounds (postgres.js / pg)\n');
  for (const shape of [...new Set(rows.map((r) => r.shape))]) {
    const mean = (driver: string, key: 'opsPerSecond' | 'clientUs' | 'serverUs'): number => {
      const xs = rows.filter((r) => r.shape === shape && r.driver === driver).map((r) => r[key]);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    const cell = (key: 'opsPerSecond' | 'clientUs' | 'serverUs'): string =>
      `${mean('pg', key).toFixed(0)} vs ${mean('postgres', key).toFixed(0)} (x${(mean('postgres', key) / mean('pg', key)).toFixed(2)})`;
    process.stdout.write(
      `  ${shape.padEnd(13)} ops/s ${cell('opsPerSecond')}; client µs/op ${cell('clientUs')}; Postgres µs/op ${cell('serverUs')}\n`,
    );
  }
}

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
try {
  await admin.query(`CREATE ROLE ${role} NOLOGIN`);
  await admin.query(`GRANT ${role} TO CURRENT_USER`);
  await admin.query(`CREATE DATABASE ${dbName}`);
  process.stdout.write(
    `drivers: pg ${version('pg')} vs postgres.js ${version('postgres')}, ${POOL} connections each; publish ${publishSeconds} s, reads ${readSeconds} s\n`,
  );
  report(await main(admin));
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
}

function version(pkg: string): string {
  const file = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}
