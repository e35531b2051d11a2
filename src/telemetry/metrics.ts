import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { FastCounter, FastHistogram, type CounterChild, type HistogramChild } from './fast-metrics.ts';

/**
 * Every Prometheus metric of one gateway (names and labels: /work/notes/metrics-contract.md and the
 * README). One registry per gateway, created in startGateway and handed to the API, the worker and the
 * scheduler, so several gateways in one process (tests) never share counters.
 *
 * The recording functions are on the delivery and request hot paths: their counters and histograms
 * are fast-metrics.ts's, whose label children are plain objects cached here (per tenant, per route),
 * so an update is a lookup and a few field increments. Rare events use prom-client's own types.
 */
export type AttemptOutcome = 'success' | 'retry' | 'failed';
export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'timeout' | 'network' | 'refused';
export type PublishOutcome = 'accepted' | 'duplicate' | 'rejected' | 'error';
export type DisableReason = 'gone' | 'failing';

const OUTCOMES: readonly AttemptOutcome[] = ['success', 'retry', 'failed'];
const CLASSES: readonly StatusClass[] = ['2xx', '3xx', '4xx', '5xx', 'timeout', 'network', 'refused'];

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the queue sampler reads from the database (see queue-sampler.ts). */
export interface QueueSample {
  due: number;
  scheduled: number;
  leased: number;
  oldestDueAgeSeconds: number;
  /** The endpoints with the most deliveries waiting for a retry, at most 20. */
  failing: ReadonlyArray<{ tenant: string; endpoint: string; waiting: number }>;
}

export interface Metrics {
  readonly registry: Registry;
  publish(outcome: PublishOutcome): void;
  /** One HTTP attempt: its outcome, what the endpoint (or the network) answered, and how long the request took. */
  attempt(tenant: string, outcome: AttemptOutcome, status: StatusClass, durationSeconds: number): void;
  /** Publish → successful delivery, once per delivered delivery. */
  delivered(tenant: string, latencySeconds: number): void;
  leasesExpired(count: number): void;
  endpointDisabled(reason: DisableReason): void;
  httpRequest(method: string, route: string, statusCode: number, durationSeconds: number): void;
  /** The worker's in-flight count, read at scrape time (no hot-path cost). */
  setLeasesHeld(read: () => number): void;
  /** The database sample behind the queue gauges, taken at scrape time (the sampler caches it). */
  setQueueSampler(sample: () => Promise<QueueSample | null>): void;
}

export const statusClassOf = (status: number): StatusClass =>
  status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx';

