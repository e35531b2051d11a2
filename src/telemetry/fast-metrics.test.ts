import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from './fast-metrics.ts';

// The fast types must print exactly what prom-client's own types print for the same updates.
describe('fast metrics', () => {
  it('match prom-client Counter and Histogram output', async () => {
    const buckets = [0.005, 0.01, 0.1, 1, 5];
    const values = [0, 0.005, 0.0051, 0.01, 0.2, 1, 4.99, 5, 7, 100, 0.05];
    const ours = new Registry();
    const theirs = new Registry();
    const fc = new FastCounter('x_events_total', 'Events.', ['tenant', 'outcome'], ours);
    const pc = new Counter({ name: 'x_events_total', help: 'Events.', labelNames: ['tenant', 'outcome'], registers: [theirs] });
    const fh = new FastHistogram('x_seconds', 'Seconds.', ['tenant'], buckets, ours);
    const ph = new Histogram({ name: 'x_seconds', help: 'Seconds.', labelNames: ['tenant'], buckets, registers: [theirs] });
    for (const [i, v] of values.entries()) {
      const tenant = i % 2 ? 'a' : 'b';
      fc.child(tenant, 'ok').inc();
      pc.labels(tenant, 'ok').inc();
      fh.child(tenant).observe(v);
      ph.labels(tenant).observe(v);
    }
    fc.child('a', 'failed').inc(3);
    pc.labels('a', 'failed').inc(3);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('exports a label-less histogram at zero before any observation', async () => {
    const r = new Registry();
    new FastHistogram('y_seconds', 'Y.', [], [1], r).child();
    expect(await r.metrics()).toBe(
      '# HELP y_seconds Y.\n# TYPE y_seconds histogram\ny_seconds_bucket{le="1"} 0\ny_seconds_bucket{le="+Inf"} 0\ny_seconds_sum 0\ny_seconds_count 0\n',
    );
  });
});
