import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../helpers/client.ts';
import { waitUntil } from '../helpers/wait.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';

/** Least exposure (issue 16): each test here failed on the behaviour the security review found. */

/** Sends raw bytes and reads the raw answer (the parser's own errors never reach Fastify's reply). */
function rawRequest(url: string, bytes: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname, () => socket.end(bytes));
    let answer = '';
    socket.setEncoding('latin1');
    socket
      .on('data', (d: string) => (answer += d))
      .on('close', () => resolve(answer))
      .on('error', reject);
  });
}

const headersOf = (raw: string): Map<string, string> =>
  new Map(
    raw
      .split('\r\n\r\n')[0]!
      .split('\r\n')
      .slice(1)
      .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const),
  );

describe('least exposure', () => {
  let gw: TestGateway;
  let tenant: TestTenant;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { TRAMLINE_AUTH_FAILURES_PER_IP: '5', TRAMLINE_AUTH_FAILURE_WINDOW: '1m' } });
    tenant = await createTenant(gw);
    expect((await tenant.api.post('/v1/consumers', { name: 'Globex', uid: 'globex' })).status).toBe(201);
  });
  afterAll(() => gw.stop());

  it('sends the security headers on every answer, the router’s and the HTTP parser’s errors included', async () => {
    const answers = {
      badPercentEncoding: await rawRequest(gw.url, 'GET /v1/consumers/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      tooLongParameter: await rawRequest(gw.url, `GET /v1/consumers/${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      malformed: await rawRequest(gw.url, 'NOT HTTP AT ALL\r\n\r\n'),
      headersTooLarge: await rawRequest(gw.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`),
    };
    const statuses = Object.values(answers).map((a) => Number(a.split(' ')[1]));
    expect(statuses).toEqual([400, 414, 400, 431]);
    for (const [what, raw] of Object.entries(answers)) {
      const h = headersOf(raw);
      expect(h.get('content-type'), what).toMatch(/^application\/problem\+json/);
      expect(h.get('x-content-type-options'), what).toBe('nosniff');
      expect(h.get('content-security-policy'), what).toContain("frame-ancestors 'none'");
      expect(h.get('x-frame-options'), what).toBe('DENY');
    }
  });

  it('refuses a payload that is not valid UTF-8 instead of storing a silently altered one', async () => {
    const body = Buffer.concat([
      Buffer.from('{"eventType":"e.t","eventId":"bad-utf8","payload":{"name":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}}'),
    ]);
    const r = await tenant.api.raw('POST', '/v1/consumers/globex/messages', body, { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ errors: [{ field: 'body', message: expect.stringMatching(/UTF-8/) }] });
    expect((await tenant.api.get('/v1/consumers/globex/messages/bad-utf8')).status).toBe(404);
    // Valid multi-byte UTF-8 goes through unchanged.
    const ok = await tenant.api.post('/v1/consumers/globex/messages', {
      eventType: 'e.t',
      eventId: 'good-utf8',
      payload: { name: 'Zoë 🚋' },
    });
    expect(ok.status).toBe(202);
  });

  it('keeps a short request id of the caller, and replaces an oversized or repeated one', async () => {
    const ids: string[] = [];
    const log = async (headers: Record<string, string> | [string, string][]): Promise<void> => {
      const r = await fetch(`${gw.url}/v1/consumers`, {
        method: 'POST',
        headers: [
          ['authorization', `Bearer ${tenant.key}`],
          ['content-type', 'application/json'],
          ...(Array.isArray(headers) ? headers : Object.entries(headers)),
        ],
        body: JSON.stringify({ name: `c${ids.length}` }),
      });
      expect(r.status).toBe(201);
      ids.push(((await r.json()) as { id: string }).id);
    };
    await log({ 'x-request-id': 'req-abc.123' });
    await log({ 'x-request-id': 'x'.repeat(8000) });
    await log([
      ['x-request-id', 'one'],
      ['x-request-id', 'two'],
    ]);
    await log({ 'x-request-id': 'has space' });
    // The audit entry is written after the answer: wait for the four.
    const audit = await waitUntil(
      async () => {
        const data = (await tenant.api.get('/v1/audit-log?limit=20')).body.data as Array<{ target: string; requestId: string }>;
        return ids.every((id) => data.some((a) => a.target === id)) ? data : undefined;
      },
      15_000,
      'the audit entries',
    );
    const requestIdOf = (id: string): string => audit.find((a) => a.target === id)!.requestId;
    expect(requestIdOf(ids[0]!)).toBe('req-abc.123');
    for (const id of ids.slice(1)) expect(requestIdOf(id)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never builds a portal link from the Host header a client sent', async () => {
    const r = await fetch(`${gw.url}/v1/consumers/globex/portal-sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.key}`, host: 'evil.example"><script>' },
    });
    expect(r.status).toBe(201);
    const { url, token } = (await r.json()) as { url: string; token: string };
    expect(url).toBe(`/portal/${tenant.id}#token=${token}`);
    const named = await startTestGateway({ env: { TRAMLINE_PUBLIC_URL: 'https://hooks.example.com' } });
    try {
      const t = await createTenant(named);
      await t.api.post('/v1/consumers', { name: 'n', uid: 'n' });
      const s = await fetch(`${named.url}/v1/consumers/n/portal-sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.key}`, host: 'evil.example' },
      });
      expect(((await s.json()) as { url: string }).url).toMatch(new RegExp(`^https://hooks\\.example\\.com/portal/${t.id}#token=tlp_`));
    } finally {
      await named.stop();
    }
  });

  // Last: it blocks this test's own address for the rest of the window.
  it('stops answering key guesses from an address after a few failures, before any look-up', async () => {
    const guesser = client(gw.url, 'tl_notarealkey000000000000000000000000000000');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await guesser.get('/v1/consumers')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const blocked = await guesser.get('/v1/consumers');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body).toMatchObject({ status: 429, detail: expect.stringMatching(/failed authentications/) });
    // Public routes are not behind the brake.
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});
