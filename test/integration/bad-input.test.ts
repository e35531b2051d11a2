/**
 * Bad input gets a 4xx problem+json, never a 5xx, and nothing is lost or half-written:
 *  - a table of hostile or malformed requests on the write routes (publish, consumers, endpoints)
 *    and on list / id routes, each with its exact status and, for validation errors, the field named;
 *  - afterwards only the good requests left a trace, and the gateway is still ready;
 *  - a seeded property-style loop of random JSON-ish bodies against every POST route of the
 *    OpenAPI document: no 5xx, every refusal a problem document, every accepted message stored as sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type Response } from '../helpers/client.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

let gw: TestGateway;
let t: TestTenant;
let rx: Receiver;
/** The fixtures the good requests created, and nothing else may exist after the bad ones. */
const good = { consumer: '', uid: 'main-customer', endpoint: '', endpointUrl: '', messages: [] as string[], consumers: [] as string[] };

beforeAll(async () => {
  gw = await startTestGateway();
  t = await createTenant(gw, 'Hygiene');
  rx = await startReceiver();
  const c = await t.api.post('/v1/consumers', { name: 'Main customer', uid: good.uid });
  expect(c.status).toBe(201);
  good.consumer = c.body.id;
  good.consumers.push(c.body.id);
  good.endpointUrl = `${rx.url}/hook`;
  const e = await t.api.post(`/v1/consumers/${good.consumer}/endpoints`, { url: good.endpointUrl, headers: { 'X-Ok': 'yes' } });
  expect(e.status).toBe(201);
  good.endpoint = e.body.id;
});
afterAll(async () => {
  await gw?.stop();
  await rx?.close();
});

const JSON_CT = 'application/json';
const MiB = 1024 * 1024;

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: () => string;
  /** Sent as is; a non-string is JSON-encoded. */
  body?: unknown;
  /** Defaults to application/json when there is a body; null sends none. */
  contentType?: string | null;
  headers?: Record<string, string>;
  status: number | number[];
  /** A validation error must name a field starting with this. */
  field?: string;
}

const msgs = () => `/v1/consumers/${good.consumer}/messages`;
const consumers = () => '/v1/consumers';
const eps = () => `/v1/consumers/${good.consumer}/endpoints`;
const ep = () => `/v1/consumers/${good.consumer}/endpoints/${good.endpoint}`;

const deep = (n: number, leaf = '1'): string => '['.repeat(n) + leaf + ']'.repeat(n);
const deepObj = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

/** The hostile bodies every JSON write route must refuse; `wrap` puts a raw JSON value where the route keeps free-form data. */
function commonCases(
  route: string,
  method: 'POST' | 'PATCH',
  path: () => string,
  wrap: (raw: string) => string,
  freeField: string,
  stringField: (raw: string) => string,
  stringFieldName: string,
): Case[] {
  return [
    { name: `${route}: invalid JSON`, method, path, body: '{', status: 400 },
    { name: `${route}: truncated JSON`, method, path, body: wrap('{"a": [1, 2').slice(0, -1), status: 400 },
    { name: `${route}: empty body with a JSON content type`, method, path, body: '', status: 400 },
    { name: `${route}: __proto__ body`, method, path, body: '{"__proto__": {"admin": true}}', status: 400 },
    { name: `${route}: __proto__ nested in the data`, method, path, body: wrap('{"__proto__": {"polluted": 1}}'), status: 400 },
    { name: `${route}: constructor.prototype body`, method, path, body: '{"constructor": {"prototype": {}}}', status: 400 },
    { name: `${route}: lone surrogate in a string`, method, path, body: stringField('"a\\ud800b"'), status: 400, field: stringFieldName },
    { name: `${route}: NUL in a string`, method, path, body: stringField('"a\\u0000b"'), status: 400, field: stringFieldName },
    { name: `${route}: lone surrogate in the free-form data`, method, path, body: wrap('{"s": "\\udc00"}'), status: 400, field: freeField },
    { name: `${route}: NUL in a key of the free-form data`, method, path, body: wrap('{"k\\u0000": "v"}'), status: 400, field: freeField },
    { name: `${route}: nested 200 deep (arrays)`, method, path, body: wrap(deep(200)), status: 400, field: freeField },
    { name: `${route}: nested 200 deep (objects)`, method, path, body: wrap(deepObj(200)), status: 400, field: freeField },
    { name: `${route}: body is an array`, method, path, body: '[]', status: 400, field: 'body' },
    { name: `${route}: body is null`, method, path, body: 'null', status: 400, field: 'body' },
    { name: `${route}: text/plain`, method, path, body: 'hello', contentType: 'text/plain', status: 415 },
    { name: `${route}: form-encoded`, method, path, body: 'a=b', contentType: 'application/x-www-form-urlencoded', status: 415 },
    { name: `${route}: body but no content type`, method, path, body: Buffer.from('{}'), contentType: null, status: 415 },
    { name: `${route}: over the 1 MiB limit`, method, path, body: wrap(JSON.stringify('x'.repeat(MiB))), status: 413 },
  ];
}

