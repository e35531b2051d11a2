import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { AppError } from '../errors.ts';
import { STORAGE_FULL_DETAIL, isDatabaseUnavailable, isStorageFull } from './unavailable.ts';
import { secureDataDir } from './data-dir.ts';
import { pgliteStatements } from './pglite-statements.ts';
import { executeText } from './sql-literal.ts';

export { sqlLiteral } from './sql-literal.ts';

/**
 * One store interface over two engines: a Postgres server (node-postgres pool) and
 * embedded PGlite (Postgres compiled to WASM, one connection). The same SQL runs on both.
 *
 * Every transaction the runtime opens switches to a restricted role with SET LOCAL ROLE,
 * so row-level security holds even when the connection string names a superuser:
 *  - `tenant(id, fn)`: role tramline_app, with `tramline.tenant_id` set for this
 *    transaction only (a pooled connection never carries it to the next request);
 *    the policies show that role nothing else, so a query that forgets the tenant sees nothing.
 *  - `system(fn)`: role tramline_system, the only cross-tenant path (API-key lookup,
 *    tenant administration, claiming due deliveries). It is never reachable from a
 *    tenant's request with that request's input alone.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /**
   * `name` makes it a prepared statement (parsed and planned once per connection, not on every call): for the
   * hot queries, whose text never changes. `last`: the transaction's last statement; it commits with it (on a
   * Postgres server, in the same round trip when named), and nothing may follow.
   */
  query<R = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    name?: string,
    how?: { last?: boolean },
  ): Promise<QueryResult<R>>;
  /** Several statements, no parameters (migrations). */
  exec(text: string): Promise<void>;
}

export type DbKind = 'pglite' | 'postgres';

/**
 * `oneStatement`: `fn` runs exactly one query, and the transaction commits with it (each query is `last`). On a
 * Postgres server a named query then travels with BEGIN and COMMIT in one round trip instead of three.
 */
export interface TxOptions {
  oneStatement?: boolean;
}

