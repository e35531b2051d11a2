// Prometheus metrics, end to end: a real gateway publishes and delivers (a success, a retry that then
// succeeds, an endpoint that keeps failing, one that answers 410 Gone), then /metrics is scraped and its
// values checked; `promtool check metrics` lints the output; a real Prometheus scrapes the gateway.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { freePort } from '../helpers/process.ts';
import { parseMetrics, runWithInput, valueOf, type Sample } from '../helpers/prom.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';
const PUBLISH = '/v1/consumers/:consumer/messages';

let gw: TestGateway;
let t: TestTenant;
const receivers: Receiver[] = [];
let text = '';
let samples: Sample[] = [];
const ids: Record<string, string> = {};

async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

beforeAll(async () => {
  // Retries after 200 ms, then after an hour: the always-failing delivery ends up scheduled, waiting for a retry.
  gw = await startTestGateway({ env: { TRAMLINE_RETRY_SCHEDULE: '0s,200ms,1h' } });
  const ok = await startReceiver(() => ({ status: 200 }));
  const flaky = await startReceiver((_r, i) => (i === 0 ? { status: 500 } : { status: 200 }));
  const broken = await startReceiver(() => ({ status: 503 }));
  const gone = await startReceiver(() => ({ status: 410 }));
  receivers.push(ok, flaky, broken, gone);
  t = await createTenant(gw, 'Metrics Co');
  for (const [name, rx] of Object.entries({ ok, flaky, broken, gone })) {
    const c = await t.api.post('/v1/consumers', { name });
    const e = await t.api.post(`/v1/consumers/${c.body.id}/endpoints`, { url: `${rx.url}/hook` });
    expect(e.status).toBe(201);
    ids[name] = c.body.id;
    ids[`${name}Endpoint`] = e.body.id;
  }
  const published: Record<string, string> = {};
  for (const name of ['ok', 'flaky', 'broken', 'gone']) {
    const m = await t.api.post(`/v1/consumers/${ids[name]}/messages`, {
      eventType: 'invoice.paid',
      eventId: `evt-${name}`,
      payload: { name },
    });
    expect(m.status).toBe(202);
    published[name] = m.body.id;
  }
  // A duplicate (same eventId) and a rejected publish (no eventType).
  expect((await t.api.post(`/v1/consumers/${ids.ok}/messages`, { eventType: 'invoice.paid', eventId: 'evt-ok', payload: {} })).status).toBe(
    200,
  );
  expect((await t.api.post(`/v1/consumers/${ids.ok}/messages`, { payload: {} })).status).toBe(400);
  // An unmatched route.
  expect((await t.api.get('/v1/no-such-thing')).status).toBe(404);

  const deliveryOf = async (name: string) => (await t.api.get(`/v1/consumers/${ids[name]}/messages/${published[name]}`)).body.deliveries[0];
  await waitUntil(async () => (await deliveryOf('ok'))?.state === 'succeeded' || undefined, 15_000, 'ok delivered');
  await waitUntil(async () => (await deliveryOf('flaky'))?.state === 'succeeded' || undefined, 15_000, 'flaky delivered on retry');
  await waitUntil(async () => (await deliveryOf('gone'))?.state === 'failed' || undefined, 15_000, 'gone failed');
  await waitUntil(async () => ((await deliveryOf('broken'))?.attempts === 2 ? true : undefined), 15_000, 'broken tried twice');
  await sleep(100); // the last outcome's metrics are recorded right after its commit
  text = await scrape(gw.gateway.metricsUrl!);
  samples = parseMetrics(text);
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

describe('metrics', () => {
  it('counts publishes by outcome', () => {
    expect(valueOf(samples, 'tramline_publishes_total', { outcome: 'accepted' })).toBe(4);
    expect(valueOf(samples, 'tramline_publishes_total', { outcome: 'duplicate' })).toBe(1);
    expect(valueOf(samples, 'tramline_publishes_total', { outcome: 'rejected' })).toBe(1);
    expect(valueOf(samples, 'tramline_publishes_total', { outcome: 'error' })).toBe(0);
  });

  it('counts delivery attempts by tenant, outcome and status class, and their durations', () => {
    const a = (outcome: string, cls: string) =>
      valueOf(samples, 'tramline_delivery_attempts_total', { tenant: t.id, outcome, status_class: cls });
    expect(a('success', '2xx')).toBe(2); // ok, and flaky's retry
    expect(a('retry', '5xx')).toBe(3); // flaky's first attempt, broken's two
    expect(a('failed', '4xx')).toBe(1); // 410 Gone
    const attempts = samples.filter((s) => s.name === 'tramline_delivery_attempts_total').reduce((n, s) => n + s.value, 0);
    expect(attempts).toBe(6);
    expect(valueOf(samples, 'tramline_delivery_duration_seconds_count')).toBe(6);
    expect(valueOf(samples, 'tramline_delivery_duration_seconds_bucket', { le: '+Inf' })).toBe(6);
  });

  it('observes publish → delivered latency once per delivered delivery', () => {
    expect(valueOf(samples, 'tramline_delivery_latency_seconds_count', { tenant: t.id })).toBe(2);
    const sum = valueOf(samples, 'tramline_delivery_latency_seconds_sum', { tenant: t.id })!;
    // flaky waited ~200 ms for its retry; neither took more than the test's own timeout.
    expect(sum).toBeGreaterThan(0.15);
    expect(sum).toBeLessThan(30);
    expect(valueOf(samples, 'tramline_delivery_latency_seconds_bucket', { tenant: t.id, le: '5' })).toBe(2);
    expect(valueOf(samples, 'tramline_delivery_latency_seconds_bucket', { tenant: t.id, le: '0.005' })).toBeLessThan(2);
  });

  it('samples the queue from the database, and names the failing endpoints', () => {
    expect(valueOf(samples, 'tramline_queue_depth', { state: 'due' })).toBe(0);
    expect(valueOf(samples, 'tramline_queue_depth', { state: 'scheduled' })).toBe(1); // broken, retrying in an hour
    expect(valueOf(samples, 'tramline_queue_depth', { state: 'leased' })).toBe(0);
    expect(valueOf(samples, 'tramline_queue_oldest_due_age_seconds')).toBe(0);
    expect(valueOf(samples, 'tramline_endpoint_failing', { tenant: t.id, endpoint: ids.brokenEndpoint! })).toBe(1);
    expect(samples.filter((s) => s.name === 'tramline_endpoint_failing')).toHaveLength(1);
  });

  it('reports leases, disabled endpoints, build and process metrics', () => {
    expect(valueOf(samples, 'tramline_leases_held')).toBe(0);
    expect(valueOf(samples, 'tramline_leases_expired_total')).toBe(0);
    expect(valueOf(samples, 'tramline_endpoints_disabled_total', { reason: 'gone' })).toBe(1);
    expect(valueOf(samples, 'tramline_endpoints_disabled_total', { reason: 'failing' })).toBe(0);
    const build = samples.find((s) => s.name === 'tramline_build_info')!;
    expect(build.value).toBe(1);
    expect(build.labels.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(valueOf(samples, 'tramline_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(samples.some((s) => s.name.startsWith('tramline_nodejs_'))).toBe(true);
  });

  it('counts HTTP requests by route pattern, never by raw URL', () => {
    const h = (method: string, route: string, cls: string) =>
      valueOf(samples, 'tramline_http_requests_total', { method, route, status_class: cls });
    expect(h('POST', PUBLISH, '2xx')).toBe(5);
    expect(h('POST', PUBLISH, '4xx')).toBe(1);
    expect(h('GET', 'unmatched', '4xx')).toBe(1);
    expect(h('GET', `${PUBLISH}/:message`, '2xx')).toBeGreaterThanOrEqual(4);
    expect(valueOf(samples, 'tramline_http_request_duration_seconds_count', { method: 'POST', route: PUBLISH })).toBe(6);
    // Bounded labels: no message ids, consumer ids or URLs anywhere but the failing-endpoint gauge's endpoint id.
    const labelValues = samples.filter((s) => s.name !== 'tramline_endpoint_failing').flatMap((s) => Object.values(s.labels));
    expect(labelValues.filter((v) => /^(msg|con|ep|dlv)_|127\.0\.0\.1|no-such-thing/.test(v))).toEqual([]);
  });

  it('keeps /metrics out of the OpenAPI document', async () => {
    const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).not.toContain('/metrics');
    expect(Object.keys(doc.paths)).toContain('/v1/consumers/{consumer}/messages');
  });

  it('passes promtool check metrics', async (ctx) => {
    if (!fs.existsSync(PROMTOOL)) {
      console.log(`SKIPPED: promtool check metrics (${PROMTOOL} not installed; apt-get install prometheus)`);
      ctx.skip();
    }
    const r = await runWithInput(PROMTOOL, ['check', 'metrics'], text);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: '' });
    // It can fail: a counter without _total is a complaint.
    const bad = await runWithInput(
      PROMTOOL,
      ['check', 'metrics'],
      '# HELP x_requests a counter\n# TYPE x_requests counter\nx_requests 1\n',
    );
    expect(bad.stdout + bad.stderr).toMatch(/_total/);
  });

  it('counts the expired leases it reaps', async () => {
    // A dead worker's lease: the broken endpoint's delivery, leased by nobody alive, expired a second ago.
    await gw.testDb.db.owner((q) =>
      q.query(
        `UPDATE deliveries SET state = 'sending', lease_owner = 'dead-worker', lease_until = now() - interval '1 second' WHERE endpoint_id = $1`,
        [ids.brokenEndpoint],
      ),
    );
    const reaped = await waitUntil(
      async () => {
        const v = valueOf(parseMetrics(await scrape(gw.gateway.metricsUrl!)), 'tramline_leases_expired_total');
        return v !== undefined && v > 0 ? v : undefined;
      },
      15_000,
      'the lease reaped',
    );
    expect(reaped).toBe(1);
  });

  it('keeps the metrics off the API port, where every client could read every tenant’s traffic', async () => {
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(404);
    expect(new URL(gw.gateway.metricsUrl!).port).not.toBe(new URL(gw.url).port);
  });

  it('serves them on the API port too, to a scraper holding TRAMLINE_METRICS_TOKEN only', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const api = await startTestGateway({ role: 'api', env: { TRAMLINE_METRICS_TOKEN: token } });
    try {
      expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${api.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789abcdeX' } })).status).toBe(401);
      const ok = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('tramline_build_info');
    } finally {
      await api.stop();
    }
  });

  it('serves worker-only processes on TRAMLINE_METRICS_PORT', async () => {
    const worker = await startTestGateway({ role: 'worker', env: { TRAMLINE_METRICS_PORT: '0' } });
    try {
      expect(worker.gateway.url).toBeNull();
      expect(worker.gateway.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const s = parseMetrics(await scrape(worker.gateway.metricsUrl!));
      expect(valueOf(s, 'tramline_leases_held')).toBe(0);
      // Its own registry: nothing of the other gateway in this process.
      expect(valueOf(s, 'tramline_publishes_total', { outcome: 'accepted' })).toBe(0);
      expect((await fetch(`${worker.gateway.metricsUrl}/other`)).status).toBe(404);
    } finally {
      await worker.stop();
    }
  });

  it('is scraped by a real Prometheus', async (ctx) => {
    if (!fs.existsSync(PROMETHEUS)) {
      console.log(`SKIPPED: Prometheus scrape (${PROMETHEUS} not installed; apt-get install prometheus)`);
      ctx.skip();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-prom-'));
    const port = await freePort();
    const target = new URL(gw.gateway.metricsUrl!).host;
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: tramline\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    let prom: ChildProcess | undefined;
    let log = '';
    try {
      prom = spawn(
        PROMETHEUS,
        [
          `--config.file=${path.join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prom.stdout!.on('data', (c: Buffer) => (log += c.toString()));
      prom.stderr!.on('data', (c: Buffer) => (log += c.toString()));
      const query = async (q: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => null);
        if (!res || res.status !== 200) return undefined;
        const body = (await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
        return body.data.result.length > 0 ? body.data.result : undefined;
      };
      const result = await waitUntil(() => query('tramline_publishes_total'), 30_000, `Prometheus has tramline_publishes_total\n${log}`);
      const accepted = result.find((r) => r.metric.outcome === 'accepted')!;
      expect(accepted.metric).toMatchObject({ job: 'tramline', instance: target, __name__: 'tramline_publishes_total' });
      expect(Number(accepted.value[1])).toBe(4);
      const up = await query('up{job="tramline"}');
      expect(up?.[0]?.value[1]).toBe('1');
      // The SLO's histogram arrives with its buckets.
      const le5 = await query(`tramline_delivery_latency_seconds_bucket{le="5",tenant="${t.id}"}`);
      expect(Number(le5?.[0]?.value[1])).toBe(2);
    } finally {
      prom?.kill('SIGTERM');
      if (prom && prom.exitCode === null) await new Promise((r) => prom!.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