const cases: Case[] = [
  // --- POST messages ---
  ...commonCases(
    'POST messages',
    'POST',
    msgs,
    (raw) => `{"eventType": "a.b", "payload": ${raw}}`,
    'body.payload',
    (raw) => `{"eventType": "a.b", "payload": {"s": ${raw}}}`,
    'body.payload.s',
  ),
  { name: 'POST messages: payload missing', method: 'POST', path: msgs, body: { eventType: 'a.b' }, status: 400, field: 'body.payload' },
  {
    name: 'POST messages: eventType a number',
    method: 'POST',
    path: msgs,
    body: { eventType: 42, payload: {} },
    status: 400,
    field: 'body.eventType',
  },
  { name: 'POST messages: eventType missing', method: 'POST', path: msgs, body: { payload: {} }, status: 400, field: 'body.eventType' },
  {
    name: 'POST messages: eventType with spaces',
    method: 'POST',
    path: msgs,
    body: { eventType: 'a b', payload: {} },
    status: 400,
    field: 'body.eventType',
  },
  {
    name: 'POST messages: eventType with a lone surrogate',
    method: 'POST',
    path: msgs,
    body: '{"eventType": "a\\ud800", "payload": {}}',
    status: 400,
    field: 'body.eventType',
  },
  {
    name: 'POST messages: channels not an array',
    method: 'POST',
    path: msgs,
    body: { eventType: 'a.b', payload: {}, channels: 'eu' },
    status: 400,
    field: 'body.channels',
  },
  {
    name: 'POST messages: a channel with CR/LF',
    method: 'POST',
    path: msgs,
    body: { eventType: 'a.b', payload: {}, channels: ['eu\r\nx'] },
    status: 400,
    field: 'body.channels.0',
  },
  {
    name: 'POST messages: eventId not a string',
    method: 'POST',
    path: msgs,
    body: { eventType: 'a.b', payload: {}, eventId: { a: 1 } },
    status: 400,
    field: 'body.eventId',
  },
  {
    name: 'POST messages: payload 1e400 (not a finite number)',
    method: 'POST',
    path: msgs,
    body: '{"eventType": "a.b", "payload": 1e400}',
    status: 400,
    field: 'body.payload',
  },
  {
    name: 'POST messages: Idempotency-Key with spaces',
    method: 'POST',
    path: msgs,
    body: { eventType: 'a.b', payload: {} },
    headers: { 'idempotency-key': 'a b' },
    status: 400,
    field: 'headers.idempotency-key',
  },
  {
    name: 'POST messages: Idempotency-Key differs from eventId',
    method: 'POST',
    path: msgs,
    body: { eventType: 'a.b', payload: {}, eventId: 'one' },
    headers: { 'idempotency-key': 'two' },
    status: 400,
    field: 'headers.idempotency-key',
  },
  {
    name: 'POST messages: unknown consumer',
    method: 'POST',
    path: () => '/v1/consumers/con_01h00000000000000000000000/messages',
    body: { eventType: 'a.b', payload: {} },
    status: 404,
  },
  {
    name: 'POST messages: unknown consumer uid',
    method: 'POST',
    path: () => '/v1/consumers/nobody-here/messages',
    body: { eventType: 'a.b', payload: {} },
    status: 404,
  },

  // --- POST consumers ---
  ...commonCases(
    'POST consumers',
    'POST',
    consumers,
    (raw) => `{"name": "x", "metadata": {"m": ${raw}}}`,
    'body.metadata',
    (raw) => `{"name": ${raw}}`,
    'body.name',
  ),
  { name: 'POST consumers: name a number', method: 'POST', path: consumers, body: { name: 5 }, status: 400, field: 'body.name' },
  { name: 'POST consumers: name blank', method: 'POST', path: consumers, body: { name: '   ' }, status: 400, field: 'body.name' },
  { name: 'POST consumers: name missing', method: 'POST', path: consumers, body: { uid: 'x' }, status: 400, field: 'body.name' },
  {
    name: 'POST consumers: uid with a slash',
    method: 'POST',
    path: consumers,
    body: { name: 'x', uid: 'a/b' },
    status: 400,
    field: 'body.uid',
  },
  {
    name: 'POST consumers: uid over 256 characters',
    method: 'POST',
    path: consumers,
    body: { name: 'x', uid: 'u'.repeat(257) },
    status: 400,
    field: 'body.uid',
  },
  {
    name: 'POST consumers: metadata value not a string',
    method: 'POST',
    path: consumers,
    body: { name: 'x', metadata: { a: 1 } },
    status: 400,
    field: 'body.metadata.a',
  },
  {
    name: 'POST consumers: metadata with 65 keys',
    method: 'POST',
    path: consumers,
    body: { name: 'x', metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) },
    status: 400,
    field: 'body.metadata',
  },
  { name: 'POST consumers: uid already taken', method: 'POST', path: consumers, body: { name: 'dup', uid: 'main-customer' }, status: 409 },

  // --- POST endpoints ---
  ...commonCases(
    'POST endpoints',
    'POST',
    eps,
    (raw) => `{"url": "http://127.0.0.1:9/x", "eventTypes": [${raw}]}`,
    'body.eventTypes',
    (raw) => `{"url": "http://127.0.0.1:9/x", "description": ${raw}}`,
    'body.description',
  ),
  { name: 'POST endpoints: url missing', method: 'POST', path: eps, body: {}, status: 400, field: 'body.url' },
  { name: 'POST endpoints: url a number', method: 'POST', path: eps, body: { url: 80 }, status: 400, field: 'body.url' },
  { name: 'POST endpoints: url not a URL', method: 'POST', path: eps, body: { url: 'not a url' }, status: 400, field: 'body.url' },
  { name: 'POST endpoints: url ftp://x', method: 'POST', path: eps, body: { url: 'ftp://x' }, status: 400, field: 'body.url' },
  {
    name: 'POST endpoints: url javascript:',
    method: 'POST',
    path: eps,
    body: { url: 'javascript:alert(1)' },
    status: 400,
    field: 'body.url',
  },
  {
    name: 'POST endpoints: url with credentials',
    method: 'POST',
    path: eps,
    body: { url: 'http://user:pass@example.com' },
    status: 400,
    field: 'body.url',
  },
  {
    name: 'POST endpoints: url to cloud metadata',
    method: 'POST',
    path: eps,
    body: { url: 'http://169.254.169.254/' },
    status: [400, 422],
    field: 'body.url',
  },
  {
    name: 'POST endpoints: url to metadata, IPv4-mapped IPv6',
    method: 'POST',
    path: eps,
    body: { url: 'http://[::ffff:169.254.169.254]/' },
    status: [400, 422],
    field: 'body.url',
  },
  {
    name: 'POST endpoints: url to metadata, decimal',
    method: 'POST',
    path: eps,
    body: { url: 'http://2852039166/' },
    status: [400, 422],
    field: 'body.url',
  },
  {
    name: 'POST endpoints: url to a private address',
    method: 'POST',
    path: eps,
    body: { url: 'http://10.0.0.1/' },
    status: [400, 422],
    field: 'body.url',
  },
  {
    name: 'POST endpoints: header value with CR/LF',
    method: 'POST',
    path: eps,
    body: { url: 'http://127.0.0.1:9/x', headers: { 'X-A': 'a\r\nX-Injected: 1' } },
    status: 400,
    field: 'body.headers',
  },
  {
    name: 'POST endpoints: header value with LF',
    method: 'POST',
    path: eps,
    body: { url: 'http://127.0.0.1:9/x', headers: { 'X-A': 'a\nb' } },
    status: 400,
    field: 'body.headers',
  },
  {
    name: 'POST endpoints: header name with a space',
    method: 'POST',
    path: eps,
    body: { url: 'http://127.0.0.1:9/x', headers: { 'X A': 'b' } },
    status: 400,
    field: 'body.headers',
  },
  {
    name: 'POST endpoints: reserved header content-type',
    method: 'POST',
    path: eps,
    body: { url: 'http://127.0.0.1:9/x', headers: { 'Content-Type': 'text/plain' } },
    status: 400,
    field: 'body.headers',
  },
  {
    name: 'POST endpoints: reserved header webhook-id',
    method: 'POST',
    path: eps,
    body: { url: 'http://127.0.0.1:9/x', headers: { 'webhook-id': 'forged' } },
    status: 400,
    field: 'body.headers',
  },
  {
    name: 'POST endpoints: reserved header host',
    method: 'POST',
    path: eps,
    body: { url: 'http://127.0.0.1:9/x', headers: { Host: 'evil' } },
    status: 400,
    field: 'body.headers',
  },
  {
    name: 'POST endpoints: eventTypes not an array',
    method: 'POST',
    path: eps,
    body: { url: 'http://127.0.0.1:9/x', eventTypes: 'a.b' },
    status: 400,
    field: 'body.eventTypes',
  },
  {
    name: 'POST endpoints: rateLimitPerSecond a string',
    method: 'POST',
    path: eps,
    body: { url: 'http://127.0.0.1:9/x', rateLimitPerSecond: 'fast' },
    status: 400,
    field: 'body.rateLimitPerSecond',
  },
  {
    name: 'POST endpoints: rateLimitPerSecond 0',
    method: 'POST',
    path: eps,
    body: { url: 'http://127.0.0.1:9/x', rateLimitPerSecond: 0 },
    status: 400,
    field: 'body.rateLimitPerSecond',
  },
  {
    name: 'POST endpoints: secret not whsec_',
    method: 'POST',
    path: eps,
    body: { url: 'http://127.0.0.1:9/x', secret: 'hunter2' },
    status: 400,
    field: 'body.secret',
  },
  {
    name: 'POST endpoints: unknown consumer',
    method: 'POST',
    path: () => '/v1/consumers/con_01h00000000000000000000000/endpoints',
    body: { url: 'http://127.0.0.1:9/x' },
    status: 404,
  },

  // --- PATCH endpoints ---
  ...commonCases(
    'PATCH endpoints',
    'PATCH',
    ep,
    (raw) => `{"channels": [${raw}]}`,
    'body.channels',
    (raw) => `{"description": ${raw}}`,
    'body.description',
  ),
  { name: 'PATCH endpoints: url ftp://x', method: 'PATCH', path: ep, body: { url: 'ftp://x' }, status: 400, field: 'body.url' },
  {
    name: 'PATCH endpoints: url with credentials',
    method: 'PATCH',
    path: ep,
    body: { url: 'http://user:pass@example.com' },
    status: 400,
    field: 'body.url',
  },
  {
    name: 'PATCH endpoints: url to cloud metadata',
    method: 'PATCH',
    path: ep,
    body: { url: 'http://169.254.169.254/latest/meta-data/' },
    status: [400, 422],
    field: 'body.url',
  },
  { name: 'PATCH endpoints: url null', method: 'PATCH', path: ep, body: { url: null }, status: 400, field: 'body.url' },
  {
    name: 'PATCH endpoints: header value with CR/LF',
    method: 'PATCH',
    path: ep,
    body: { headers: { 'X-A': 'x\r\n\r\nGET / HTTP/1.1' } },
    status: 400,
    field: 'body.headers',
  },
  {
    name: 'PATCH endpoints: reserved header content-type',
    method: 'PATCH',
    path: ep,
    body: { headers: { 'content-type': 'text/html' } },
    status: 400,
    field: 'body.headers',
  },
  {
    name: 'PATCH endpoints: reserved header webhook-signature',
    method: 'PATCH',
    path: ep,
    body: { headers: { 'Webhook-Signature': 'v1,forged' } },
    status: 400,
    field: 'body.headers',
  },
  { name: 'PATCH endpoints: disabled a string', method: 'PATCH', path: ep, body: { disabled: 'yes' }, status: 400, field: 'body.disabled' },
  {
    name: 'PATCH endpoints: channels with a bad name',
    method: 'PATCH',
    path: ep,
    body: { channels: ['a b'] },
    status: 400,
    field: 'body.channels.0',
  },
  {
    name: 'PATCH endpoints: unknown endpoint',
    method: 'PATCH',
    path: () => `${eps()}/ep_01h00000000000000000000000`,
    body: { description: 'x' },
    status: 404,
  },
  {
    name: 'PATCH endpoints: unknown consumer',
    method: 'PATCH',
    path: () => `/v1/consumers/con_01h00000000000000000000000/endpoints/${good.endpoint}`,
    body: { description: 'x' },
    status: 404,
  },

  // --- lists ---
  ...[consumers, msgs, eps, () => '/v1/api-keys', () => '/v1/event-types'].flatMap((list) =>
    ['0', '10000', 'abc', '-1', '1.5', ''].map(
      (limit): Case => ({
        name: `GET ${list().replace(good.consumer, '{consumer}')}?limit=${limit}`,
        method: 'GET',
        path: () => `${list()}?limit=${limit}`,
        status: 400,
        field: 'querystring.limit',
      }),
    ),
  ),
  {
    name: 'GET consumers: cursor over 512 characters',
    method: 'GET',
    path: () => `/v1/consumers?cursor=${'c'.repeat(513)}`,
    status: 400,
    field: 'querystring.cursor',
  },
  {
    name: 'GET consumers: cursor with NUL',
    method: 'GET',
    path: () => '/v1/consumers?cursor=a%00b',
    status: 400,
    field: 'querystring.cursor',
  },
  {
    name: 'GET messages: eventType filter with spaces',
    method: 'GET',
    path: () => `${msgs()}?eventType=a%20b`,
    status: 400,
    field: 'querystring.eventType',
  },
  {
    name: 'GET messages: before not a date',
    method: 'GET',
    path: () => `${msgs()}?before=yesterday`,
    status: 400,
    field: 'querystring.before',
  },
  {
    name: 'GET event-types: includeArchived not a boolean',
    method: 'GET',
    path: () => '/v1/event-types?includeArchived=maybe',
    status: 400,
    field: 'querystring.includeArchived',
  },

  // --- malformed ids in the path: 400, 404 or 414, never 5xx ---
  ...[
    '%00',
    '%ff',
    '%C0%80',
    '%ud800',
    'a%20b',
    '%27%3B%20DROP%20TABLE%20consumers%3B--',
    '%E2%9C%93',
    '%0d%0aX-Injected:%201',
    '..%2f..%2fetc%2fpasswd',
    '%25',
    '%2525',
    'con_%2F',
    '*',
    '$1',
    'x'.repeat(257),
    'con_01h00000000000000000000000',
  ].flatMap((id): Case[] => [
    { name: `GET consumer ${id.slice(0, 40)}`, method: 'GET', path: () => `/v1/consumers/${id}`, status: [400, 404, 414] },
    { name: `GET endpoint ${id.slice(0, 40)}`, method: 'GET', path: () => `${eps()}/${id}`, status: [400, 404, 414] },
    { name: `GET message ${id.slice(0, 40)}`, method: 'GET', path: () => `${msgs()}/${id}`, status: [400, 404, 414] },
    { name: `DELETE api key ${id.slice(0, 40)}`, method: 'DELETE', path: () => `/v1/api-keys/${id}`, status: [400, 404, 414] },
    {
      name: `POST resend ${id.slice(0, 40)}`,
      method: 'POST',
      path: () => `${msgs()}/${id}/endpoints/${id}/resend`,
      body: {},
      status: [400, 404, 414],
    },
  ]),
];

