/** A small SVG line chart: series over time, a y axis from 0, labels at the ends. No library. */
export interface Series {
  name: string;
  colour: string;
  values: Array<number | null>;
}

export function LineChart({ title, times, series, unit = '', height = 160 }: { title: string; times: number[]; series: Series[]; unit?: string; height?: number }) {
  const W = 480;
  const H = height;
  const pad = { l: 44, r: 8, t: 8, b: 22 };
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const max = Math.max(1, ...all) * 1.1;
  const n = Math.max(times.length, 2);
  const x = (i: number) => pad.l + (i * (W - pad.l - pad.r)) / (n - 1);
  const y = (v: number) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const fmt = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v >= 10 ? v.toFixed(0) : v.toFixed(1));
  const t0 = times[0];
  const t1 = times[times.length - 1];
  const hhmm = (t: number | undefined) => (t === undefined ? '' : new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }));
  const summary = series
    .map((s) => {
      const last = [...s.values].reverse().find((v) => v !== null);
      return `${s.name}: latest ${last === undefined || last === null ? 'none' : fmt(last) + unit}`;
    })
    .join('; ');
  return (
    <figure className="card" style={{ margin: 0 }}>
      <figcaption className="strong">{title}</figcaption>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}. ${summary}`}>
        <line className="axis" x1={pad.l} y1={H - pad.b} x2={W - pad.r} y2={H - pad.b} />
        <line className="axis" x1={pad.l} y1={pad.t} x2={pad.l} y2={H - pad.b} />
        <text x={pad.l - 4} y={pad.t + 10} textAnchor="end">
          {fmt(max)}
          {unit}
        </text>
        <text x={pad.l - 4} y={H - pad.b} textAnchor="end">
          0
        </text>
        <text x={pad.l} y={H - 6}>
          {hhmm(t0)}
        </text>
        <text x={W - pad.r} y={H - 6} textAnchor="end">
          {hhmm(t1)}
        </text>
        {series.map((s) => {
          const pts = s.values.map((v, i) => (v === null || !Number.isFinite(v) ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean);
          if (pts.length === 0) return null;
          // One or two points draw no visible line: show them as dots.
          if (pts.length <= 2)
            return (
              <g key={s.name} fill={s.colour}>
                {pts.map((p) => {
                  const [cx, cy] = p!.split(',');
                  return <circle key={p} cx={cx} cy={cy} r={3.5} />;
                })}
              </g>
            );
          return <polyline key={s.name} points={pts.join(' ')} fill="none" stroke={s.colour} strokeWidth={2} strokeLinejoin="round" />;
        })}
      </svg>
      <ul className="legend">
        {series.map((s) => (
          <li key={s.name}>
            <i style={{ background: s.colour }} />
            {s.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}
