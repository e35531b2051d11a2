// Errors to Sentry: the real CLI runs with SENTRY_DSN pointing at a Sentry-compatible HTTP server in this
// test (it receives the SDK's envelopes). The database is broken under the running gateway on purpose,
// so a publish answers 500 and the worker cannot record an attempt; both errors must arrive, tagged, and
// without the request body, the Authorization header or any credential.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { client } from '../helpers/client.ts';
import { engine, openTestDb, type TestDb } from '../helpers/db.ts';
import { OPERATOR_TOKEN } from '../helpers/gateway.ts';
import { freePort, killAll, printChildOutputOnFailure, spawnTramline, waitUntil } from '../helpers/process.ts';
import { startReceiver } from '../helpers/receiver.ts';

printChildOutputOnFailure();
afterEach(() => killAll());
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  await killAll();
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface SentryEvent {
  level?: string;
  tags?: Record<string, string>;
  exception?: { values: Array<{ type: string; value: string }> };
  request?: Record<string, unknown>;
}

/** Receives Sentry envelopes (POST /api/<project>/envelope/): newline-separated JSON headers and items. */
async function startSentryServer(): Promise<{ port: number; envelopes: string[]; events: SentryEvent[]; close(): Promise<void> }> {
  const envelopes: string[] = [];
  const events: SentryEvent[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const text = raw.toString('utf8');
      if (/^\/api\/1\/envelope\/?/.test(req.url ?? '')) {
        envelopes.push(text);
        const lines = text.split('\n');
        for (let i = 1; i + 1 < lines.length; i += 2) {
          const header = JSON.parse(lines[i]!) as { type: string };
          if (header.type === 'event') events.push(JSON.parse(lines[i + 1]!) as SentryEvent);
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    envelopes,
    events,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

// The errors are provoked by renaming tables under the running gateway, which needs a Postgres server the
// test can reach while the gateway runs (PGlite is held by the gateway's process).
describe.runIf(engine() === 'postgres')('Sentry (SENTRY_DSN set)', () => {
  it('receives API 5xx errors and worker errors, with no body, auth header or credential', async () => {
    const testDb: TestDb = await openTestDb();
    cleanups.push(() => testDb.close());
    const sentry = await startSentryServer();
    cleanups.push(() => sentry.close());
    const rx = await startReceiver(() => ({ status: 200 }));
    cleanups.push(() => rx.close());
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const gw = spawnTramline(['start'], {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: testDb.url!,
      TRAMLINE_OPERATOR_TOKEN: OPERATOR_TOKEN,
      TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8',
      TRAMLINE_POLL_INTERVAL: '100ms',
      TRAMLINE_RETRY_SCHEDULE: '0s,200ms',
      LOG_LEVEL: 'warn',
      SENTRY_DSN: `http://public@127.0.0.1:${sentry.port}/1`,
    });
    await gw.waitForReady(baseUrl, 90_000);

    const operator = client(baseUrl, OPERATOR_TOKEN);
    const tenant = (await operator.post('/v1/tenants', { name: 'Sentried' })).body as { id: string; apiKey: string };
    const api = client(baseUrl, tenant.apiKey);
    const consumer = (await api.post('/v1/consumers', { name: 'sentried' })).body.id as string;
    const endpointSecret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect((await api.post(`/v1/consumers/${consumer}/endpoints`, { url: `${rx.url}/hook`, secret: endpointSecret })).status).toBe(201);
    const payloadSecret = 'payload-card-4111111111111111';

    // 1. The API: the messages table is gone, so the publish fails inside the handler → 500.
    await testDb.db.owner((q) => q.query('ALTER TABLE messages RENAME TO messages_hidden'));
    const failed = await api.post(
      `/v1/consumers/${consumer}/messages`,
      { eventType: 'order.created', payload: { card: payloadSecret } },
      { cookie: 'session=cookie-secret-value' },
    );
    expect(failed.status).toBe(500);
    await testDb.db.owner((q) => q.query('ALTER TABLE messages_hidden RENAME TO messages'));
    const apiEvent = await waitUntil(
      () => sentry.events.find((e) => e.tags?.component === 'api'),
      20_000,
      `the API error event (${sentry.envelopes.length} envelopes: ${sentry.envelopes.join('\n').slice(0, 3000)})`,
    );
    expect(apiEvent.tags).toMatchObject({
      component: 'api',
      method: 'POST',
      route: '/v1/consumers/:consumer/messages',
      tenantId: tenant.id,
    });
    expect(apiEvent.exception!.values[0]!.value).toMatch(/messages/);

    // 2. The worker: the attempts table is gone, so the outcome of a delivery cannot be recorded.
    await testDb.db.owner((q) => q.query('ALTER TABLE attempts RENAME TO attempts_hidden'));
    const ok = await api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'order.created', payload: { card: payloadSecret } });
    expect(ok.status).toBe(202);
    await rx.waitFor(1, 20_000);
    // The recording failure carries the delivery's tenant; a claim that ran while `messages` was renamed above
    // may have failed too (reported without a tenant), so look for the former.
    const workerEvent = await waitUntil(
      () => sentry.events.find((e) => e.tags?.component === 'worker' && e.tags?.tenantId),
      20_000,
      'the worker error event',
    );
    expect(workerEvent.tags).toMatchObject({ component: 'worker', tenantId: tenant.id });
    await testDb.db.owner((q) => q.query('ALTER TABLE attempts_hidden RENAME TO attempts'));

    expect(await gw.stop()).toEqual({ code: 0, signal: null });
    const all = sentry.envelopes.join('\n');
    const secrets = {
      'API key': tenant.apiKey,
      'operator token': OPERATOR_TOKEN,
      'endpoint secret': endpointSecret,
      payload: payloadSecret,
      cookie: 'cookie-secret-value',
    };
    const found = Object.entries(secrets)
      .filter(([, v]) => all.includes(v))
      .map(([k]) => k);
    expect(found).toEqual([]);
    expect(all).not.toMatch(/"authorization"|"cookie"/i);
    for (const e of sentry.events) expect(e.request?.data).toBeUndefined();
    console.log(
      `sentry: ${sentry.envelopes.length} envelopes, ${sentry.events.length} error events (${sentry.events.map((e) => e.tags?.component).join(', ')}); secrets found: ${found.length}`,
    );
  });
});