async function send(c: Case): Promise<Response> {
  const headers: Record<string, string> = { ...c.headers };
  let body: string | Buffer | undefined;
  if (c.body !== undefined) {
    body = typeof c.body === 'string' || Buffer.isBuffer(c.body) ? c.body : JSON.stringify(c.body);
    if (c.contentType !== null) headers['content-type'] = c.contentType ?? JSON_CT;
  }
  return t.api.raw(c.method, c.path(), body, headers);
}

function expectProblem(r: Response, status: number | number[], what: string): void {
  const allowed = Array.isArray(status) ? status : [status];
  expect(allowed, `${what}: status ${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`).toContain(r.status);
  expect(r.headers.get('content-type') ?? '', `${what}: content-type`).toMatch(/^application\/problem\+json/);
  expect(r.body, what).toMatchObject({ type: expect.any(String), title: expect.any(String), status: r.status });
}

describe('bad input answers 4xx problem+json', () => {
  it('good requests pass (the baseline the bad ones are measured against)', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await t.api.post(msgs(), { eventType: 'order.created', payload: { n: i, note: 'naïve ✓ \u2028' }, channels: ['eu'] });
      expect(r.status).toBe(202);
      good.messages.push(r.body.id);
    }
    const byUid = await t.api.post(`/v1/consumers/${good.uid}/messages`, { eventType: 'order.created', payload: null });
    expect(byUid.status).toBe(202);
    good.messages.push(byUid.body.id);
    const patched = await t.api.patch(ep(), { description: 'kept' });
    expect(patched.status).toBe(200);
    // A uid at the schema's bound (256 characters) is addressable in the path; one over it is a 4xx.
    const longUid = 'u'.repeat(256);
    const c = await t.api.post('/v1/consumers', { name: 'Long uid', uid: longUid });
    expect(c.status).toBe(201);
    good.consumers.push(c.body.id);
    const got = await t.api.get(`/v1/consumers/${longUid}`);
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(c.body.id);
    expectProblem(await t.api.get(`/v1/consumers/${longUid}u`), [400, 404, 414], 'uid over 256');
  });

  it.each(cases)('$name', async (c) => {
    const r = await send(c);
    expectProblem(r, c.status, c.name);
    if (c.field) {
      expect(r.body.errors, `${c.name}: errors`).toBeInstanceOf(Array);
      const fields = (r.body.errors as Array<{ field: string; message: string }>).map((e) => e.field);
      expect(
        fields.some((f) => f === c.field || f.startsWith(`${c.field}.`)),
        `${c.name}: fields ${JSON.stringify(fields)} name ${c.field}`,
      ).toBe(true);
      for (const e of r.body.errors) expect(e.message, `${c.name}: message`).toEqual(expect.any(String));
    }
  });

  it('rejected requests left nothing behind, and the gateway is still ready', async () => {
    const listed = await t.api.get(`${msgs()}?limit=250`);
    expect(listed.status).toBe(200);
    expect([...listed.body.data.map((m: { id: string }) => m.id)].sort()).toEqual([...good.messages].sort());
    const allConsumers = await t.api.get('/v1/consumers?limit=250');
    expect([...allConsumers.body.data.map((x: { id: string }) => x.id)].sort()).toEqual([...good.consumers].sort());
    for (const id of good.consumers) {
      const m = await t.api.get(`/v1/consumers/${id}/messages`);
      expect(m.body.data.length, `messages of ${id}`).toBe(id === good.consumer ? good.messages.length : 0);
    }
    const endpoints = await t.api.get(eps());
    expect(endpoints.body.data.map((e: { id: string }) => e.id)).toEqual([good.endpoint]);
    // The endpoint still has what the good requests gave it, none of what the bad ones tried.
    expect(endpoints.body.data[0]).toMatchObject({
      url: good.endpointUrl,
      description: 'kept',
      headers: { 'x-ok': 'yes' },
      disabled: false,
      channels: null,
      eventTypes: null,
    });
    expect((await t.api.get('/v1/event-types')).body.data).toEqual([]);
    expect((await t.api.get('/v1/api-keys')).body.data).toHaveLength(1);
    // Every accepted message reached the receiver; nothing else did.
    await rx.waitFor(good.messages.length);
    await new Promise((r) => setTimeout(r, 300));
    expect(new Set(rx.received.map((r) => r.headers['webhook-id']))).toEqual(new Set(good.messages));
    const ready = await client(gw.url).get('/readyz');
    expect(ready.status).toBe(200);
  });
});

