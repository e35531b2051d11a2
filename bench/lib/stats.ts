/** Percentiles of latency samples (nearest rank on a sorted copy); NaN when there are none. */
export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function summarize(samples: readonly number[]): Summary {
  const s = Float64Array.from(samples).sort();
  const arr = Array.from(s);
  return {
    count: arr.length,
    p50: percentile(arr, 50),
    p95: percentile(arr, 95),
    p99: percentile(arr, 99),
    max: arr.length ? arr[arr.length - 1]! : NaN,
  };
}

/** One decimal for milliseconds, whole numbers for rates. */
export const ms = (v: number): number => (Number.isFinite(v) ? Math.round(v * 10) / 10 : NaN);
export const rate = (count: number, seconds: number): number => (seconds > 0 ? Math.round(count / seconds) : 0);

/** Least-squares slope of y over x (per unit of x); 0 with fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export const wallNow = (): number => performance.timeOrigin + performance.now();
export const sleep = (msDelay: number): Promise<void> => new Promise((r) => setTimeout(r, msDelay));
