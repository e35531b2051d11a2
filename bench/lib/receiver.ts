import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { FromReceiver, ToReceiver } from './receiver-process.ts';

export interface Arrival {
  id: string;
  path: string;
  /** Wall-clock ms (performance.timeOrigin + performance.now() in the receiver). */
  at: number;
}

/** The parent's handle on the receiver process (see receiver-process.ts). */
export interface Receiver {
  readonly url: string;
  readonly pid: number;
  /** First arrivals (per path and webhook-id) so far. */
  readonly delivered: number;
  /** Every request, repeats included. */
  readonly requests: number;
  /** Wall-clock time of the last first arrival. */
  readonly lastArrivalAt: number;
  readonly firstArrivalAt: number;
  /** Called with each batch of first arrivals as it comes in. */
  onArrivals(fn: ((batch: Arrival[]) => void) | null): void;
  setSlow(enabled: boolean): void;
  /** Forget what arrived (dedupe set and counters), between scenarios. */
  reset(): Promise<void>;
  /** Resolves once `count` first arrivals have come (or rejects after timeoutMs). */
  waitForDelivered(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'receiver-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receiver exited (${code}) before it was ready`)));
    child.on('message', (m: FromReceiver) => {
      if (m.type === 'ready') resolve(m.port);
    });
  });
  let delivered = 0;
  let requests = 0;
  let firstArrivalAt = NaN;
  let lastArrivalAt = NaN;
  let listener: ((batch: Arrival[]) => void) | null = null;
  let waiters: { count: number; resolve: () => void }[] = [];
  child.on('message', (m: FromReceiver) => {
    if (m.type !== 'arrivals') return;
    requests += m.requests;
    if (m.ids.length === 0) return;
    delivered += m.ids.length;
    if (Number.isNaN(firstArrivalAt)) firstArrivalAt = m.times[0]!;
    lastArrivalAt = m.times[m.times.length - 1]!;
    if (listener) listener(m.ids.map((id, i) => ({ id, path: m.paths[i]!, at: m.times[i]! })));
    waiters = waiters.filter((w) => {
      if (delivered < w.count) return true;
      w.resolve();
      return false;
    });
  });
  const send = (m: ToReceiver): void => void child.send(m);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    get delivered() {
      return delivered;
    },
    get requests() {
      return requests;
    },
    get firstArrivalAt() {
      return firstArrivalAt;
    },
    get lastArrivalAt() {
      return lastArrivalAt;
    },
    onArrivals(fn) {
      listener = fn;
    },
    setSlow(enabled) {
      send({ type: 'slow', enabled });
    },
    async reset() {
      send({ type: 'reset' });
      // Batches already on their way belong to the previous run.
      await new Promise((r) => setTimeout(r, 150));
      delivered = 0;
      requests = 0;
      firstArrivalAt = NaN;
      lastArrivalAt = NaN;
      listener = null;
      waiters = [];
    },
    waitForDelivered(count, timeoutMs) {
      if (delivered >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const w = { count, resolve: () => (clearTimeout(t), resolve()) };
        const t = setTimeout(() => {
          waiters = waiters.filter((x) => x !== w);
          reject(new Error(`only ${delivered} of ${count} deliveries arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await exited;
    },
  };
}
