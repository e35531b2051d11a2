import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A close that waits until the load balancer has stopped sending. TRAMLINE_DRAIN_DELAY is a guess at how long
 * the proxy takes to see a replica leave; two things make the guess wrong, and each costs requests when the
 * server closes anyway (docs/rollout.md, test/integration/drain.test.ts):
 * - a proxy slower than the delay goes on sending after the listener closed;
 * - a starved process has not read requests already sitting in its sockets: Node counts such a connection as
 *   idle, closes it with unread bytes, and the kernel answers the proxy with a reset (nginx: 502 for a POST).
 * So after the delay the server closes only once no request has arrived for a moment and none is in flight.
 */
export interface RequestTracker {
  /** Requests received and not yet answered (probes excepted). */
  readonly inFlight: number;
  /** Connections accepted whose first request has not been read yet (it may be traffic). */
  readonly pendingConnections: number;
  /** When the last request arrived (probes excepted), in the clock's ms; -Infinity before the first. */
  readonly lastArrivalMs: number;
}

/** Health checks come from the kubelet or the proxy's own prober, not from traffic: they never hold a close. */
const PROBE = /^\/(healthz|readyz|metrics)(\?|$)/;

export function trackRequests(server: Server, now: () => number): RequestTracker {
  const t = { inFlight: 0, pendingConnections: 0, lastArrivalMs: Number.NEGATIVE_INFINITY };
  const pending = new WeakMap<Socket, () => void>();
  server.on('connection', (socket: Socket) => {
    t.pendingConnections++;
    const settle = (): void => {
      if (pending.delete(socket)) t.pendingConnections--;
    };
    pending.set(socket, settle);
    socket.once('close', settle);
  });
  server.on('request', (req, res) => {
    pending.get(req.socket)?.();
    if (PROBE.test(req.url ?? '')) return;
    t.inFlight++;
    t.lastArrivalMs = now();
    res.once('close', () => t.inFlight--);
  });
  return t;
}

/**
 * How much longer to wait before the server may close: 0 once nothing is in flight, no new connection is
 * waiting for its first request, and nothing arrived for quietMs.
 */
export function quietRemainingMs(t: RequestTracker, nowMs: number, quietMs: number): number {
  if (t.inFlight > 0 || t.pendingConnections > 0) return quietMs;
  return Math.max(0, t.lastArrivalMs + quietMs - nowMs);
}

export interface QuietResult {
  readonly quiet: boolean;
  readonly waitedMs: number;
  readonly inFlight: number;
}

/**
 * Resolves once the tracker has been quiet for quietMs (or after maxMs in all). Before it says "quiet" it lets
 * the event loop poll its sockets once more (setImmediate runs after the poll phase): after a stall, requests
 * that arrived meanwhile are read, and counted, before the verdict.
 */
export async function waitUntilQuiet(t: RequestTracker, opts: { quietMs: number; maxMs: number; now: () => number }): Promise<QuietResult> {
  const start = opts.now();
  for (;;) {
    let remaining = quietRemainingMs(t, opts.now(), opts.quietMs);
    if (remaining === 0) {
      await new Promise((r) => setImmediate(r));
      remaining = quietRemainingMs(t, opts.now(), opts.quietMs);
      if (remaining === 0) return { quiet: true, waitedMs: opts.now() - start, inFlight: 0 };
    }
    const left = start + opts.maxMs - opts.now();
    if (left <= 0) return { quiet: false, waitedMs: opts.now() - start, inFlight: t.inFlight };
    await new Promise((r) => setTimeout(r, Math.min(remaining, left, 100)));
  }
}
