import { AppError } from '../errors.ts';
import { parseDuration } from './durations.ts';
import { bucketCounts, tenantQueue, type TenantQueue } from '../store/stats.ts';
import type { DomainDeps } from './deps.ts';

export const STATS_LIMITS = {
  minStepSeconds: 10,
  maxBuckets: 1000,
  maxRangeMs: 90 * 86_400_000,
  defaultRangeMs: 86_400_000,
  /** Default steps, the smallest that makes at most `defaultBuckets` buckets. */
  niceStepsSeconds: [60, 300, 900, 3600, 6 * 3600, 86_400],
  defaultBuckets: 200,
} as const;

export interface StatsQuery {
  from?: string | undefined;
  to?: string | undefined;
  step?: string | undefined;
}

export interface StatsPoint {
  t: Date;
  published: number;
  delivered: number;
  failed: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
}

export interface Stats {
  from: Date;
  to: Date;
  step: number;
  series: StatsPoint[];
  queue: TenantQueue;
}

const bad = (field: string, message: string): AppError =>
  new AppError('VALIDATION', `querystring.${field} ${message}`, { errors: [{ field: `querystring.${field}`, message }] });

/** ISO 8601 date-time with a time zone, years 0001–9999. */
function parseTime(field: string, text: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(text);
  const d = new Date(text);
  if (!ok || Number.isNaN(d.getTime()) || text.startsWith('0000')) throw bad(field, 'must be an ISO 8601 date-time');
  return d;
}

/** Validates and normalises the range: buckets aligned on multiples of the step since the epoch. */
export function statsRange(q: StatsQuery, now: Date): { from: Date; to: Date; stepSeconds: number } {
  const toRaw = q.to ? parseTime('to', q.to) : now;
  const fromRaw = q.from ? parseTime('from', q.from) : new Date(toRaw.getTime() - STATS_LIMITS.defaultRangeMs);
  if (fromRaw.getTime() >= toRaw.getTime()) throw bad('from', 'must be before `to`');
  const range = toRaw.getTime() - fromRaw.getTime();
  if (range > STATS_LIMITS.maxRangeMs) throw bad('from', 'must be at most 90 days before `to`');
  let stepSeconds: number;
  if (q.step !== undefined) {
    let ms: number;
    try {
      ms = parseDuration(q.step);
    } catch {
      throw bad('step', 'must be a duration such as 30s, 5m, 1h or 1d');
    }
    if (ms % 1000 !== 0 || ms / 1000 < STATS_LIMITS.minStepSeconds)
      throw bad('step', `must be whole seconds, at least ${STATS_LIMITS.minStepSeconds}s`);
    stepSeconds = ms / 1000;
  } else {
    stepSeconds =
      STATS_LIMITS.niceStepsSeconds.find((s) => range / 1000 / s <= STATS_LIMITS.defaultBuckets) ??
      STATS_LIMITS.niceStepsSeconds[STATS_LIMITS.niceStepsSeconds.length - 1]!;
  }
  const stepMs = stepSeconds * 1000;
  const from = new Date(Math.floor(fromRaw.getTime() / stepMs) * stepMs);
  const to = new Date(Math.ceil(toRaw.getTime() / stepMs) * stepMs);
  const buckets = (to.getTime() - from.getTime()) / stepMs;
  if (buckets > STATS_LIMITS.maxBuckets)
    throw bad('step', `makes ${buckets} buckets; at most ${STATS_LIMITS.maxBuckets}: choose a larger step or a shorter range`);
  return { from, to, stepSeconds };
}

const round = (x: number): number => Math.round(x * 10) / 10;

export async function tenantStats(deps: DomainDeps, tenantId: string, query: StatsQuery): Promise<Stats> {
  const now = deps.clock();
  const { from, to, stepSeconds } = statsRange(query, now);
  const { counts, queue } = await deps.db.tenant(tenantId, async (q) => ({
    counts: await bucketCounts(q, tenantId, from, to, stepSeconds),
    queue: await tenantQueue(q, tenantId, now),
  }));
  const series: StatsPoint[] = [];
  const first = from.getTime() / 1000 / stepSeconds;
  const last = to.getTime() / 1000 / stepSeconds;
  for (let b = first; b < last; b++) {
    const a = counts.attempts.get(b);
    const l = counts.latency.get(b);
    series.push({
      t: new Date(b * stepSeconds * 1000),
      published: counts.published.get(b) ?? 0,
      delivered: a?.delivered ?? 0,
      failed: a?.failed ?? 0,
      latencyP50Ms: l ? round(l.p50) : null,
      latencyP95Ms: l ? round(l.p95) : null,
      latencyP99Ms: l ? round(l.p99) : null,
    });
  }
  return { from, to, step: stepSeconds, series, queue };
}
