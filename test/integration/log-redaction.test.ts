// Secrets never appear in logs: the gateway runs at LOG_LEVEL=trace through the production logger
// (createLogger, with its redaction rules), every line it writes is captured in memory, and a full
// workflow that handles every kind of secret is run through it. Then the captured text is searched.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../helpers/client.ts';
import { createTenant, OPERATOR_TOKEN, startTestGateway, TEST_MASTER_KEY, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { waitUntil } from '../helpers/wait.ts';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer | string, _enc, done) {
    for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(l);
    done();
  },
});

let gw: TestGateway;
let t: TestTenant;
let rx: Receiver;
let stopped = false;

beforeAll(async () => {
  gw = await startTestGateway({ env: { LOG_LEVEL: 'trace' }, log: sink });
  rx = await startReceiver((_r, i) => (i === 0 ? { status: 500, body: 'first attempt fails' } : { status: 200 }));
});
afterAll(async () => {
  if (!stopped) await gw?.stop();
  await rx?.close();
});

describe('log redaction', () => {
  it('no secret reaches the logs at trace level', async () => {
    const rawSecret = randomBytes(32).toString('base64');
    const secret = `whsec_${rawSecret}`;
    const rotatedRaw = randomBytes(32).toString('base64');
    const rotated = `whsec_${rotatedRaw}`;
    const headerValue = `hdr-${randomBytes(16).toString('hex')}`;
    const bogus = `tl_bogus_${randomBytes(16).toString('hex')}`;

    t = await createTenant(gw, 'Redaction Co');
    const c = await t.api.post('/v1/consumers', { name: 'Logged' });
    expect(c.status).toBe(201);
    const e = await t.api.post(`/v1/consumers/${c.body.id}/endpoints`, {
      url: `${rx.url}/hook`,
      secret,
      headers: { 'x-custom-auth': headerValue },
    });
    expect(e.status).toBe(201);
    const base = `/v1/consumers/${c.body.id}/endpoints/${e.body.id}`;
    expect((await t.api.get(`${base}/secret`)).body.secret).toBe(secret);
    const rot = await t.api.post(`${base}/secret/rotate`, { secret: rotated });
    expect(rot.status).toBeLessThan(300);
    // A generated secret too (not chosen by the test).
    const rot2 = await t.api.post(`${base}/secret/rotate`, {});
    expect(rot2.status).toBeLessThan(300);
    const generated = (await t.api.get(`${base}/secret`)).body.secret as string;
    expect(generated).toMatch(/^whsec_/);

    // Publish and deliver: first attempt 500, then a retry succeeds (custom header sent both times).
    const m = await t.api.post(`/v1/consumers/${c.body.id}/messages`, { eventType: 'invoice.paid', payload: { n: 1 } });
    expect(m.status).toBe(202);
    await rx.waitFor(2);
    expect(rx.received[1]!.headers['x-custom-auth']).toBe(headerValue);
    await waitUntil(
      async () =>
        (await t.api.get(`/v1/consumers/${c.body.id}/messages/${m.body.id}`)).body.deliveries[0]?.state === 'succeeded' || undefined,
    );

    // A second key, used, then revoked, then used again (401).
    const k = await t.api.post('/v1/api-keys', { name: 'short-lived', scopes: ['read'] });
    expect(k.status).toBe(201);
    const second = k.body.apiKey as string;
    expect((await client(gw.url, second).get('/v1/consumers')).status).toBe(200);
    expect((await t.api.delete(`/v1/api-keys/${k.body.id}`)).status).toBe(204);
    await waitUntil(async () => (await client(gw.url, second).get('/v1/consumers')).status === 401 || undefined);

    // Bogus credentials, in the header and in odd places.
    expect((await client(gw.url, bogus).get('/v1/consumers')).status).toBe(401);
    expect((await client(gw.url).get('/v1/consumers', { authorization: `Basic ${bogus}` })).status).toBe(401);
    expect((await client(gw.url, OPERATOR_TOKEN).get('/v1/consumers')).status).toBeGreaterThanOrEqual(400);
    await gw.operator.get('/v1/tenants');
    // A validation error carrying a secret-shaped value in the body.
    await t.api.post(`${base}/secret/rotate`, { secret: `whsec_${bogus}` });
    // A portal token, issued and used (its consumer is bound to the request's log lines).
    const ps = await t.api.post(`/v1/consumers/${c.body.id}/portal-sessions`, {});
    expect(ps.status).toBe(201);
    const portalToken = ps.body.token as string;
    expect((await client(gw.url, portalToken).get(`/v1/consumers/${c.body.id}/messages`)).status).toBe(200);
    // Cookies and an X-API-Key header, which Tramline does not use but clients send.
    const cookie = `session=${randomBytes(12).toString('hex')}`;
    const xApiKey = `xk_${randomBytes(12).toString('hex')}`;
    expect((await t.api.get('/v1/consumers', { cookie, 'x-api-key': xApiKey })).status).toBe(200);

    stopped = true;
    await gw.stop(); // flush the shutdown lines too
    if (process.env.DUMP_LOG) console.log(lines.join('\n'));
    const text = lines.join('\n');
    const secrets: Record<string, string> = {
      'tenant API key': t.key,
      'second API key (revoked)': second,
      'operator token': OPERATOR_TOKEN,
      'master key': TEST_MASTER_KEY,
      'endpoint secret': secret,
      'endpoint secret without whsec_': rawSecret,
      'rotated secret': rotated,
      'rotated secret without whsec_': rotatedRaw,
      'generated secret': generated,
      'generated secret without whsec_': generated.slice('whsec_'.length),
      'custom header value': headerValue,
      'bogus Authorization value': bogus,
      'portal token': portalToken,
      cookie: cookie,
      'X-API-Key value': xApiKey,
    };
    const found = Object.entries(secrets)
      .filter(([, v]) => text.includes(v))
      .map(([name]) => name);
    // Non-trivial: the request lines and the delivery lines were captured.
    const routes = lines.filter((l) => l.includes('"msg":"request"'));
    expect(routes.length).toBeGreaterThan(10);
    expect(text).toContain('/v1/consumers/:consumer/endpoints');
    expect(text).toContain('delivery attempt');
    console.log(
      `log redaction: ${lines.length} log lines captured (${routes.length} request lines, ${text.length} chars, LOG_LEVEL=trace); ` +
        `${Object.keys(secrets).length} secrets searched; secrets found = ${found.length}${found.length ? ` (${found.join(', ')})` : ''}`,
    );
    expect(found).toEqual([]);

    // Every line is one JSON object that ELK can map: ISO time, level label, ids as strings.
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const l of parsed) {
      expect(new Date(l.time as string).toISOString()).toBe(l.time);
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(l.level);
      for (const k of ['reqId', 'tenantId', 'consumerId', 'endpointId', 'messageId', 'deliveryId'])
        if (k in l) expect(typeof l[k], k).toBe('string');
    }
    // Request lines after auth carry the request id and the tenant; path ids and worker lines carry theirs.
    const publishLine = parsed.find((l) => l.msg === 'request' && l.url === '/v1/consumers/:consumer/messages' && l.method === 'POST')!;
    expect(publishLine).toMatchObject({ reqId: expect.any(String), tenantId: t.id, consumerId: c.body.id, messageId: m.body.id });
    const portalLine = parsed.find((l) => l.msg === 'request' && l.method === 'GET' && l.url === '/v1/consumers/:consumer/messages')!;
    expect(portalLine).toMatchObject({ tenantId: t.id, consumerId: c.body.id });
    expect(
      lines
        .find((l) => l.includes('"msg":"request"') && l.includes('/v1/consumers/:consumer/messages') && l.includes('"GET"'))!
        .match(/"consumerId"/g),
    ).toHaveLength(1);
    const attemptLine = parsed.find((l) => l.msg === 'delivery attempt')!;
    expect(attemptLine).toMatchObject({
      tenantId: t.id,
      consumerId: c.body.id,
      endpointId: e.body.id,
      messageId: m.body.id,
      deliveryId: expect.any(String),
    });
  });
});