// --- property-style: seeded random bodies ---------------------------------------------------------

/** mulberry32: small, seeded, good enough to spread inputs; the seed makes a failure reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.FUZZ_SEED ?? 0x7a11ce);
const BODIES_PER_ROUTE = 300;

function generator(rand: () => number) {
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chunks = [
    'a',
    'Z',
    '0',
    '.',
    '-',
    '_',
    ' ',
    'é',
    '✓',
    '😀',
    '\u0000',
    '\u0001',
    '\u001f',
    '\u007f',
    '\t',
    '\r\n',
    '\u2028',
    '\u202e',
    '\ufeff',
    '\ud800',
    '\udfff',
    '"',
    '\\',
    '/',
    '%00',
    '${x}',
    "'; DROP TABLE messages;--",
    '<script>',
    '__proto__',
    'constructor',
    'prototype',
    'http://127.0.0.1:9/x',
    'ftp://x',
    'http://169.254.169.254/',
    'whsec_',
    'a.b',
    '2026-01-01T00:00:00Z',
  ];
  const string = (): string => {
    if (rand() < 0.05) return pick(chunks).repeat(int(3000));
    let s = '';
    const n = int(12);
    for (let i = 0; i < n; i++) s += rand() < 0.5 ? pick(chunks) : String.fromCharCode(int(0x10000));
    return s;
  };
  const number = (): number =>
    pick([0, 1, -1, 0.5, 42, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, 1e21, -2147483649, 2147483648, int(1000), rand() * 1e6]);
  const fields = [
    'eventType',
    'payload',
    'eventId',
    'channels',
    'name',
    'uid',
    'metadata',
    'url',
    'headers',
    'description',
    'eventTypes',
    'secret',
    'since',
    'scopes',
  ];
  const value = (depth: number, keys: readonly string[]): unknown => {
    const r = rand();
    if (depth > 4 || r < 0.35) {
      return pick<() => unknown>([() => null, () => rand() < 0.5, number, string, string])();
    }
    if (r < 0.55) return Array.from({ length: int(6) }, () => value(depth + 1, keys));
    const o: Record<string, unknown> = {};
    const n = int(6);
    for (let i = 0; i < n; i++) o[rand() < 0.5 && keys.length ? pick(keys) : string()] = value(depth + 1, keys);
    return o;
  };
  const nested = (n: number): unknown => (n === 0 ? string() : rand() < 0.5 ? [nested(n - 1)] : { d: nested(n - 1) });
  /** A raw body: mostly JSON, sometimes broken JSON or raw tokens JSON.stringify cannot produce. */
  const body = (routeFields: readonly string[], plausible: () => Record<string, unknown>): string | Buffer => {
    const r = rand();
    let v: unknown;
    if (r < 0.3) {
      v = plausible();
      // Poison one field of an otherwise valid body.
      if (rand() < 0.6) (v as Record<string, unknown>)[pick(routeFields.length ? routeFields : fields)] = value(2, fields);
    } else if (r < 0.6) {
      const o: Record<string, unknown> = {};
      for (const f of routeFields.length ? routeFields : fields) if (rand() < 0.7) o[f] = value(1, fields);
      v = o;
    } else if (r < 0.75) {
      v = value(0, fields);
    } else if (r < 0.8) {
      v = { ...plausible(), payload: nested(20 + int(100)) };
    } else {
      v = plausible();
    }
    let text = JSON.stringify(v) ?? 'null';
    const m = rand();
    if (m < 0.04)
      text = text.slice(0, int(text.length)); // truncated
    else if (m < 0.07) text = text.replace(/\d+/, pick(['1e400', '-0', 'NaN', 'Infinity', '123456789012345678901234567890', '0x10', '01']));
    else if (m < 0.09) text = text.replace(/"/, pick(['"\u0001', "'", '"\\x41', '"\\u12', '"\n']));
    else if (m < 0.1)
      return Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from(text.slice(-1))]); // invalid UTF-8
    else if (m < 0.12) text = `{"__proto__": ${text}}`;
    return text;
  };
  return { int, pick, string, body };
}

