// OpenTelemetry, end to end: the real CLI runs with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP
// receiver in this test (JSON protocol, so bodies are readable), a message is published and delivered,
// and the exported spans are checked: the publish span, a delivery span in a trace of its own linked to
// it, pg spans under the publish, and the `traceparent` the endpoint received. Without the variable
// nothing is stored or sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { client } from '../helpers/client.ts';
import { engine, openTestDb, type TestDb } from '../helpers/db.ts';
import { createTenant, OPERATOR_TOKEN, startTestGateway } from '../helpers/gateway.ts';
import { freePort, killAll, printChildOutputOnFailure, spawnTramline, waitUntil } from '../helpers/process.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

printChildOutputOnFailure();
afterEach(() => killAll());
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  await killAll();
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  scope: string;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
}

/** An OTLP/HTTP trace receiver (JSON encoding): every span it was sent, flattened. */
async function startOtlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; bodies: string[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const text = raw.toString('utf8');
      bodies.push(text);
      if (req.url === '/v1/traces') {
        const body = JSON.parse(text) as {
          resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: Array<Record<string, unknown>> }> }>;
        };
        for (const rs of body.resourceSpans) {
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              const attributes: Record<string, unknown> = {};
              for (const a of (s.attributes ?? []) as Array<{ key: string; value: Record<string, unknown> }>)
                attributes[a.key] = Object.values(a.value)[0];
              spans.push({
                traceId: s.traceId as string,
                spanId: s.spanId as string,
                parentSpanId: (s.parentSpanId as string | undefined) || undefined,
                name: s.name as string,
                kind: s.kind as number,
                scope: ss.scope.name,
                attributes,
                links: ((s.links ?? []) as Array<{ traceId: string; spanId: string }>).map((l) => ({
                  traceId: l.traceId,
                  spanId: l.spanId,
                })),
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

// pg spans need the node-postgres driver, so this scenario runs on a Postgres server; the PGlite project
// runs the "off" scenario below only.
describe.runIf(engine() === 'postgres')('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it('exports the publish span, a delivery span linked to it, pg spans, and sends traceparent to the endpoint', async () => {
    const testDb: TestDb = await openTestDb();
    cleanups.push(() => testDb.close());
    const otlp = await startOtlpReceiver();
    cleanups.push(() => otlp.close());
    const rx: Receiver = await startReceiver(() => ({ status: 200 }));
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
      TRAMLINE_METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await gw.waitForReady(baseUrl, 90_000);

    const operator = client(baseUrl, OPERATOR_TOKEN);
    const tenant = (await operator.post('/v1/tenants', { name: 'Traced' })).body as { id: string; apiKey: string };
    const api = client(baseUrl, tenant.apiKey);
    const consumer = (await api.post('/v1/consumers', { name: 'traced' })).body.id as string;
    // A credential in the endpoint's query string must not reach the trace backend.
    const e = await api.post(`/v1/consumers/${consumer}/endpoints`, { url: `${rx.url}/hook?token=sekrit-query-value` });
    expect(e.status).toBe(201);
    const m = await api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'order.created', payload: { n: 1 } });
    expect(m.status).toBe(202);
    const [received] = await rx.waitFor(1, 20_000);

    const publish = await waitUntil(() => otlp.spans.find((s) => s.name === 'tramline.publish'), 20_000, 'publish span exported');
    const deliver = await waitUntil(() => otlp.spans.find((s) => s.name === 'tramline.deliver'), 20_000, 'deliver span exported');
    const inTrace = (traceId: string) => otlp.spans.filter((s) => s.traceId === traceId);
    await waitUntil(
      () => inTrace(publish.traceId).some((s) => s.scope === '@opentelemetry/instrumentation-pg') || undefined,
      10_000,
      'pg spans',
    );

    // The publish span: a child of the HTTP server span of the request, with the message id.
    expect(publish.attributes['tramline.message_id']).toBe(m.body.id);
    expect(publish.attributes['tramline.tenant_id']).toBe(tenant.id);
    const server = inTrace(publish.traceId).find((s) => s.spanId === publish.parentSpanId);
    expect(server).toMatchObject({ scope: '@opentelemetry/instrumentation-http', kind: 2 /* SERVER */ });
    // Its database work: pg spans (the INSERT of the message) in the same trace.
    const pg = inTrace(publish.traceId).filter((s) => s.scope === '@opentelemetry/instrumentation-pg');
    expect(
      pg.some((s) => /insert into messages/i.test(String(s.attributes['db.statement'] ?? s.attributes['db.query.text'] ?? s.name))),
    ).toBe(true);

    // The delivery span: a trace of its own, linked to the publish span.
    expect(deliver.traceId).not.toBe(publish.traceId);
    expect(deliver.parentSpanId).toBeUndefined();
    expect(deliver.links).toEqual([{ traceId: publish.traceId, spanId: publish.spanId }]);
    expect(deliver.attributes).toMatchObject({
      'tramline.message_id': m.body.id,
      'tramline.endpoint_id': e.body.id,
      'tramline.attempt': 1,
      'http.response.status_code': 200,
    });

    // The endpoint got a traceparent in the delivery's trace: the HTTP client span under the delivery span.
    const tp = received!.headers.traceparent;
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, spanId] = (tp as string).split('-');
    expect(traceId).toBe(deliver.traceId);
    const clientSpan = await waitUntil(() => otlp.spans.find((s) => s.spanId === spanId), 10_000, 'the undici client span');
    expect(clientSpan).toMatchObject({
      scope: '@opentelemetry/instrumentation-undici',
      parentSpanId: deliver.spanId,
      kind: 3 /* CLIENT */,
    });
    expect(clientSpan.attributes['url.full']).toBe(`${rx.url}/hook`);

    // The publish's traceparent is stored with the message (what the link is built from).
    const stored = await testDb.db.owner((q) =>
      q.query<{ traceparent: string }>('SELECT traceparent FROM messages WHERE id = $1', [m.body.id]),
    );
    expect(stored.rows[0]!.traceparent).toBe(`00-${publish.traceId}-${publish.spanId}-01`);

    expect(otlp.bodies.join('\n')).not.toContain('sekrit-query-value');
    // Scrapes and probes are not traced.
    await fetch(`${baseUrl}/metrics`);
    await fetch(`${baseUrl}/healthz`);
    const exit = await gw.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(otlp.spans.filter((s) => /metrics|healthz/.test(String(s.attributes['http.target'] ?? s.attributes['url.path'] ?? '')))).toEqual(
      [],
    );
    console.log(
      `tracing: ${otlp.spans.length} spans exported (${new Set(otlp.spans.map((s) => s.scope)).size} scopes); traceparent sent: ${tp}`,
    );
  });
});

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('stores no traceparent and sends none', async () => {
    const gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    const rx = await startReceiver(() => ({ status: 200 }));
    cleanups.push(() => rx.close());
    const t = await createTenant(gw, 'Untraced');
    const c = await t.api.post('/v1/consumers', { name: 'untraced' });
    await t.api.post(`/v1/consumers/${c.body.id}/endpoints`, { url: `${rx.url}/hook` });
    const m = await t.api.post(`/v1/consumers/${c.body.id}/messages`, { eventType: 'order.created', payload: {} });
    expect(m.status).toBe(202);
    const [received] = await rx.waitFor(1);
    expect(received!.headers.traceparent).toBeUndefined();
    const stored = await gw.testDb.db.owner((q) =>
      q.query<{ traceparent: string | null }>('SELECT traceparent FROM messages WHERE id = $1', [m.body.id]),
    );
    expect(stored.rows).toEqual([{ traceparent: null }]);
  });
});
