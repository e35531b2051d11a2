import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openPglite, openPostgres } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresTemplate: string | null;
  }
}

/**
 * Migrates one template per engine, once per run: a PGlite data-folder dump (loading it takes
 * well under a second, initdb takes seconds) and a Postgres template database that each test
 * file clones with CREATE DATABASE … TEMPLATE.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const engine = project.config.env?.TEST_DB;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-test-'));
  project.provide('pgliteTemplate', '');
  if (engine === 'pglite') {
    const lite = await openPglite({ dataDir: 'memory://' });
    await migrate(lite);
    const dump = await lite.pglite.dumpDataDir('none');
    await lite.close();
    const pgliteTemplate = path.join(dir, 'pglite-template.tar');
    fs.writeFileSync(pgliteTemplate, Buffer.from(await dump.arrayBuffer()));
    project.provide('pgliteTemplate', pgliteTemplate);
    if (!process.env.DATABASE_URL)
      console.log('SKIPPED: Postgres integration suite (DATABASE_URL is unset); integration tests ran on PGlite only');
    if (!process.env.REDIS_URL) console.log('SKIPPED: Redis rate-limit suite (REDIS_URL is unset)');
  }

  let template: string | null = null;
  const url = process.env.DATABASE_URL;
  if (url && engine === 'postgres') {
    template = `tramline_tpl_${process.pid}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${template}`);
    await admin.end();
    const db = openPostgres(withDatabase(url, template), 2);
    await migrate(db);
    await db.close();
  }
  project.provide('postgresTemplate', template);

  return async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (url && template) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const dbs = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${template}%`]);
      for (const { datname } of dbs.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      await admin.end();
    }
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
