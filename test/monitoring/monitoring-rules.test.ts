import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { selectors, substituteGrafanaVariables, type Selector } from './promql.ts';

/**
 * deploy/: the Prometheus rules and their unit tests run through the real promtool, and every
 * expression in the rules and the Grafana dashboards may only use the metrics (and label values)
 * the gateway exports, as agreed in the metrics contract below, or the recording rules.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PROM = path.join(ROOT, 'deploy/prometheus');
const DASHBOARDS = path.join(ROOT, 'deploy/grafana/dashboards');
const run = promisify(execFile);

const promtool = ['/usr/bin/promtool', ...(process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'promtool'))].find((p) =>
  fs.existsSync(p),
);
// CI installs promtool (.ci/run); a dev machine without it skips only the promtool checks. Written to
// stdout directly: console.log would get the reporter's colour codes in front of it, and CI greps ^SKIPPED:.
if (!promtool) process.stdout.write('SKIPPED: monitoring rules (promtool not found)\n');

/** The metrics contract: name → labels, with the values of enumerated labels. */
const STATUS = ['2xx', '3xx', '4xx', '5xx', 'timeout', 'network', 'refused'];
const CONTRACT: Record<string, { type: 'counter' | 'gauge' | 'histogram'; labels: Record<string, string[] | null> }> = {
  tramline_build_info: { type: 'gauge', labels: { version: null } },
  tramline_publishes_total: { type: 'counter', labels: { outcome: ['accepted', 'duplicate', 'rejected', 'error'] } },
  tramline_delivery_attempts_total: {
    type: 'counter',
    labels: { tenant: null, outcome: ['success', 'retry', 'failed'], status_class: STATUS },
  },
  tramline_delivery_latency_seconds: { type: 'histogram', labels: { tenant: null } },
  tramline_delivery_duration_seconds: { type: 'histogram', labels: {} },
  tramline_queue_depth: { type: 'gauge', labels: { state: ['due', 'scheduled', 'leased'] } },
  tramline_queue_oldest_due_age_seconds: { type: 'gauge', labels: {} },
  tramline_leases_held: { type: 'gauge', labels: {} },
  tramline_leases_expired_total: { type: 'counter', labels: {} },
  tramline_endpoints_disabled_total: { type: 'counter', labels: { reason: ['gone', 'failing'] } },
  tramline_endpoint_failing: { type: 'gauge', labels: { tenant: null, endpoint: null } },
  tramline_http_requests_total: { type: 'counter', labels: { method: null, route: null, status_class: STATUS } },
  tramline_http_request_duration_seconds: { type: 'histogram', labels: { method: null, route: null } },
  // Prometheus' own, per scrape target.
  up: { type: 'gauge', labels: {} },
};
/** collectDefaultMetrics({ prefix: 'tramline_' }); labels are prom-client's, not checked. */
const DEFAULT_METRIC_PREFIXES = ['tramline_process_', 'tramline_nodejs_'];
/** Added by Prometheus to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];

interface RuleFile {
  groups: Array<{
    name: string;
    interval?: string;
    rules: Array<{
      record?: string;
      alert?: string;
      expr: string;
      for?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }>;
  }>;
}
const readYaml = <T>(file: string): T => YAML.parse(fs.readFileSync(file, 'utf8')) as T;
const recording = readYaml<RuleFile>(path.join(PROM, 'recording-rules.yml'));
const alerting = readYaml<RuleFile>(path.join(PROM, 'alerts.yml'));
const recorded = new Set(recording.groups.flatMap((g) => g.rules.map((r) => r.record!)));
const alerts = alerting.groups.flatMap((g) => g.rules);

/** Problems with one expression's selectors against the contract; empty when it is fine. */
function checkSelectors(sels: Selector[]): string[] {
  const problems: string[] = [];
  for (const s of sels) {
    if (recorded.has(s.metric)) continue;
    if (DEFAULT_METRIC_PREFIXES.some((p) => s.metric.startsWith(p))) continue;
    const histogram = /^(.*)_(bucket|sum|count)$/.exec(s.metric);
    const base = CONTRACT[s.metric] ? s.metric : histogram && CONTRACT[histogram[1]!]?.type === 'histogram' ? histogram[1]! : null;
    if (!base) {
      problems.push(`unknown metric ${s.metric}`);
      continue;
    }
    const labels = CONTRACT[base]!.labels;
    for (const m of s.matchers) {
      const known = m.label in labels || TARGET_LABELS.includes(m.label) || (m.label === 'le' && s.metric.endsWith('_bucket'));
      if (!known) problems.push(`${s.metric} has no label ${m.label}`);
      const values = labels[m.label];
      if (values && m.op === '=' && !values.includes(m.value))
        problems.push(`${s.metric}{${m.label}="${m.value}"} is not a value the gateway exports (${values.join(', ')})`);
    }
  }
  return problems;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string; refId: string; datasource?: { uid: string } }>;
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; datasource?: { uid: string } }> };
}
const dashboardFiles = fs.readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
const dashboards = dashboardFiles.map((f) => ({ file: f, text: fs.readFileSync(path.join(DASHBOARDS, f), 'utf8') }));
const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const dashboardExprs = (d: Dashboard): Array<{ panel: string; expr: string }> =>
  allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

