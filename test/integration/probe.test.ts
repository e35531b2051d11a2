// `tramline probe` as a real process against a real gateway: it passes on a working product, fails on
// the `deliver` step when delivery is broken while the API stays healthy, and serves its metrics.
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';
import { freePort, killAll, printChildOutputOnFailure, runTramline, spawnTramline } from '../helpers/process.ts';
import { waitUntil } from '../helpers/wait.ts';

const CHROMIUM = '/usr/bin/chromium';
/** The dashboard user the probe makes for its default consumer (src/probe/dashboard-user.ts). */
const PROBE_USER = 'tramline-probe@probe.tramline.invalid';
const PROMTOOL = '/usr/bin/promtool';
const executable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

interface Summary {
  ok: boolean;
  failedStep: string | null;
  error: string | null;
  marker: string;
  messageId: string | null;
  endpointId: string | null;
  setupChanges: string[];
  publishSeconds: number | null;
  publishToDeliveredSeconds: number | null;
  steps: Record<string, { status: string; seconds: number; detail?: string }>;
}

const parse = (stdout: string): Summary => JSON.parse(stdout.trim().split('\n').at(-1)!) as Summary;

/** Sessions of a user that still open the dashboard (the probe signs out after each walk). */
async function liveSessions(userId: string): Promise<number> {
  const r = await testDb.db.system((q) =>
    q.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()', [
      userId,
    ]),
  );
  return r.rows[0]!.n;
}

let testDb: TestDb;
let gw: TestGateway;
let t: TestTenant;

printChildOutputOnFailure();
beforeAll(async () => {
  testDb = await openTestDb();
  gw = await startTestGateway({ testDb });
  t = await createTenant(gw, 'Probe tenant');
});
afterAll(async () => {
  await killAll();
  await gw?.stop();
  await testDb?.close();
});

const probe = (args: string[], env: Record<string, string> = {}, timeoutMs = 90_000) =>
  runTramline(['probe', '--url', gw.url, '--token', t.key, '--once', '--json', ...args], env, timeoutMs);

