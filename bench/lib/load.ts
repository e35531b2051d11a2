import { Pool } from 'undici';
import { sleep, wallNow } from './stats.ts';

/** What to publish: the i-th request of a run (path, body, headers) to one origin. Answers `{ id }`. */
export interface PublishTarget {
  readonly origin: string;
  request(i: number): { path: string; body: string; headers: Record<string, string> };
}

export interface LoadResult {
  /** Requests the run meant to send (open loop: at the target rate). */
  scheduled: number;
  accepted: number;
  /** Open loop: accepted before the scheduled end + 250 ms, i.e. what the gateway kept up with. */
  acceptedInWindow: number;
  errors: number;
  firstError: string | null;
  /** Open loop: sends skipped because maxInFlight requests were already waiting (the gateway fell behind). */
  skipped: number;
  /** Publish latencies in ms (open loop: from the scheduled send time). */
  latencies: number[];
  /** Seconds from the first send to the last answer. */
  seconds: number;
}

/** Called for each accepted publish with the message id and the wall-clock time it was (meant to be) sent. */
export type OnAccepted = (id: string, sentAt: number) => void;

async function send(pool: Pool, target: PublishTarget, i: number): Promise<{ ok: true; id: string } | { ok: false; error: string }> {
  const { path, body, headers } = target.request(i);
  try {
    const r = await pool.request({ method: 'POST', path, body, headers });
    const text = await r.body.text();
    if (r.statusCode !== 202 && r.statusCode !== 200 && r.statusCode !== 201)
      return { ok: false, error: `${r.statusCode} ${text.slice(0, 200)}` };
    return { ok: true, id: (JSON.parse(text) as { id: string }).id };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Publish as fast as the target accepts: `connections` loops, each sending its next request when the last one is answered. */
export async function closedLoop(
  target: PublishTarget,
  o: { connections: number; durationMs?: number; count?: number; onAccepted?: OnAccepted },
): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: o.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const res: LoadResult = {
    scheduled: 0,
    accepted: 0,
    acceptedInWindow: 0,
    errors: 0,
    firstError: null,
    skipped: 0,
    latencies: [],
    seconds: 0,
  };
  const t0 = performance.now();
  const end = o.durationMs !== undefined ? t0 + o.durationMs : Infinity;
  const limit = o.count ?? Infinity;
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: o.connections }, async () => {
        while (next < limit && performance.now() < end) {
          const i = next++;
          const sentAt = wallNow();
          const started = performance.now();
          const r = await send(pool, target, i);
          if (r.ok) {
            res.accepted++;
            res.latencies.push(performance.now() - started);
            o.onAccepted?.(r.id, sentAt);
          } else {
            res.errors++;
            res.firstError ??= r.error;
          }
        }
      }),
    );
  } finally {
    await pool.close();
  }
  res.scheduled = next;
  res.acceptedInWindow = res.accepted;
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}

/**
 * Publish at a fixed rate whatever the answers do (an open loop): request i is due at t0 + i/rate and
 * its latency counts from that due time, so a gateway that falls behind shows it as latency instead
 * of slowing the load down (no coordinated omission). When maxInFlight requests are already
 * outstanding, further due sends are skipped and counted.
 */
export async function openLoop(
  target: PublishTarget,
  o: { rate: number; durationMs: number; connections?: number; maxInFlight?: number; onAccepted?: OnAccepted },
): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: o.connections ?? 64, pipelining: 1, keepAliveTimeout: 60_000 });
  const maxInFlight = o.maxInFlight ?? Math.max(1000, o.rate);
  const res: LoadResult = {
    scheduled: 0,
    accepted: 0,
    acceptedInWindow: 0,
    errors: 0,
    firstError: null,
    skipped: 0,
    latencies: [],
    seconds: 0,
  };
  const total = Math.round((o.rate * o.durationMs) / 1000);
  const interval = 1000 / o.rate;
  const t0 = performance.now();
  const wall0 = wallNow();
  const windowEnd = t0 + o.durationMs + 250;
  let inFlight = 0;
  let lastAnswer = t0;
  const pending = new Set<Promise<void>>();
  try {
    let i = 0;
    while (i < total) {
      const now = performance.now();
      while (i < total && t0 + i * interval <= now) {
        const due = t0 + i * interval;
        const dueWall = wall0 + i * interval;
        const n = i++;
        res.scheduled++;
        if (inFlight >= maxInFlight) {
          res.skipped++;
          continue;
        }
        inFlight++;
        const p = send(pool, target, n).then((r) => {
          inFlight--;
          const answered = performance.now();
          lastAnswer = Math.max(lastAnswer, answered);
          if (r.ok) {
            res.accepted++;
            if (answered <= windowEnd) res.acceptedInWindow++;
            res.latencies.push(answered - due);
            o.onAccepted?.(r.id, dueWall);
          } else {
            res.errors++;
            res.firstError ??= r.error;
          }
          pending.delete(p);
        });
        pending.add(p);
      }
      // Never spin: the load generator shares the cores with what it measures. setTimeout's ~1 ms
      // resolution sends what fell due in between as one burst, each still timed from its own due time.
      const wait = t0 + i * interval - performance.now();
      await sleep(Math.max(1, Math.min(wait, 20)));
    }
    await Promise.all(pending);
  } finally {
    await pool.close();
  }
  res.seconds = (lastAnswer - t0) / 1000;
  return res;
}
