import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startGateway } from './gateway.ts';

export type Engine = 'postgres' | 'pglite';

/** A fresh database for one scenario: a Postgres database `tramline_bench_*`, or an empty PGlite data folder. */
export interface BenchDatabase {
  readonly engine: Engine;
  /** Environment for the gateway: DATABASE_URL, or TRAMLINE_DATA_DIR for PGlite. */
  readonly env: Record<string, string>;
  /** Postgres only: the connection string of the bench database (as the admin user, who owns it). */
  readonly url: string | null;
  /** Postgres server processes serving this database (pg_stat_activity), for CPU accounting; [] on PGlite. */
  backendPids(): Promise<number[]>;
  drop(): Promise<void>;
}

export const adminUrl = (): string => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const withDb = (base: string, name: string): string => {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
};

export async function createDatabase(engine: Engine, label: string): Promise<BenchDatabase> {
  if (engine === 'pglite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tramline-bench-${label}-`));
    fs.cpSync(await pgliteTemplate(), dir, { recursive: true });
    return {
      engine,
      env: { TRAMLINE_DATA_DIR: dir },
      url: null,
      backendPids: async () => [],
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `tramline_bench_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = withDb(adminUrl(), name);
  return {
    engine,
    env: { DATABASE_URL: url },
    url,
    backendPids: async () =>
      (
        await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name])
      ).rows.map((r) => r.pid),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.end().catch(() => {});
    },
  };
}

let template: Promise<string> | null = null;

/**
 * An embedded data folder the gateway has initialised and migrated once (then stopped): each scenario
 * starts from a copy, so PGlite's initdb and the migrations (10–20 s on a busy 2-core machine) run once
 * per invocation instead of once per scenario. Removed when the process exits.
 */
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-bench-template-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const gw = await startGateway({ dbEnv: { TRAMLINE_DATA_DIR: dir } });
    await gw.stop();
    return dir;
  })();
  return template;
}

/** `15.20` of the Postgres server, or PGlite's package version. */
export async function engineVersion(engine: Engine): Promise<string> {
  if (engine === 'pglite') {
    const pkg = JSON.parse(
      fs.readFileSync(path.resolve(import.meta.dirname, '../../node_modules/@electric-sql/pglite/package.json'), 'utf8'),
    ) as { version: string };
    return `PGlite ${pkg.version}`;
  }
  const c = new pg.Client({ connectionString: adminUrl() });
  await c.connect();
  try {
    return `Postgres ${(await c.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version}`;
  } finally {
    await c.end();
  }
}

/** Runs SQL on the bench database as its owner (the admin user: row-level security does not apply). */
export async function asOwner<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
