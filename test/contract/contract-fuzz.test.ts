import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, OPERATOR_TOKEN, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { client, type Response } from '../helpers/client.ts';

/**
 * Contract fuzzing: schema-violating requests to EVERY operation of the served document — no or a bad
 * credential, bad and unknown ids, over-long path parameters, bad cursors, limits and dates, bodies with
 * wrong types, missing and unknown fields, not an object, broken JSON, the wrong media type or charset,
 * over the size limit — and the documented example itself. Every answer must be a status the document
 * declares for that operation, never a 5xx, and every error must be application/problem+json.
 */

const MAX_PAYLOAD_BYTES = 4096;
let gw: TestGateway;
let doc: any;
let t: TestTenant;
const ids: Record<string, string> = {};
/** Resources that DELETE operations may remove (so the others keep theirs). */
const victims: Record<string, string> = {};

beforeAll(async () => {
  gw = await startTestGateway({
    env: {
      TRAMLINE_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES),
      TRAMLINE_RATE_LIMIT_PER_KEY: '1000000',
      TRAMLINE_RATE_LIMIT_PER_TENANT: '1000000',
    },
  });
  doc = (await client(gw.url).get('/openapi.json')).body;
  t = await createTenant(gw, 'Contract');
  const made = async (r: Response, what: string): Promise<any> => {
    expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r.body;
  };
  const consumer = await made(await t.api.post('/v1/consumers', { name: 'Contract', uid: 'contract-1' }), 'consumer');
  const endpoint = await made(
    await t.api.post(`/v1/consumers/${consumer.id}/endpoints`, { url: 'http://127.0.0.1:9/contract' }),
    'endpoint',
  );
  const message = await made(
    await t.api.post(`/v1/consumers/${consumer.id}/messages`, { eventType: 'contract.test', payload: { n: 1 } }),
    'message',
  );
  await made(await t.api.post('/v1/event-types', { name: 'contract.test' }), 'event type');
  const key = await made(await t.api.post('/v1/api-keys', { name: 'extra', scopes: ['read'] }), 'key');
  Object.assign(ids, { consumer: consumer.id, endpoint: endpoint.id, message: message.id, eventType: 'contract.test', apiKey: key.id });

  const vConsumer = await made(await t.api.post('/v1/consumers', { name: 'Victim' }), 'victim consumer');
  const vEndpoint = await made(
    await t.api.post(`/v1/consumers/${consumer.id}/endpoints`, { url: 'http://127.0.0.1:9/victim' }),
    'victim endpoint',
  );
  await made(await t.api.post('/v1/event-types', { name: 'contract.victim' }), 'victim event type');
  const vKey = await made(await t.api.post('/v1/api-keys', { name: 'victim', scopes: ['read'] }), 'victim key');
  Object.assign(victims, {
    consumer: vConsumer.id,
    endpoint: vEndpoint.id,
    eventType: 'contract.victim',
    apiKey: vKey.id,
    message: message.id,
  });
});
afterAll(() => gw?.stop());

interface Case {
  what: string;
  path: string;
  query?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  auth?: 'own' | 'none' | 'garbage';
}

interface Operation {
  method: string;
  path: string;
  op: any;
}