export interface Db {
  readonly kind: DbKind;
  tenant<T>(tenantId: string, fn: (q: Queryable) => Promise<T>, o?: TxOptions): Promise<T>;
  /** `noSort`: plan this transaction without sorts where any other plan exists (the claim: store/queue.ts). */
  system<T>(fn: (q: Queryable) => Promise<T>, o?: TxOptions & { noSort?: boolean }): Promise<T>;
  /** As the connecting (owner) role, without RLS roles: migrations and maintenance only. */
  owner<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** One statement as the owner outside any transaction: VACUUM and ANALYZE (store/maintenance.ts). */
  maintenance(sql: string): Promise<void>;
  /** Calls `onNotify` for each NOTIFY on `channel`; resolves once listening. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const APP_ROLE = 'tramline_app';
export const SYSTEM_ROLE = 'tramline_system';

export const TENANT_PREAMBLE = `SELECT set_config('role', '${APP_ROLE}', true), set_config('tramline.tenant_id', $1, true)`;
export const SYSTEM_PREAMBLE = `SELECT set_config('role', '${SYSTEM_ROLE}', true)`;

// --- Postgres server -------------------------------------------------------

export function openPostgres(url: string, poolSize: number): Db {
  // Keep timestamps as Date and bigint counts out of the schema's results (we cast to int).
  // A connection that cannot be made in 5 s fails the request (503) instead of holding it until the OS gives up.
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'tramline', connectionTimeoutMillis: 5_000 });
  pool.on('error', () => {
    /* an idle client died (server restart); the pool replaces it */
  });

  // BEGIN and the role switch travel in one round trip (simple protocol; the tenant id is a quoted literal).
  // No JIT: it compiles a plan that looks expensive on every execution, and the claim's estimate (a recursive
  // CTE) crossed jit_above_cost: ~1.2 s of LLVM per claim for a 10 ms query, the fleet down to a few deliveries
  // a second. Short OLTP statements never repay it.
  const begin = (role: 'tenant' | 'system' | 'owner', tenantId: string, noSort: boolean): string =>
    role === 'tenant'
      ? `BEGIN; SET LOCAL jit = off; SELECT set_config('role', '${APP_ROLE}', true), set_config('tramline.tenant_id', ${pg.escapeLiteral(tenantId)}, true)`
      : role === 'system'
        ? `BEGIN; SET LOCAL jit = off;${noSort ? ' SET LOCAL enable_sort = off;' : ''} ${SYSTEM_PREAMBLE}`
        : 'BEGIN; SET LOCAL jit = off';

  // Named (hot) queries run as EXECUTE of a statement prepared once per connection, with the parameters as
  // literals, over the simple protocol. That lets BEGIN and the role switch travel with a transaction's first
  // statement, and COMMIT with a one-statement transaction's only one: a round trip is a socket write and a
  // wake-up on both sides, and they were most of the gateway's CPU (bench/README.md). A pooler in front must
  // therefore run in session mode (docs/production.md): a transaction-mode one forgets what was prepared.
  const preparedOn = new WeakMap<pg.PoolClient, Set<string>>();
  async function prepare(client: pg.PoolClient, name: string, text: string): Promise<void> {
    let names = preparedOn.get(client);
    if (!names) preparedOn.set(client, (names = new Set()));
    if (names.has(name)) return;
    await client.query(`PREPARE ${name} AS ${text}`);
    names.add(name);
  }

  async function inTx<T>(
    role: 'tenant' | 'system' | 'owner',
    tenantId: string,
    fn: (q: Queryable) => Promise<T>,
    o: TxOptions & { noSort?: boolean } = {},
  ): Promise<T> {
    try {
      return await attempt(role, tenantId, fn, o);
    } catch (err) {
      // The database went away (restart, failover, network): a retry will work, so say so (503), not 500.
      if (isDatabaseUnavailable(err)) throw new AppError('UNAVAILABLE', 'The database is unavailable; retry shortly', { cause: err });
      if (isStorageFull(err)) throw new AppError('UNAVAILABLE', STORAGE_FULL_DETAIL, { cause: err });
      throw err;
    }
  }

  async function attempt<T>(
    role: 'tenant' | 'system' | 'owner',
    tenantId: string,
    fn: (q: Queryable) => Promise<T>,
    o: TxOptions & { noSort?: boolean },
  ): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no listener of the pool's: a connection lost mid-transaction (a restart,
    // a failover) would be an uncaught 'error' event and kill the process. The query in flight fails on
    // its own; this only keeps the process alive and the dead client out of the pool.
    const onLost = (err: Error): void => {
      broken = err;
    };
    client.on('error', onLost);
    // Not sent until the first query needs it: it goes with that query when the query is named.
    let opening: string | null = begin(role, tenantId, o.noSort === true);
    let committed = false;
    const open = async (): Promise<void> => {
      if (opening === null) return;
      const text = opening;
      opening = null;
      await client.query(text);
    };
    try {
      const q: Queryable = {
        query: async (text, values, name, how) => {
          if (committed) throw new Error('a statement after its transaction committed');
          const last = o.oneStatement === true || how?.last === true;
          if (!name) {
            await open();
            const r = await client.query({ text, values: values as unknown[] | undefined });
            if (last) {
              await client.query('COMMIT');
              committed = true;
            }
            return { rows: r.rows, rowCount: r.rowCount ?? 0 };
          }
          await prepare(client, name, text);
          const parts = [executeText(name, values)];
          if (opening !== null) parts.unshift(opening);
          if (last) parts.push('COMMIT');
          opening = null;
          const sent = (await client.query(parts.join('; '))) as unknown as pg.QueryResult | pg.QueryResult[];
          const results = Array.isArray(sent) ? sent : [sent];
          committed = last;
          const r = results[results.length - (committed ? 2 : 1)]!;
          return { rows: r.rows, rowCount: r.rowCount ?? 0 };
        },
        exec: async (text) => {
          await open();
          await client.query(text);
        },
      };
      const result = await fn(q);
      // Nothing sent (opening still pending): there is no transaction to end.
      if (opening === null && !committed) await client.query('COMMIT');
      return result;
    } catch (err) {
      if (opening === null && !committed) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr as Error;
        }
      }
      throw err;
    } finally {
      client.off('error', onLost);
      client.release(broken);
    }
  }

  return {
    kind: 'postgres',
    tenant: (tenantId, fn, o) => inTx('tenant', tenantId, fn, o),
    system: (fn, o) => inTx('system', '', fn, o),
    owner: (fn) => inTx('owner', '', fn),
    async listen(channel, onNotify) {
      let closed = false;
      let client: pg.Client | undefined;
      const connect = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: url, application_name: 'tramline-listen' });
        c.on('notification', (n) => {
          if (n.channel === channel) onNotify(n.payload ?? '');
        });
        c.on('error', () => {
          // Reconnect after a pause; callers also poll, so a lost wake-up only adds latency.
          c.end().catch(() => {});
          if (!closed) setTimeout(() => void connect().catch(() => {}), 1000).unref();
        });
        await c.connect();
        await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        client = c;
      };
      await connect();
      return async () => {
        closed = true;
        await client?.end().catch(() => {});
      };
    },
    // Throttled as autovacuum is (its default cost delay): a manual VACUUM otherwise runs flat out beside live traffic.
    async maintenance(sql) {
      const client = await pool.connect();
      try {
        await client.query("SET vacuum_cost_delay = '2ms'");
        await client.query(sql);
        await client.query('RESET vacuum_cost_delay');
        client.release();
      } catch (err) {
        client.release(err as Error); // not back to the pool with the setting still on
        throw err;
      }
    },
    close: () => pool.end(),
  };
}

