import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/**
 * Slowloris: a client that trickles its headers or its body must not hold a connection for ever. The whole
 * request has TRAMLINE_REQUEST_TIMEOUT (here 1 s) to arrive; after it the server answers 408 or closes.
 * (Found by the chaos suite, test/chaos/scenarios/hostile-clients.ts: a body sent a byte a second was held
 * without end, headers for 60–90 s.)
 */
describe('clients that send slowly', () => {
  let gw: TestGateway;
  let port: number;
  let key: string;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { TRAMLINE_REQUEST_TIMEOUT: '1s' } });
    port = Number(new URL(gw.url).port);
    key = (await createTenant(gw)).key;
  });
  afterAll(() => gw.stop());

  /** Writes `head`, then a byte a second; resolves with the ms until the server closed and its status line. */
  const trickle = (head: string): Promise<{ ms: number; answer: string }> =>
    new Promise((resolve) => {
      const started = Date.now();
      const s = net.connect(port, '127.0.0.1');
      let answer = '';
      const drip = setInterval(() => s.writable && s.write('x'), 1000);
      s.on('connect', () => s.write(head));
      s.on('data', (d) => (answer += d.toString('latin1')));
      s.on('error', () => {});
      s.on('close', () => {
        clearInterval(drip);
        resolve({ ms: Date.now() - started, answer: answer.split('\r\n')[0] ?? '' });
      });
    });

  it('closes a connection whose headers trickle in, within the deadline and its once-a-second check', async () => {
    const r = await trickle('POST /v1/consumers/c/messages HTTP/1.1\r\nHost: a\r\nX-Slow: ');
    expect(r.ms).toBeLessThan(10_000); // 1 s deadline + 1 s check; generous for a loaded machine (before: 60–90 s)
    expect(r.answer).not.toMatch(/ 5\d\d /);
  });

  it('answers 408 to a body that trickles in, and closes', async () => {
    const r = await trickle(
      `POST /v1/consumers/c/messages HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
    );
    expect(r.ms).toBeLessThan(10_000); // before: never
    expect(r.answer === '' || r.answer.startsWith('HTTP/1.1 408')).toBe(true);
  });
});
