import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { quietRemainingMs, trackRequests, waitUntilQuiet } from './quiesce.ts';

describe('quietRemainingMs', () => {
  const at = (inFlight: number, lastArrivalMs: number, pendingConnections = 0) => ({ inFlight, lastArrivalMs, pendingConnections });

  it('is 0 once nothing is in flight and the last request is older than the quiet period', () => {
    expect(quietRemainingMs(at(0, Number.NEGATIVE_INFINITY), 5000, 1000)).toBe(0);
    expect(quietRemainingMs(at(0, 3000), 5000, 1000)).toBe(0);
  });

  it('counts down from the last arrival', () => {
    expect(quietRemainingMs(at(0, 4800), 5000, 1000)).toBe(800);
  });

  it('waits a whole period while a request is in flight or a new connection has not sent its request yet', () => {
    expect(quietRemainingMs(at(1, 0), 5000, 1000)).toBe(1000);
    expect(quietRemainingMs(at(0, 0, 1), 5000, 1000)).toBe(1000);
  });
});

describe('trackRequests and waitUntilQuiet on a real server', () => {
  it('counts traffic but not probes, and resolves once traffic has stopped for the quiet period', async () => {
    const server = http.createServer((req, res) => {
      setTimeout(() => res.end('ok'), req.url === '/slow' ? 300 : 0);
    });
    const t = trackRequests(server, () => performance.now());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await (await fetch(`${base}/readyz`)).text();
      expect(t.lastArrivalMs).toBe(Number.NEGATIVE_INFINITY);

      const slow = fetch(`${base}/slow`).then((r) => r.text());
      while (t.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
      expect(t.inFlight).toBe(1);
      const arrived = t.lastArrivalMs;
      const q = await waitUntilQuiet(t, { quietMs: 200, maxMs: 5000, now: () => performance.now() });
      await slow;
      expect(q).toMatchObject({ quiet: true, inFlight: 0 });
      // Not before the slow request (300 ms) was answered.
      expect(performance.now() - arrived).toBeGreaterThanOrEqual(290);
      expect(t.inFlight).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('gives up after maxMs when traffic never stops', async () => {
    const t = { inFlight: 1, pendingConnections: 0, lastArrivalMs: 0 };
    const q = await waitUntilQuiet(t, { quietMs: 50, maxMs: 120, now: () => performance.now() });
    expect(q).toMatchObject({ quiet: false, inFlight: 1 });
    expect(q.waitedMs).toBeGreaterThanOrEqual(120);
  });
});
