// Per-event cost of the telemetry on the hot paths, in-process (no I/O): what one delivery adds
// (attempt counter + duration histogram + latency histogram), what one HTTP request adds, and the
// delivery span wrapper with tracing off. `npx tsx bench/telemetry-overhead.ts`
import { Counter, Histogram, Registry } from 'prom-client';
import { createMetrics, LATENCY_BUCKETS } from '../src/telemetry/metrics.ts';
import { withDeliverSpan, withPublishSpan } from '../src/telemetry/tracing.ts';

const N = 1_000_000;
const m = createMetrics({ version: 'bench', defaultMetrics: false });
const tenants = Array.from({ length: 100 }, (_, i) => `ten_${String(i).padStart(26, '0')}`);

function time(name: string, n: number, fn: (i: number) => void): number {
  for (let i = 0; i < 10_000; i++) fn(i); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${name.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns/event`);
  return ns;
}

async function timeAsync(name: string, n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 10_000; i++) await fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${name.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns/event`);
  return ns;
}

time('delivery: attempt(tenant, outcome, class, duration)', N, (i) => m.attempt(tenants[i % 100]!, 'success', '2xx', 0.012));
time('delivery: delivered(tenant, latency)', N, (i) => m.delivered(tenants[i % 100]!, 0.2));
time('delivery: attempt + delivered (one successful delivery)', N, (i) => {
  m.attempt(tenants[i % 100]!, 'success', '2xx', 0.012);
  m.delivered(tenants[i % 100]!, 0.2);
});
// For comparison: prom-client's own types through pre-bound children (it hashes the labels on every call).
const r = new Registry();
const pc = new Counter({ name: 'c_total', help: 'c', labelNames: ['tenant', 'outcome', 'status_class'], registers: [r] });
const ph = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['tenant'], buckets: LATENCY_BUCKETS, registers: [r] });
const pcChildren = tenants.map((t) => pc.labels(t, 'success', '2xx'));
const phChildren = tenants.map((t) => ph.labels(t));
time('(prom-client, bound children: counter inc + histogram observe)', N, (i) => {
  pcChildren[i % 100]!.inc();
  phChildren[i % 100]!.observe(0.2);
});
time('api: httpRequest(method, route, status, duration)', N, () => m.httpRequest('POST', '/v1/consumers/:consumer/messages', 202, 0.003));
time('api: publish(outcome)', N, () => m.publish('accepted'));
const info = { tenantId: 't', messageId: 'm', endpointId: 'e', deliveryId: 'd', attempt: 1, traceparent: null };
const noop = async () => 1;
const base = await timeAsync('baseline: await an async function', N, () => noop());
const span = await timeAsync('tracing off: withDeliverSpan(…, async fn)', N, () => withDeliverSpan(info, noop));
const pub = await timeAsync('tracing off: withPublishSpan(…, async fn)', N, () =>
  withPublishSpan({ tenantId: 't', consumer: 'c', eventType: 'e' }, noop),
);
console.log(`tracing off adds ≈ ${(span - base).toFixed(0)} ns per delivery attempt, ≈ ${(pub - base).toFixed(0)} ns per publish`);
const t0 = process.hrtime.bigint();
const text = await m.registry.metrics();
console.log(
  `scrape (100 tenants × 1 attempt series, no default metrics): ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2)} ms, ${text.length} bytes`,
);