const operations = (): Operation[] =>
  Object.entries<any>(doc.paths).flatMap(([path, item]) =>
    Object.entries<any>(item)
      .filter(([m]) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );

const resolve = (schema: any): any => (schema?.$ref ? doc.components.schemas[String(schema.$ref).split('/').pop()!] : schema);

/** A value of a type the schema does not accept. */
function wrongValue(schema: any): unknown {
  const s = resolve(schema) ?? {};
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : s.anyOf ? s.anyOf.flatMap((b: any) => resolve(b)?.type) : [];
  if (types.length === 0) return undefined; // any value is accepted
  if (!types.includes('string')) return 'not-the-right-type';
  if (!types.includes('object')) return { unexpected: 'object' };
  return 12345;
}

function casesFor(o: Operation): Case[] {
  const pathWith = (over: Record<string, string> = {}): string =>
    o.path.replace(/\{(\w+)\}/g, (_, name: string) =>
      encodeURIComponent(over[name] ?? (o.method === 'DELETE' ? victims : ids)[name] ?? `unknown_${name}`),
    );
  const params = [...o.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const query = ((o.op.parameters ?? []) as any[]).filter((p) => p.in === 'query');
  const media = o.op.requestBody?.content?.['application/json'];
  const bodySchema = resolve(media?.schema);
  const example = media?.example;
  const json = (v: unknown): Partial<Case> => ({ body: JSON.stringify(v), headers: { 'content-type': 'application/json' } });
  const base = pathWith();
  const cases: Case[] = [];
  const secured = (o.op.security ?? doc.security).length > 0;
  if (secured) {
    cases.push({ what: 'no credential', path: base, auth: 'none' });
    cases.push({ what: 'a bad credential', path: base, auth: 'garbage' });
  }
  for (const p of params) {
    cases.push({ what: `params.${p} not a valid id`, path: pathWith({ [p]: 'bad id!' }) });
    cases.push({ what: `params.${p} unknown`, path: pathWith({ [p]: `${p === 'consumer' ? 'con' : 'x'}_00000000000000000000000000` }) });
    cases.push({ what: `params.${p} over 256 characters`, path: pathWith({ [p]: 'a'.repeat(300) }) });
  }
  for (const q of query) {
    const bad: Record<string, string[]> = {
      cursor: ['garbage!!', 'con_zzz', 'x'.repeat(600)],
      limit: ['abc', '0', '100000', '1.5'],
      before: ['yesterday', '2026-02-30T00:00:00Z', '-200000-01-01T00:00:00Z', '1', '0000-01-01T00:00:00Z'],
      after: ['2026-13-01T00:00:00Z', '1', '2026-11-26'],
      includeArchived: ['maybe'],
      eventType: ['a b', ''],
      channel: ['a b'],
      challenge: ['short', '!'.repeat(40)],
    };
    for (const v of bad[q.name] ?? ['\u0000', 'x'.repeat(5000)])
      cases.push({ what: `querystring.${q.name}=${v.slice(0, 30)}`, path: base, query: `?${q.name}=${encodeURIComponent(v)}` });
  }
  cases.push({ what: 'a NUL in an unknown query parameter', path: base, query: '?zzz=%00' });
  cases.push({ what: 'headers over the size limit', path: base, headers: { 'x-padding': 'x'.repeat(20_000) } });
  if (o.method !== 'GET') {
    if (bodySchema) {
      if (example !== undefined && o.method !== 'DELETE') cases.push({ what: 'the documented example', path: base, ...json(example) });
      const valid = (example ?? {}) as Record<string, unknown>;
      cases.push({ what: 'an empty object', path: base, ...json({}) });
      cases.push({ what: 'an unknown field', path: base, ...json({ ...valid, zzzUnknown: 1 }) });
      for (const v of [[], 'a string', 42, null]) cases.push({ what: `a body that is ${JSON.stringify(v)}`, path: base, ...json(v) });
      for (const [field, schema] of Object.entries<any>(bodySchema.properties ?? {})) {
        const wrong = wrongValue(schema);
        if (wrong !== undefined) cases.push({ what: `body.${field} of the wrong type`, path: base, ...json({ ...valid, [field]: wrong }) });
        const copy = { ...valid };
        delete copy[field];
        cases.push({ what: `body.${field} missing`, path: base, ...json(copy) });
        if (resolve(schema)?.format === 'date-time' || field === 'since') {
          for (const d of ['yesterday', '2026-02-30T00:00:00Z', '-200000-01-01T00:00:00Z', 1])
            cases.push({ what: `body.${field}=${d}`, path: base, ...json({ ...valid, [field]: d }) });
        }
      }
    }
    cases.push({ what: 'broken JSON', path: base, body: '{"a":', headers: { 'content-type': 'application/json' } });
    cases.push({ what: 'an oversized body', path: base, ...json({ payload: 'x'.repeat(MAX_PAYLOAD_BYTES + 10) }) });
    cases.push({ what: 'text/plain', path: base, body: 'hello', headers: { 'content-type': 'text/plain' } });
    cases.push({ what: 'JSON in latin1', path: base, body: '{}', headers: { 'content-type': 'application/json; charset=latin1' } });
  } else {
    cases.push({ what: 'a charset that is not UTF-8', path: base, headers: { 'content-type': 'application/json; charset=latin1' } });
  }
  return cases;
}

describe('contract fuzzing', () => {
  it('every operation answers schema-violating requests with a declared status: no 5xx, errors as problem+json', async () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(35);
    // Operations that destroy come last: the others keep their resources.
    ops.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;
    for (const o of ops) {
      const declared = new Set(Object.keys(o.op.responses));
      const operator = (o.op.security ?? []).some((s: object) => 'operatorToken' in s);
      for (const c of casesFor(o)) {
        const headers: Record<string, string> = { ...c.headers };
        const auth = c.auth ?? 'own';
        if (auth === 'own') headers.authorization = `Bearer ${operator ? OPERATOR_TOKEN : t.key}`;
        if (auth === 'garbage') headers.authorization = `Bearer tl_${'x'.repeat(43)}`;
        const r = await client(gw.url).raw(o.method, c.path + (c.query ?? ''), c.body, headers);
        sent++;
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        const where = `${o.op.operationId} (${o.method} ${o.path}) with ${c.what} → ${r.status}`;
        if (r.status >= 500 && !(o.op.operationId === 'getReadiness' && r.status === 503))
          failures.push(`${where}: a 5xx ${JSON.stringify(r.body).slice(0, 200)}`);
        if (!declared.has(String(r.status)) && !declared.has('default'))
          failures.push(`${where}: not declared (declared: ${[...declared].join(', ')}) ${JSON.stringify(r.body).slice(0, 200)}`);
        if (r.status >= 400 && !(o.op.operationId === 'getReadiness' && r.status === 503)) {
          const ct = r.headers.get('content-type') ?? '';
          if (!ct.startsWith('application/problem+json')) failures.push(`${where}: content-type ${ct}`);
          else if (
            r.body?.status !== r.status ||
            typeof r.body?.type !== 'string' ||
            !/^https:\/\/tramline\.dev\/problems\/[a-z-]+$/.test(r.body.type)
          ) {
            failures.push(`${where}: not a problem document ${JSON.stringify(r.body).slice(0, 200)}`);
          }
        }
      }
    }
    console.log(
      `contract fuzz: ${sent} requests on ${ops.length} operations; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`,
    );
    expect(failures).toEqual([]);
    expect(statuses.get(400)).toBeGreaterThan(100);
  });
});
