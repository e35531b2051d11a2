import { useEffect, useRef, useState } from 'react';
import { LineChart } from '../../shared/chart.tsx';
import { fmtMs, fmtNum, fmtPct } from '../../shared/format.ts';
import { Async, Empty, useAsync } from '../../shared/ui.tsx';
import type { Ctx } from '../app.tsx';

interface Stats {
  from: string;
  to: string;
  step: number | string;
  series: Array<{ t: string; published: number; delivered: number; failed: number; latencyP50Ms: number | null; latencyP95Ms: number | null; latencyP99Ms: number | null }>;
  queue: { due: number; scheduled: number; oldestDueAgeSeconds: number | null };
}

const RANGES = [
  { label: '15 min', ms: 15 * 60_000, step: '30s' },
  { label: '1 hour', ms: 3600_000, step: '1m' },
  { label: '6 hours', ms: 6 * 3600_000, step: '5m' },
  { label: '24 hours', ms: 24 * 3600_000, step: '15m' },
  { label: '7 days', ms: 7 * 24 * 3600_000, step: '1h' },
];

export function Overview({ ctx }: { ctx: Ctx }) {
  const [range, setRange] = useState(RANGES[1]!);
  const lag = useRef<Array<{ t: number; v: number | null }>>([]);
  const stats = useAsync(
    async () => {
      const to = new Date();
      const from = new Date(to.getTime() - range.ms);
      const s = await ctx.api.get<Stats>('/v1/stats', { from: from.toISOString(), to: to.toISOString(), step: range.step });
      lag.current = [...lag.current, { t: Date.now(), v: s.queue.oldestDueAgeSeconds ?? 0 }].slice(-120);
      return s;
    },
    [ctx.api, range],
    5000,
  );
  const ready = stats.data !== undefined || stats.error !== undefined;
  useEffect(() => {
    // Time to interactive, as the e2e test measures it: navigation start → the overview shows its data.
    if (ready && performance.getEntriesByName('tramline:ready').length === 0) performance.mark('tramline:ready');
  }, [ready]);
  return (
    <>
      <div className="row" role="group" aria-label="Time range">
        <span className="muted">Time range:</span>
        <span className="seg">
          {RANGES.map((r) => (
            <button key={r.label} type="button" className="btn" aria-pressed={r === range} onClick={() => setRange(r)}>
              {r.label}
            </button>
          ))}
        </span>
        <span className="muted" aria-live="polite">
          {stats.loading ? 'Updating…' : 'Updates every 5 s'}
        </span>
      </div>
      <Async state={stats} what="Loading statistics">
        {(s) => {
          const times = s.series.map((p) => new Date(p.t).getTime());
          const sum = (k: 'published' | 'delivered' | 'failed') => s.series.reduce((a, p) => a + (p[k] ?? 0), 0);
          const delivered = sum('delivered');
          const failed = sum('failed');
          const last = [...s.series].reverse().find((p) => p.latencyP50Ms !== null);
          const stepS = typeof s.step === 'number' ? `${s.step} s` : range.step;
          return (
            <>
              <div className="grid kpis" data-testid="kpis">
                <div className="card">
                  <div className="muted">Published</div>
                  <div className="kpi">{fmtNum(sum('published'))}</div>
                </div>
                <div className="card">
                  <div className="muted">Success rate</div>
                  <div className="kpi">{delivered + failed ? fmtPct(delivered / (delivered + failed)) : '—'}</div>
                </div>
                <div className="card">
                  <div className="muted">Latency p50 / p95 / p99</div>
                  <div className="kpi">{last ? `${fmtMs(last.latencyP50Ms)} / ${fmtMs(last.latencyP95Ms)} / ${fmtMs(last.latencyP99Ms)}` : '—'}</div>
                </div>
                <div className="card">
                  <div className="muted">Queue: due / scheduled · oldest due</div>
                  <div className="kpi">
                    {fmtNum(s.queue.due)} / {fmtNum(s.queue.scheduled)} · {s.queue.oldestDueAgeSeconds ? fmtMs(s.queue.oldestDueAgeSeconds * 1000) : '0'}
                  </div>
                </div>
              </div>
              {s.series.length === 0 ? (
                <Empty>No traffic in this time range yet. Publish a message to see it here.</Empty>
              ) : (
                <div className="grid" style={{ marginTop: '1rem' }}>
                  <LineChart
                    title={`Throughput (messages per ${stepS})`}
                    times={times}
                    series={[
                      { name: 'published', colour: '#1d4ed8', values: s.series.map((p) => p.published) },
                      { name: 'delivered', colour: '#137333', values: s.series.map((p) => p.delivered) },
                      { name: 'failed', colour: '#b3261e', values: s.series.map((p) => p.failed) },
                    ]}
                  />
                  <LineChart
                    title="Success rate (%)"
                    times={times}
                    unit="%"
                    series={[{ name: 'success', colour: '#137333', values: s.series.map((p) => (p.delivered + p.failed ? (100 * p.delivered) / (p.delivered + p.failed) : null)) }]}
                  />
                  <LineChart
                    title="Publish → delivered latency (ms)"
                    times={times}
                    series={[
                      { name: 'p50', colour: '#1d4ed8', values: s.series.map((p) => p.latencyP50Ms) },
                      { name: 'p95', colour: '#8a5300', values: s.series.map((p) => p.latencyP95Ms) },
                      { name: 'p99', colour: '#b3261e', values: s.series.map((p) => p.latencyP99Ms) },
                    ]}
                  />
                  <LineChart
                    title="Queue lag (oldest due delivery, s) — since this page opened"
                    times={lag.current.map((x) => x.t)}
                    series={[{ name: 'lag', colour: '#6d28d9', values: lag.current.map((x) => x.v) }]}
                  />
                </div>
              )}
            </>
          );
        }}
      </Async>
    </>
  );
}
