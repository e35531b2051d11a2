import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainDatabaseError } from '../../src/cli/db-errors.ts';
import { withDatabase } from '../global-setup.ts';
import { engine } from '../helpers/db.ts';
import { client } from '../helpers/client.ts';
import { OPERATOR_TOKEN, createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { BIN, killAll, printChildOutputOnFailure, runTramline } from '../helpers/process.ts';

printChildOutputOnFailure();
afterAll(killAll);

/** Each error a first-time user meets names the setting or the command that fixes it. */
describe('errors that say the fix: the API', () => {
  let gw: TestGateway;
  let tenant: TestTenant;
  beforeAll(async () => {
    // Production egress: nothing private or loopback allowed.
    gw = await startTestGateway({ env: { TRAMLINE_EGRESS_ALLOW: '' } });
    tenant = await createTenant(gw);
    await tenant.api.post('/v1/consumers', { name: 'Globex', uid: 'globex' });
  });
  afterAll(() => gw.stop());

  it('a loopback endpoint is refused with a detail naming TRAMLINE_EGRESS_ALLOW and tramline dev', async () => {
    const r = await tenant.api.post('/v1/consumers/globex/endpoints', { url: 'http://127.0.0.1:4000/webhooks' });
    expect(r.status).toBe(422);
    const problem = r.body as { detail: string };
    expect(problem.detail).toMatch(/127\.0\.0\.1 is loopback/);
    expect(problem.detail).toContain('TRAMLINE_EGRESS_ALLOW');
    expect(problem.detail).toContain('tramline dev');
  });

  it('the operator token on a tenant route answers 401 saying what it is and what is needed', async () => {
    const r = await client(gw.url, OPERATOR_TOKEN).get('/v1/consumers');
    expect(r.status).toBe(401);
    expect((r.body as { detail: string }).detail).toBe('this is an operator token; tenant routes need a tenant API key (tl_…)');
  });
});

describe.runIf(engine() === 'pglite')('errors that say the fix: the CLI', () => {
  it('a port in use names PORT, at once', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-port-'));
    try {
      const r = await runTramline(['start'], { TRAMLINE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toMatch(/Set PORT to a free port, e\.g\. PORT=\d+/);
      // Checked before the embedded database is opened: nothing was created.
      expect(fs.existsSync(path.join(dataDir, 'pgdata'))).toBe(false);
    } finally {
      blocker.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keys generate --version 2 prints a version-2 key, not the program version', async () => {
    const r = await runTramline(['keys', 'generate', '--version', '2'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^2:[A-Za-z0-9+/]{43}=\n$/);
  });

  it('help shows defaults as written and start --help names the settings', async () => {
    const probe = await runTramline(['probe', '--help'], {});
    expect(probe.stdout).toMatch(/\(default:\s+127\.0\.0\.1:0\)/);
    expect(probe.stdout).not.toContain('{"host"');
    const start = await runTramline(['start', '--help'], {});
    for (const v of ['PORT', 'TRAMLINE_DATA_DIR', 'DATABASE_URL', 'TRAMLINE_EGRESS_ALLOW', 'docs/configuration.md'])
      expect(start.stdout).toContain(v);
  });
});

describe.runIf(engine() === 'postgres')('errors that say the fix: a database owner without CREATEROLE', () => {
  it('migrate names the two roles and the SQL to create them by hand; after that SQL it succeeds', async () => {
    const base = process.env.DATABASE_URL!;
    const suffix = `${process.pid}_${Date.now().toString(36)}`;
    const owner = `tramline_owner_${suffix}`;
    const dbName = `tramline_norole_${suffix}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${owner} LOGIN NOCREATEROLE NOSUPERUSER`);
      await admin.query(`CREATE DATABASE ${dbName} OWNER ${owner}`);
      const url = new URL(withDatabase(base, dbName));
      url.username = owner;
      url.password = '';
      const env = { DATABASE_URL: url.toString() };

      // A genuine "permission denied to create role" from this server, explained.
      const asOwner = new pg.Client({ connectionString: url.toString() });
      await asOwner.connect();
      const denied = await asOwner.query(`CREATE ROLE tramline_never_${suffix}`).then(
        () => null,
        (err: unknown) => err,
      );
      await asOwner.end();
      const explained = explainDatabaseError(denied, url.toString()) as Error;
      expect(explained.message).toContain('permission denied to create role');
      expect(explained.message).toContain('CREATE ROLE tramline_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;');
      expect(explained.message).toContain('CREATE ROLE tramline_system NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;');
      expect(explained.message).toContain(`GRANT tramline_app, tramline_system TO ${owner};`);

      // The roles exist on this cluster (other databases created them) but the owner is no member yet.
      const before = await runTramline(['migrate'], env, 120_000);
      expect(before.code).toBe(1);
      expect(before.stderr).toContain(`GRANT tramline_app, tramline_system TO ${owner};`);

      // The administrator's part, as the message says (CREATE ROLE is a no-op here: the roles exist).
      await admin.query(`GRANT tramline_app, tramline_system TO ${owner}`);
      const after = await runTramline(['migrate'], env, 120_000);
      expect(after.stderr).toBe('');
      expect(after.code).toBe(0);
      expect(after.stdout).toMatch(/Applied: 0001_init/);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${owner}`).catch(() => {});
      await admin.end();
    }
  });
});

describe('the CLI and .env', () => {
  it('every command but start reads .env from the current folder; the environment wins', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-dotenv-'));
    try {
      fs.writeFileSync(path.join(dir, '.env'), 'TRAMLINE_URL=http://127.0.0.1:9/from-dotenv\nTRAMLINE_API_KEY=tl_from_dotenv\n');
      const exec = promisify(execFile);
      const r = await exec(process.execPath, [BIN, 'trigger', 'invoice.paid', '--consumer', 'globex'], {
        cwd: dir,
        env: { PATH: process.env.PATH },
      }).catch((e: { stderr: string; code: number }) => e);
      expect((r as { code: number }).code).toBe(1);
      // It went to the gateway named in .env (and, finding nothing there, sent no key).
      expect((r as { stderr: string }).stderr).toContain('Refusing to send credentials to http://127.0.0.1:9/from-dotenv');
      const r2 = await exec(process.execPath, [BIN, 'trigger', 'invoice.paid', '--consumer', 'globex'], {
        cwd: dir,
        env: { PATH: process.env.PATH, TRAMLINE_URL: 'http://127.0.0.1:9/from-env' },
      }).catch((e: { stderr: string }) => e);
      expect((r2 as { stderr: string }).stderr).toContain('http://127.0.0.1:9/from-env');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