// Each test starts the CLI (tsx) once or twice: allow for a busy machine.
describe('tramline probe', { timeout: 180_000 }, () => {
  it('runs the whole flow once, creating its consumer and endpoint, and reuses them on the next run', async () => {
    const withBrowser = executable(CHROMIUM);
    if (!withBrowser) console.log(`SKIPPED: probe browser step (no Chromium at ${CHROMIUM})`);
    const run = await probe([], { CHROMIUM_PATH: CHROMIUM });
    expect(run.timedOut).toBe(false);
    expect(run.code, run.stderr).toBe(0);
    const s = parse(run.stdout);
    expect(s).toMatchObject({ ok: true, failedStep: null, error: null });
    for (const step of ['setup', 'publish', 'deliver', 'signature', 'readback']) expect(s.steps[step]!.status, step).toBe('ok');
    expect(s.steps.browser!.status).toBe(withBrowser ? 'ok' : 'skipped');
    expect(s.publishSeconds).toBeGreaterThan(0);
    expect(s.publishToDeliveredSeconds).toBeGreaterThanOrEqual(s.publishSeconds!);
    expect(s.publishToDeliveredSeconds).toBeLessThan(10);
    expect(s.setupChanges).toEqual([
      expect.stringMatching(/^created consumer tramline-probe$/),
      expect.stringMatching(/^created endpoint ep_/),
      ...(withBrowser ? [`created dashboard user ${PROBE_USER} (viewer)`] : []),
    ]);

    // The gateway's own record agrees: the message carries the marker and its delivery succeeded.
    const m = await t.api.get(`/v1/consumers/tramline-probe/messages/${s.messageId}`);
    expect(m.body.payload.marker).toBe(s.marker);
    expect(m.body.deliveries).toEqual([expect.objectContaining({ endpointId: s.endpointId, state: 'succeeded' })]);

    if (withBrowser) {
      // The dashboard walk signed in as the probe's own viewer, through the form, and signed out again.
      const users = (await t.api.get('/v1/users')).body.data as {
        id: string;
        email: string;
        role: string;
        status: string;
        lastSignInAt: string | null;
      }[];
      const user = users.find((u) => u.email === PROBE_USER);
      expect(user).toMatchObject({ role: 'viewer', status: 'active', lastSignInAt: expect.any(String) });
      expect(await liveSessions(user!.id)).toBe(0);
      const audit = (await t.api.get('/v1/audit-log?limit=100')).body.data as { action: string; actor: string }[];
      expect(audit.filter((a) => a.actor === `user:${user!.id}`).map((a) => a.action)).toContain('session.sign_in');
    }

    // Second run: same endpoint, only its URL follows the receiver's new port; no new endpoint.
    const again = parse((await probe(['--no-browser'])).stdout);
    expect(again.ok).toBe(true);
    expect(again.endpointId).toBe(s.endpointId);
    expect(again.setupChanges).toEqual([`updated endpoint ${s.endpointId}: url`]);
    expect(again.steps.browser).toMatchObject({ status: 'skipped', detail: 'switched off (--no-browser)' });
    const endpoints = await t.api.get('/v1/consumers/tramline-probe/endpoints');
    expect(endpoints.body.data).toHaveLength(1);
  });

  it('reports the browser step as skipped, not failed, when there is no Chromium, and says so in its text summary', async () => {
    const run = await probe([], { CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(run.code, run.stderr).toBe(0);
    expect(parse(run.stdout).steps.browser).toEqual({
      status: 'skipped',
      seconds: 0,
      detail: 'no Chromium at /nonexistent/chromium (set CHROMIUM_PATH): the dashboard walk did not run',
    });
    const text = await runTramline(
      ['probe', '--url', gw.url, '--token', t.key, '--once'],
      { CHROMIUM_PATH: '/nonexistent/chromium' },
      90_000,
    );
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^ {2}browser +skipped +no Chromium at \/nonexistent\/chromium \(set CHROMIUM_PATH\): the dashboard walk did not run$/m,
    );
  });

  it.skipIf(!executable(CHROMIUM))(
    'replaces a dashboard user whose password it does not know, and fails naming the dashboard when /app is not served',
    async () => {
      // A new probe process does not know the password of the user the last one made: it replaces that user.
      const before = ((await t.api.get('/v1/users')).body.data as { id: string; email: string }[]).find((u) => u.email === PROBE_USER);
      const run = await probe([], { CHROMIUM_PATH: CHROMIUM });
      expect(run.code, run.stderr).toBe(0);
      const s = parse(run.stdout);
      expect(s.steps.browser!.status).toBe('ok');
      if (before) expect(s.setupChanges).toContain(`replaced dashboard user ${PROBE_USER} (its password was not this probe's)`);
      const after = ((await t.api.get('/v1/users')).body.data as { id: string; email: string }[]).filter((u) => u.email === PROBE_USER);
      expect(after).toHaveLength(1);
      expect(after[0]!.id).not.toBe(before?.id);

      // The same database behind a gateway with no web build: every API step passes, the browser step names /app.
      const empty = mkdtempSync(path.join(tmpdir(), 'tramline-no-web-'));
      await gw.stop();
      const noWeb = await startTestGateway({ testDb, env: { TRAMLINE_WEB_DIR: empty } });
      try {
        const bad = await runTramline(
          ['probe', '--url', noWeb.url, '--token', t.key, '--once', '--json'],
          { CHROMIUM_PATH: CHROMIUM },
          90_000,
        );
        expect(bad.code).toBe(1);
        const b = parse(bad.stdout);
        expect(b.failedStep).toBe('browser');
        expect(b.error).toBe('browser: /app answered 404 (does the gateway serve the dashboard? see dist/web)');
        for (const step of ['setup', 'publish', 'deliver', 'signature', 'readback']) expect(b.steps[step]!.status, step).toBe('ok');
      } finally {
        await noWeb.stop();
        rmSync(empty, { recursive: true, force: true });
        gw = await startTestGateway({ testDb });
      }
    },
  );

  it('fails on the deliver step, exit non-zero, when the workers are gone while the API is healthy', async () => {
    // The same database behind an API-only gateway (the full one stopped): publishing works, nothing delivers.
    await gw.stop();
    const apiOnly = await startTestGateway({ testDb, role: 'api' });
    try {
      const run = await runTramline(
        ['probe', '--url', apiOnly.url, '--token', t.key, '--once', '--json', '--timeout', '2s', '--no-browser'],
        {},
        90_000,
      );
      expect(run.timedOut).toBe(false);
      expect(run.code).toBe(1);
      const s = parse(run.stdout);
      expect(s).toMatchObject({ ok: false, failedStep: 'deliver' });
      expect(s.steps.setup!.status).toBe('ok');
      expect(s.steps.publish!.status).toBe('ok');
      expect(s.steps.deliver!.status).toBe('failed');
      expect(s.steps.deliver!.seconds).toBeGreaterThanOrEqual(2);
      expect(s.error).toMatch(
        /^deliver: no delivery arrived at http:\/\/127\.0\.0\.1:\d+\/webhook within 2s \(the gateway says: delivery pending, 0 attempts\)$/,
      );
      expect(s.steps.signature).toMatchObject({ status: 'skipped', detail: 'not reached' });
      expect(run.stderr).toContain('probe FAILED at deliver: deliver: no delivery arrived');
      // Every process looks healthy: that is what the probe is for.
      const health = await fetch(`${apiOnly.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect((await fetch(`${apiOnly.url}/readyz`)).status).toBe(200);
    } finally {
      await apiOnly.stop();
      gw = await startTestGateway({ testDb });
    }
  });

  it('fails on the setup step, naming it, when the token is wrong', async () => {
    const run = await runTramline(['probe', '--url', gw.url, '--token', 'tl_not-a-key', '--once', '--json', '--no-browser'], {}, 90_000);
    expect(run.code).toBe(1);
    const s = parse(run.stdout);
    expect(s.failedStep).toBe('setup');
    expect(s.error).toMatch(/^setup: GET \/v1\/consumers\/tramline-probe answered 401/);
  });

  it('says to allow the probe in TRAMLINE_EGRESS_ALLOW when the gateway refuses its address', async () => {
    const run = await probe(['--no-browser', '--consumer', 'probe-private', '--public-url', 'http://10.1.2.3:8081']);
    expect(run.code).toBe(1);
    const s = parse(run.stdout);
    expect(s.failedStep).toBe('setup');
    expect(s.error).toContain('answered 422: address 10.1.2.3 is private');
    expect(s.error).toContain("add its address to the gateway's TRAMLINE_EGRESS_ALLOW");
  });

  it('pushes its metrics to a Pushgateway, keeping the last success when a run fails', async () => {
    // A real HTTP server in the Pushgateway's place, recording what is pushed.
    const http = await import('node:http');
    const pushes: { method: string; url: string; body: string }[] = [];
    const gateway = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        pushes.push({ method: req.method ?? '', url: req.url ?? '', body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const pushUrl = `http://127.0.0.1:${(gateway.address() as import('node:net').AddressInfo).port}`;
    try {
      expect((await probe(['--no-browser', '--pushgateway', pushUrl])).code).toBe(0);
      const bad = await runTramline(
        ['probe', '--url', gw.url, '--token', 'tl_not-a-key', '--once', '--json', '--no-browser', '--pushgateway', pushUrl],
        {},
        90_000,
      );
      expect(bad.code).toBe(1);
      expect(pushes.map((p) => `${p.method} ${p.url}`)).toEqual([
        'POST /metrics/job/tramline_probe/instance/tramline-probe',
        'POST /metrics/job/tramline_probe/instance/tramline-probe',
      ]);
      expect(pushes[0]!.body).toContain('tramline_probe_success{step="deliver"} 1');
      expect(pushes[0]!.body).toMatch(/^tramline_probe_last_success_timestamp_seconds \d/m);
      expect(pushes[1]!.body).toContain('tramline_probe_success{step="setup"} 0');
      // POST replaces only the metrics pushed: without this one, the Pushgateway keeps the last success.
      expect(pushes[1]!.body).not.toContain('tramline_probe_last_success_timestamp_seconds');
    } finally {
      gateway.close();
    }
  });

  it('fails within its timeout, naming the step, when the gateway does not answer', async () => {
    // A socket that accepts and never answers: the probe must not hang.
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    try {
      const run = await runTramline(
        ['probe', '--url', `http://127.0.0.1:${port}`, '--token', t.key, '--once', '--json', '--timeout', '1s', '--no-browser'],
        {},
        90_000,
      );
      expect(run.timedOut).toBe(false);
      expect(run.code).toBe(1);
      const s = parse(run.stdout);
      expect(s.error).toBe('setup: timed out after 1s');
      expect(s.steps.setup!.seconds).toBeGreaterThanOrEqual(1);
      expect(s.steps.setup!.seconds).toBeLessThan(5);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('loop mode serves Prometheus metrics that promtool accepts, and keeps its dashboard user from run to run', async () => {
    const withBrowser = executable(CHROMIUM);
    const port = await freePort();
    const p = spawnTramline(
      [
        'probe',
        '--url',
        gw.url,
        '--token',
        t.key,
        '--interval',
        '500ms',
        '--metrics-listen',
        `127.0.0.1:${port}`,
        '--json',
        ...(withBrowser ? [] : ['--no-browser']),
      ],
      { CHROMIUM_PATH: CHROMIUM },
    );
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const text = await waitUntil(
      async () => {
        const res = await fetch(metricsUrl).catch(() => null);
        const body = res ? await res.text() : '';
        return /tramline_probe_delivery_latency_seconds_count 2\b/.test(body) ? body : undefined;
      },
      90_000,
      'two probe runs in the metrics',
    );
    expect(text).toContain('tramline_probe_success{step="deliver"} 1');
    for (const step of ['setup', 'publish', 'signature', 'readback']) expect(text).toContain(`tramline_probe_success{step="${step}"} 1`);
    if (withBrowser) {
      expect(text).toContain('tramline_probe_success{step="browser"} 1');
      expect(text).toContain('tramline_probe_skipped{step="browser"} 0');
    } else {
      expect(text).not.toContain('tramline_probe_success{step="browser"}');
      expect(text).toContain('tramline_probe_skipped{step="browser"} 1');
    }
    expect(text).toContain('tramline_probe_skipped{step="deliver"} 0');
    expect(text).toMatch(/tramline_probe_duration_seconds\{step="deliver"\} \d/);
    expect(text).toMatch(/tramline_probe_publish_to_delivered_seconds \d/);
    expect(text).toMatch(/tramline_probe_delivery_latency_seconds_bucket\{le="5"\} 2\b/);
    expect(text).toMatch(/tramline_probe_delivery_latency_seconds_bucket\{le="\+Inf"\} 2\b/);
    expect(text).toContain('tramline_probe_runs_total{result="success"} 2');
    expect(text).toContain('tramline_probe_runs_total{result="failure"} 0');
    const lastSuccess = Number(/^tramline_probe_last_success_timestamp_seconds (\S+)$/m.exec(text)?.[1]);
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(30);

    if (executable(PROMTOOL)) {
      const checked = await new Promise<{ code: number; out: string }>((resolve) => {
        const child = execFile(PROMTOOL, ['check', 'metrics'], (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
        );
        child.stdin!.end(text);
      });
      expect(checked.out).toBe('');
      expect(checked.code).toBe(0);
    } else {
      console.log(`SKIPPED: promtool check metrics on the probe's output (no promtool at ${PROMTOOL})`);
    }

    const exit = await p.stop(15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    // Each run printed one JSON line on stdout.
    const lines = p.stdout().trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const runs = lines.map((l) => JSON.parse(l) as Summary);
    expect(runs.every((r) => r.ok)).toBe(true);
    if (withBrowser) {
      // One dashboard user for the process: made (or replaced) by the first run, reused by the next ones.
      expect(runs[0]!.setupChanges.filter((c) => c.includes('dashboard user'))).toHaveLength(1);
      for (const r of runs.slice(1)) expect(r.setupChanges.filter((c) => c.includes('dashboard user'))).toEqual([]);
    }
  });
});