describe('property-style: random bodies on every POST route', () => {
  let fuzzer: TestTenant;
  beforeAll(async () => {
    fuzzer = await createTenant(gw, 'Fuzz');
  });

  it(`${BODIES_PER_ROUTE} seeded random bodies per POST route: no 5xx, refusals are problem+json, accepted messages stored as sent`, {
    timeout: 240_000,
  }, async () => {
    const api = fuzzer.api;
    // Messages are published to `sink` (its one endpoint is the loopback receiver). Endpoints the fuzzer
    // manages to create go to `quarantine`, which never gets a message: no delivery may leave loopback.
    const sink = (await api.post('/v1/consumers', { name: 'sink', uid: 'sink' })).body.id as string;
    const quarantine = (await api.post('/v1/consumers', { name: 'quarantine' })).body.id as string;
    const endpoint = (await api.post(`/v1/consumers/${sink}/endpoints`, { url: `${rx.url}/fuzz` })).body.id as string;
    const message = (await api.post(`/v1/consumers/${sink}/messages`, { eventType: 'seed.one', payload: {} })).body.id as string;
    // A dashboard user (invited, so a reset link answers 409: still a 4xx problem) for the user routes.
    const user = (await api.post('/v1/users', { email: 'fuzz@example.test', role: 'viewer' })).body.user?.id as string;
    expect([sink, quarantine, endpoint, message, user].every((x) => typeof x === 'string')).toBe(true);
    expect((await api.post('/v1/event-types', { name: 'seed.type' })).status).toBe(201);

    const spec = (await client(gw.url).get('/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }>
      >;
    };
    const routes = Object.entries(spec.paths)
      .filter(([path, ops]) => path.startsWith('/v1/') && path !== '/v1/tenants' && !path.startsWith('/v1/tenants/') && ops.post)
      .map(([path, ops]) => ({ path, fields: Object.keys(ops.post!.requestBody?.content?.[JSON_CT]?.schema?.properties ?? {}) }));
    expect(routes.length).toBeGreaterThanOrEqual(8);

    const g = generator(prng(SEED));
    const plausible: Record<string, () => Record<string, unknown>> = {
      '/v1/api-keys': () => ({ name: g.string(), scopes: [g.pick(['read', 'publish', 'admin'])] }),
      '/v1/event-types': () => ({ name: `fuzz.${g.int(1e9)}`, description: g.string() }),
      '/v1/consumers': () => ({ name: `fuzz ${g.int(1e9)}`, metadata: { k: g.string() } }),
      '/v1/consumers/{consumer}/endpoints': () => ({ url: `http://127.0.0.1:9/${g.int(1e6)}`, description: g.string() }),
      '/v1/consumers/{consumer}/endpoints/{endpoint}/secret/rotate': () => ({}),
      '/v1/consumers/{consumer}/endpoints/{endpoint}/recover': () => ({ since: new Date(Date.now() - g.int(1e8)).toISOString() }),
      '/v1/consumers/{consumer}/messages': () => ({
        eventType: g.pick(['a.b', 'order.created', 'x']),
        payload: { text: g.string(), n: g.int(1e6) },
      }),
    };
    const pathOf = (template: string): string =>
      template.replace(/\{(\w+)\}/g, (_, name: string) => {
        if (name === 'consumer') return template === '/v1/consumers/{consumer}/endpoints' ? quarantine : sink;
        const ids: Record<string, string> = { endpoint, message, user, eventType: 'seed.type' };
        if (!(name in ids)) throw new Error(`no fuzz id for {${name}} in ${template}`);
        return ids[name]!;
      });

    const statuses = new Map<number, number>();
    const fiveXx: string[] = [];
    const badProblems: string[] = [];
    const accepted: Array<{ id: string; raw: string }> = [];
    let sent = 0;
    for (const route of routes) {
      const path = pathOf(route.path);
      const make = plausible[route.path] ?? (() => ({}));
      for (let i = 0; i < BODIES_PER_ROUTE; i++) {
        const raw = g.body(route.fields, make);
        const ct = g.pick([
          JSON_CT,
          JSON_CT,
          JSON_CT,
          JSON_CT,
          JSON_CT,
          JSON_CT,
          JSON_CT,
          JSON_CT,
          'application/json; charset=utf-8',
          'text/plain',
        ]);
        const r = await api.raw('POST', path, raw, { 'content-type': ct });
        sent++;
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        const sample = `${route.path} #${i} (seed ${SEED}) → ${r.status}: ${String(raw).slice(0, 200)}`;
        if (r.status >= 500) fiveXx.push(sample);
        else if (r.status >= 400) {
          const ok =
            (r.headers.get('content-type') ?? '').startsWith('application/problem+json') &&
            r.body?.status === r.status &&
            typeof r.body?.type === 'string' &&
            typeof r.body?.title === 'string';
          if (!ok) badProblems.push(`${sample} ${JSON.stringify(r.body).slice(0, 200)}`);
        } else if (route.path.endsWith('/messages') && r.status === 202) {
          accepted.push({ id: r.body.id, raw: String(raw) });
        }
      }
    }
    const count5xx = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
    console.log(
      `fuzz (seed ${SEED}): ${sent} requests on ${routes.length} POST routes; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `${accepted.length} messages accepted; 5xx seen = ${count5xx}`,
    );
    expect(fiveXx).toEqual([]);
    expect(badProblems).toEqual([]);
    expect(sent).toBe(routes.length * BODIES_PER_ROUTE);
    // The loop exercised both sides: refusals and acceptances.
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);
    expect(accepted.length).toBeGreaterThan(10);

    // Nothing accepted is lost or altered: each message reads back with the payload as sent.
    for (const a of accepted) {
      const m = await api.get(`/v1/consumers/${sink}/messages/${a.id}`);
      expect(m.status).toBe(200);
      expect(JSON.stringify(m.body.payload), a.raw.slice(0, 200)).toBe(JSON.stringify((JSON.parse(a.raw) as { payload: unknown }).payload));
    }
    // …and the message log holds exactly the seed message and the accepted ones: no refusal left a row.
    const stored: string[] = [];
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const page: Response = await api.get(`/v1/consumers/${sink}/messages?limit=250${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      stored.push(...page.body.data.map((m: { id: string }) => m.id));
      cursor = page.body.nextCursor;
    }
    expect(stored.sort()).toEqual([message, ...accepted.map((a) => a.id)].sort());
    // Whatever the fuzzer created, the quarantine consumer never received a message.
    expect((await api.get(`/v1/consumers/${quarantine}/messages`)).body.data).toEqual([]);
    expect((await client(gw.url).get('/readyz')).status).toBe(200);
  });
});
