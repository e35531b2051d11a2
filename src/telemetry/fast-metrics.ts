import type { Registry } from 'prom-client';

/**
 * Counters and histograms for the hot paths (one or more updates per delivery and per request).
 * prom-client hashes the label set on every `inc`/`observe`, even through a bound child; here a
 * child is a plain object the caller keeps, and an update is a field increment. The registry
 * reads them only when scraped, in prom-client's own metric format, so they print like any other.
 */
interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface Collectable {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: string;
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] };
}

export class CounterChild {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative; summed up at scrape), the last one for +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Record<string, string>,
    private readonly upper: readonly number[],
  ) {
    this.counts = new Float64Array(upper.length + 1);
  }
  observe(v: number): void {
    const u = this.upper;
    let i = 0;
    while (i < u.length && v > u[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

abstract class Labelled<C> implements Collectable {
  abstract readonly type: string;
  readonly aggregator = 'sum';
  protected readonly children = new Map<string, C>();
  constructor(
    readonly name: string,
    readonly help: string,
    protected readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }
  protected abstract make(labels: Record<string, string>): C;
  /** The child for these label values (in labelNames order); callers cache it, this lookup allocates. */
  child(...values: string[]): C {
    const key = values.join('\u0000');
    let c = this.children.get(key);
    if (!c) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      c = this.make(labels);
      this.children.set(key, c);
    }
    return c;
  }
  abstract get(): ReturnType<Collectable['get']>;
}

export class FastCounter extends Labelled<CounterChild> {
  readonly type = 'counter';
  protected make(labels: Record<string, string>): CounterChild {
    return new CounterChild(labels);
  }
  get(): ReturnType<Collectable['get']> {
    const values: MetricValue[] = [];
    for (const c of this.children.values()) values.push({ labels: c.labels, value: c.value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class FastHistogram extends Labelled<HistogramChild> {
  readonly type = 'histogram';
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }
  protected make(labels: Record<string, string>): HistogramChild {
    return new HistogramChild(labels, this.buckets);
  }
  get(): ReturnType<Collectable['get']> {
    const values: MetricValue[] = [];
    for (const c of this.children.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += c.counts[i]!;
        values.push({ labels: { le, ...c.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: `${this.name}_bucket` });
      values.push({ labels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: c.labels, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