// --- PGlite (embedded) -----------------------------------------------------

export interface PgliteOptions {
  /** A folder, or `memory://` */
  dataDir: string;
  /** A data-folder dump to start from (tests: a migrated template). */
  loadDataDir?: Blob;
}

export async function openPglite(opts: PgliteOptions): Promise<Db & { pglite: PGlite }> {
  const db = await PGlite.create(opts.dataDir, opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {});
  const statements = pgliteStatements();
  // A full data folder is said as such (503 + Retry-After), not as an internal error.
  const transaction: typeof db.transaction = (fn) =>
    db.transaction(fn).catch((err: unknown) => {
      throw isStorageFull(err) ? new AppError('UNAVAILABLE', STORAGE_FULL_DETAIL, { cause: err }) : err;
    });
  const inTx = <T>(
    preamble: string | null,
    params: unknown[],
    fn: (q: Queryable) => Promise<T>,
    o: TxOptions & { noSort?: boolean } = {},
  ): Promise<T> =>
    // PGlite serialises transactions itself: one connection, one transaction at a time.
    transaction(async (t) => {
      const tx = statements.open(t, preamble, params, o.noSort === true);
      // PGlite commits when fn returns; a statement after the last is refused all the same, as on a server.
      let done = false;
      return fn({
        query: async (text, values, name, how) => {
          if (done) throw new Error('a statement after its transaction committed');
          done = o.oneStatement === true || how?.last === true;
          const r = await tx.query(text, values, name);
          return r as { rows: never[]; rowCount: number };
        },
        exec: (text) => tx.exec(text),
      });
    });
  return {
    kind: 'pglite',
    pglite: db,
    tenant: (tenantId, fn, o) => inTx(TENANT_PREAMBLE, [tenantId], fn, o),
    system: (fn, o) => inTx(SYSTEM_PREAMBLE, [], fn, o),
    owner: (fn) => inTx(null, [], fn),
    // Waits its turn like a transaction: PGlite runs one statement or transaction at a time.
    async maintenance(sql) {
      await db.exec(sql);
    },
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, onNotify);
      return async () => {
        await unlisten();
      };
    },
    close: () => db.close(),
  };
}

/** Lock files this process wrote and still holds (to tell them from a stale file that happens to name our pid). */
const heldLocks = new Set<string>();

/**
 * The embedded data folder can be opened by one process at a time. A pid file makes a
 * second process (a CLI command while the gateway runs) fail clearly instead of corrupting it.
 * A file naming our own pid that we do not hold is stale: a container's gateway is PID 1 on
 * every start, so after a kill -9 the restarted process finds its own pid in the file.
 */
export function lockDataDir(dataDir: string): () => void {
  secureDataDir(dataDir);
  const lockPath = path.join(dataDir, 'tramline.pid');
  for (let i = 0; i < 2; i++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      heldLocks.add(lockPath);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        heldLocks.delete(lockPath);
        try {
          fs.unlinkSync(lockPath);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(lockPath, 'utf8'));
      const inUse = pid === process.pid ? heldLocks.has(lockPath) : Number.isInteger(pid) && pid > 0 && isAlive(pid);
      if (inUse) {
        throw new DataDirLockedError(
          `The data folder ${dataDir} is in use by process ${pid} (a running gateway?). ` +
            `Embedded Postgres can be opened by one process at a time: stop it first, or point DATABASE_URL at a Postgres server.`,
        );
      }
      fs.unlinkSync(lockPath); // stale: its process is gone
    }
  }
  throw new DataDirLockedError(`Could not lock ${lockPath}`);
}

export class DataDirLockedError extends Error {}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
