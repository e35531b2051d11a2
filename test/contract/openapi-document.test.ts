import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { redoclyFindings, swaggerParserFindings } from './validators.ts';

/**
 * The served /openapi.json, checked by two independent validators: swagger-parser (the OpenAPI 3.1
 * meta-schema and $refs) and Redocly's `recommended` rules (with its warnings too: examples that do not
 * match their schemas, operations without an id or a 4xx answer, unused components).
 */
let gw: TestGateway;
let doc: any;

beforeAll(async () => {
  gw = await startTestGateway();
  const res = await fetch(`${gw.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = await res.json();
});
afterAll(() => gw?.stop());

describe('the OpenAPI document', () => {
  it('is valid for swagger-parser (0 errors)', async () => {
    expect(await swaggerParserFindings(doc)).toEqual([]);
  });

  it('passes Redocly’s recommended rules with 0 errors and 0 warnings', async () => {
    const { errors, warnings } = await redoclyFindings(doc);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('is OpenAPI 3.1 at version 0.2.0, names its server, and defines every tag it uses', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('0.2.0');
    expect(doc.servers).toEqual([{ url: '/', description: 'This gateway (set TRAMLINE_PUBLIC_URL to name it)' }]);
    const defined = new Set(doc.tags.map((t: { name: string }) => t.name));
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
        expect(op.summary, `${method} ${path}`).toBeTruthy();
        expect(op.description, `${method} ${path}`).toBeTruthy();
        expect(op.tags.length, `${method} ${path}`).toBeGreaterThan(0);
        for (const t of op.tags) expect(defined.has(t), `${method} ${path}: tag ${t}`).toBe(true);
      }
    }
  });

  it('declares problems as application/problem+json with the members they carry', () => {
    const problem = doc.components.schemas.Problem;
    expect(Object.keys(problem.properties)).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'errors', 'limit', 'scope']),
    );
    for (const [name, res] of Object.entries<any>(doc.components.responses)) {
      expect(Object.keys(res.content), name).toEqual(['application/problem+json']);
      expect(res.content['application/problem+json'].example, name).toBeDefined();
    }
    expect(Object.keys(doc.components.responses.TooManyRequests.headers)).toEqual(
      expect.arrayContaining(['retry-after', 'x-ratelimit-limit']),
    );
  });

  it('has no security on health and identity, bearer security elsewhere, 401/403 on every authenticated operation', () => {
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        // Signing in, accepting an invitation and resetting a password (the one-time token is the credential) are how
        // a dashboard user gets a credential at all.
        const isPublic = [
          '/healthz',
          '/readyz',
          '/.well-known/tramline',
          '/v1/auth/sign-in',
          '/v1/auth/accept-invite',
          '/v1/auth/reset-password',
        ].includes(path);
        const security = op.security ?? doc.security;
        expect(security.length === 0, `${method} ${path}`).toBe(isPublic);
        if (!isPublic) expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '401', '403']));
      }
    }
  });

  it('documents the payload as any JSON value, dates as date-times, ids with their pattern, and idempotent replays', () => {
    const publish = doc.paths['/v1/consumers/{consumer}/messages'].post;
    const body = publish.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['eventType', 'payload']));
    expect(body.properties.payload.$ref).toBeUndefined();
    expect(body.additionalProperties).toBe(false);
    expect(publish.responses['200'].headers['idempotent-replayed']).toBeDefined();
    const list = doc.paths['/v1/consumers/{consumer}/messages'].get;
    const before = list.parameters.find((p: any) => p.name === 'before');
    expect(before.schema.format).toBe('date-time');
    const out = publish.responses['202'].content['application/json'].schema;
    expect(out.properties.id.pattern).toMatch(/^\^msg_/);
    expect(out.properties.createdAt.format).toBe('date-time');
  });

  it('marks the optional bodies optional (secret rotation, portal sessions)', () => {
    expect(doc.paths['/v1/consumers/{consumer}/endpoints/{endpoint}/secret/rotate'].post.requestBody.required).toBe(false);
    expect(doc.paths['/v1/consumers/{consumer}/portal-sessions'].post.requestBody.required).toBe(false);
  });
});