async function promtoolRun(args: string[], cwd: string): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout, stderr } = await run(promtool!, args, { cwd, timeout: 180_000 });
    return { ok: true, out: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

describe.skipIf(!promtool)('Prometheus rules through promtool', () => {
  it('promtool check rules accepts both rule files', async () => {
    const r = await promtoolRun(['check', 'rules', 'recording-rules.yml', 'alerts.yml'], PROM);
    expect(r.out).not.toMatch(/FAILED|error/i);
    expect(r.ok, r.out).toBe(true);
  });

  it('promtool check config accepts the example prometheus.yml (and the rule files it loads)', async () => {
    const r = await promtoolRun(['check', 'config', 'prometheus.yml'], PROM);
    expect(r.ok, r.out).toBe(true);
    expect(r.out).toMatch(/Checking recording-rules\.yml\n\s+SUCCESS/);
    expect(r.out).toMatch(/Checking alerts\.yml\n\s+SUCCESS/);
  });

  it('promtool test rules passes every rule unit test', async () => {
    const files = fs.readdirSync(path.join(PROM, 'tests')).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThan(0);
    const r = await promtoolRun(['test', 'rules', ...files.map((f) => path.join('tests', f))], PROM);
    expect(r.ok, r.out).toBe(true);
    expect(r.out.match(/SUCCESS/g)?.length).toBe(files.length);
  });

  it('every dashboard expression is valid PromQL (promtool check rules on a generated rule file)', async () => {
    const rules = dashboards.flatMap(({ file, text }) =>
      dashboardExprs(JSON.parse(text) as Dashboard).map((e, i) => ({
        record: `dashboard:${file.replace(/\W/g, '_')}:${i}`,
        expr: substituteGrafanaVariables(e.expr),
      })),
    );
    expect(rules.length).toBeGreaterThan(20);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-dashboards-'));
    try {
      fs.writeFileSync(path.join(dir, 'dashboards.yml'), YAML.stringify({ groups: [{ name: 'dashboards', rules }] }));
      const r = await promtoolRun(['check', 'rules', 'dashboards.yml'], dir);
      expect(r.ok, r.out).toBe(true);
      expect(r.out).toContain(`SUCCESS: ${rules.length} rules found`);
      // And the check does reject a broken expression.
      fs.writeFileSync(
        path.join(dir, 'broken.yml'),
        YAML.stringify({ groups: [{ name: 'b', rules: [{ record: 'x:y:z', expr: 'sum by (le (rate(x[5m]))' }] }] }),
      );
      expect((await promtoolRun(['check', 'rules', 'broken.yml'], dir)).ok).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Prometheus rules against the metrics contract', () => {
  it('every rule expression uses only contract metrics, their labels and label values, or recorded series', () => {
    const problems = [...recording.groups, ...alerting.groups].flatMap((g) =>
      g.rules.flatMap((r) => checkSelectors(selectors(r.expr)).map((p) => `${r.record ?? r.alert}: ${p}`)),
    );
    expect(problems).toEqual([]);
  });

  it('the check catches an unknown metric, an unknown label and an unexported label value', () => {
    expect(checkSelectors(selectors('sum(rate(tramline_publish_total[5m]))'))).toEqual(['unknown metric tramline_publish_total']);
    expect(checkSelectors(selectors('sum by (x) (rate(tramline_delivery_attempts_total{endpoint="e"}[5m]))'))).toEqual([
      'tramline_delivery_attempts_total has no label endpoint',
    ]);
    expect(checkSelectors(selectors('tramline_publishes_total{outcome="errors"} / on (x) group_left tramline:missing:rule'))).toEqual([
      'tramline_publishes_total{outcome="errors"} is not a value the gateway exports (accepted, duplicate, rejected, error)',
      'unknown metric tramline:missing:rule',
    ]);
    expect(
      checkSelectors(
        selectors(
          'histogram_quantile(0.99, sum by (le) (rate(tramline_delivery_latency_seconds_bucket{le="5", tenant=~"$tenant"}[$__rate_interval])))',
        ),
      ),
    ).toEqual([]);
  });

  it('every alert has a severity, a summary and an absolute runbook link to a heading of docs/operations.md', () => {
    const RUNBOOKS = 'https://github.com/tramline-dev/tramline/blob/main/docs/operations.md#';
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'operations.md'), 'utf8');
    const anchors = new Set([...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
    expect(alerts.length).toBeGreaterThan(0);
    for (const a of alerts) {
      expect(['page', 'ticket'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      const url = a.annotations?.runbook_url ?? '';
      expect(url.startsWith(RUNBOOKS), `${a.alert}: ${url}`).toBe(true);
      expect(anchors.has(url.slice(RUNBOOKS.length)), `${a.alert}: docs/operations.md has no heading for ${url}`).toBe(true);
    }
  });

  it('every alert (and severity) has a unit test where it fires and one where it must not', () => {
    type Test = { alert_rule_test?: Array<{ alertname: string; exp_alerts?: Array<{ exp_labels?: Record<string, string> }> }> };
    const tests = fs
      .readdirSync(path.join(PROM, 'tests'))
      .flatMap((f) => readYaml<{ tests: Test[] }>(path.join(PROM, 'tests', f)).tests.flatMap((t) => t.alert_rule_test ?? []));
    for (const a of alerts) {
      const mine = tests.filter((t) => t.alertname === a.alert);
      expect(
        mine.some((t) => (t.exp_alerts ?? []).length === 0),
        `${a.alert}: no test where it must stay silent`,
      ).toBe(true);
      const fired = mine.flatMap((t) => t.exp_alerts ?? []);
      expect(
        fired.some((e) => e.exp_labels?.severity === a.labels?.severity),
        `${a.alert} (${a.labels?.severity}): no test where it fires`,
      ).toBe(true);
    }
  });
});

describe('Grafana dashboards', () => {
  it('there are the three dashboards, with unique uids', () => {
    expect(dashboardFiles).toEqual(
      expect.arrayContaining(['tramline-overview.json', 'tramline-delivery-health.json', 'tramline-queue-database.json']),
    );
    const uids = dashboards.map(({ text }) => (JSON.parse(text) as Dashboard).uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  for (const { file, text } of dashboards) {
    describe(file, () => {
      it('parses, targets Grafana 10+ and picks Prometheus through the ${datasource} variable', () => {
        const d = JSON.parse(text) as Dashboard;
        expect(d.schemaVersion).toBeGreaterThanOrEqual(38);
        const ds = d.templating.list.find((v) => v.name === 'datasource');
        expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
        for (const p of allPanels(d).filter((p) => p.type !== 'row')) {
          expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
          expect(p.targets?.length, p.title).toBeGreaterThan(0);
        }
      });

      it('has unique panel ids and panels that fit the grid without overlapping', () => {
        const d = JSON.parse(text) as Dashboard;
        const panels = allPanels(d);
        const ids = panels.map((p) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const p of panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
        for (const [i, a] of panels.entries())
          for (const b of panels.slice(i + 1)) {
            const overlap =
              a.gridPos.x < b.gridPos.x + b.gridPos.w &&
              b.gridPos.x < a.gridPos.x + a.gridPos.w &&
              a.gridPos.y < b.gridPos.y + b.gridPos.h &&
              b.gridPos.y < a.gridPos.y + a.gridPos.h;
            expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
          }
      });

      it('queries only contract metrics, their labels and label values, or recorded series', () => {
        const d = JSON.parse(text) as Dashboard;
        const problems = dashboardExprs(d).flatMap((e) => checkSelectors(selectors(e.expr)).map((p) => `${e.panel}: ${p}`));
        expect(problems).toEqual([]);
        // Variables used in queries are defined, and the tenant variable reads a contract metric's tenant label.
        const defined = new Set(d.templating.list.map((v) => v.name));
        for (const e of dashboardExprs(d))
          for (const v of e.expr.matchAll(/\$(?!__)([a-zA-Z_]\w*)/g)) expect(defined.has(v[1]!), `${e.panel}: $${v[1]}`).toBe(true);
        const tenant = d.templating.list.find((v) => v.name === 'tenant');
        if (tenant) {
          const m = /^label_values\((\w+), tenant\)$/.exec(String(tenant.query));
          expect(m && 'tenant' in (CONTRACT[m[1]!]?.labels ?? {})).toBe(true);
        }
      });
    });
  }
});