// Longer than 80 lines on purpose: every metric of the registry is declared here, one after the other, so
// the whole set (names, labels, buckets) reads in one place, as an operator's dashboard sees it.
export function createMetrics(o: { version: string; defaultMetrics?: boolean }): Metrics {
  const registry = new Registry();
  // Default process metrics are collected on scrape; tests that only count can turn them off.
  if (o.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'tramline_' });
    // Gauges named like counters (promtool refuses them); the same counts are in the per-type
    // tramline_nodejs_active_{handles,requests,resources} gauges.
    for (const n of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
      registry.removeSingleMetric(`tramline_nodejs_${n}`);
  }

  new Gauge({ name: 'tramline_build_info', help: 'Build information (value 1).', labelNames: ['version'], registers: [registry] })
    .labels(o.version)
    .set(1);

  const publishes = new FastCounter(
    'tramline_publishes_total',
    'Publish requests (POST /v1/consumers/:consumer/messages) by outcome.',
    ['outcome'],
    registry,
  );
  // Every outcome exported from the start (at 0), so rates and SLO ratios exist before the first error.
  const publishBy = {
    accepted: publishes.child('accepted'),
    duplicate: publishes.child('duplicate'),
    rejected: publishes.child('rejected'),
    error: publishes.child('error'),
  };

  const attempts = new FastCounter(
    'tramline_delivery_attempts_total',
    'Delivery attempts (one per HTTP request to an endpoint) by tenant, outcome and status class.',
    ['tenant', 'outcome', 'status_class'],
    registry,
  );
  const latency = new FastHistogram(
    'tramline_delivery_latency_seconds',
    'Time from publish (message created) to the successful delivery, per delivered delivery.',
    ['tenant'],
    LATENCY_BUCKETS,
    registry,
  );
  const duration = new FastHistogram(
    'tramline_delivery_duration_seconds',
    'Duration of the HTTP request to the endpoint alone.',
    [],
    DURATION_BUCKETS,
    registry,
  ).child();

  // Per tenant: the children of every (outcome, class) pair, created on first use.
  interface TenantChildren {
    attempts: Array<CounterChild | undefined>;
    latency: HistogramChild | undefined;
  }
  const byTenant = new Map<string, TenantChildren>();
  const tenantChildren = (tenant: string): TenantChildren => {
    let c = byTenant.get(tenant);
    if (!c) {
      c = { attempts: new Array(OUTCOMES.length * CLASSES.length), latency: undefined };
      byTenant.set(tenant, c);
    }
    return c;
  };

  let leasesHeld: () => number = () => 0;
  new Gauge({
    name: 'tramline_leases_held',
    help: 'Deliveries this worker process holds a lease on right now.',
    registers: [registry],
    collect() {
      this.set(leasesHeld());
    },
  });
  const leasesExpired = new Counter({
    name: 'tramline_leases_expired_total',
    help: 'Expired leases (their worker died or stalled) reaped back to the queue by this process.',
    registers: [registry],
  });
  const disabled = new Counter({
    name: 'tramline_endpoints_disabled_total',
    help: 'Endpoints the worker disabled, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  const disabledBy = { gone: disabled.labels('gone'), failing: disabled.labels('failing') };
  disabledBy.gone.inc(0); // exported at 0 from the start
  disabledBy.failing.inc(0);

  // Queue gauges: one sample (cached by the sampler) feeds all three; prom-client awaits a collect()
  // that returns a promise, and whichever gauge is collected first applies the sample to all.
  let sampler: (() => Promise<QueueSample | null>) | null = null;
  let applied: QueueSample | null = null;
  const refresh = async (): Promise<void> => {
    const s = sampler ? await sampler() : null;
    if (!s || s === applied) return;
    applied = s;
    depth.labels('due').set(s.due);
    depth.labels('scheduled').set(s.scheduled);
    depth.labels('leased').set(s.leased);
    oldest.set(s.oldestDueAgeSeconds);
    failing.reset(); // endpoints that left the top 20 disappear
    for (const f of s.failing) failing.labels(f.tenant, f.endpoint).set(f.waiting);
  };
  const depth = new Gauge({
    name: 'tramline_queue_depth',
    help: 'Deliveries pending, by state (sampled from the database at most every 5 s).',
    labelNames: ['state'],
    registers: [registry],
    collect: refresh,
  });
  const oldest = new Gauge({
    name: 'tramline_queue_oldest_due_age_seconds',
    help: 'Age of the oldest due delivery (now minus its due time); 0 when none is due.',
    registers: [registry],
    collect: refresh,
  });
  const failing = new Gauge({
    name: 'tramline_endpoint_failing',
    help: 'Deliveries waiting for a retry, for the (at most 20) endpoints with the most of them.',
    labelNames: ['tenant', 'endpoint'],
    registers: [registry],
    collect: refresh,
  });

  const httpRequests = new FastCounter(
    'tramline_http_requests_total',
    'HTTP requests served, by method, route pattern and status class.',
    ['method', 'route', 'status_class'],
    registry,
  );
  const httpDuration = new FastHistogram(
    'tramline_http_request_duration_seconds',
    'HTTP request duration, by method and route pattern.',
    ['method', 'route'],
    HTTP_BUCKETS,
    registry,
  );
  // Keyed by method, then route pattern: bounded by the routes the app declares (plus `unmatched`).
  interface RouteChildren {
    byClass: Map<string, CounterChild>;
    duration: HistogramChild;
  }
  const httpChildren = new Map<string, Map<string, RouteChildren>>();

  return {
    registry,
    publish(outcome) {
      publishBy[outcome].inc();
    },
    attempt(tenant, outcome, status, durationSeconds) {
      const c = tenantChildren(tenant);
      const i = OUTCOMES.indexOf(outcome) * CLASSES.length + CLASSES.indexOf(status);
      (c.attempts[i] ??= attempts.child(tenant, outcome, status)).inc();
      duration.observe(durationSeconds);
    },
    delivered(tenant, latencySeconds) {
      const c = tenantChildren(tenant);
      (c.latency ??= latency.child(tenant)).observe(Math.max(0, latencySeconds));
    },
    leasesExpired(count) {
      if (count > 0) leasesExpired.inc(count);
    },
    endpointDisabled(reason) {
      disabledBy[reason].inc();
    },
    httpRequest(method, route, statusCode, durationSeconds) {
      let byRoute = httpChildren.get(method);
      if (!byRoute) httpChildren.set(method, (byRoute = new Map()));
      let c = byRoute.get(route);
      if (!c) byRoute.set(route, (c = { byClass: new Map(), duration: httpDuration.child(method, route) }));
      const cls = statusClassOf(statusCode);
      let counter = c.byClass.get(cls);
      if (!counter) c.byClass.set(cls, (counter = httpRequests.child(method, route, cls)));
      counter.inc();
      c.duration.observe(durationSeconds);
    },
    setLeasesHeld(read) {
      leasesHeld = read;
    },
    setQueueSampler(sample) {
      sampler = sample;
    },
  };
}
