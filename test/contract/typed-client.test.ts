import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/**
 * A typed client generated from the served document (openapi-typescript), and a small program that uses
 * it, type-checked with tsc: the document is good enough to code against, and says what the API says
 * (apiKey, a required payload of any JSON value, strict bodies, problem members, the 429's extensions).
 */
let gw: TestGateway;
let dir: string;

beforeAll(async () => {
  gw = await startTestGateway();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-typed-client-'));
});
afterAll(async () => {
  await gw?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const PROGRAM = `
import type { components, operations, paths } from './api';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Problem<T> = T extends { content: { 'application/problem+json': infer B } } ? B : never;

type PublishBody = NonNullable<paths['/v1/consumers/{consumer}/messages']['post']['requestBody']>['content']['application/json'];
type Published = Json<operations['publishMessage']['responses']['202']>;
type Replayed = operations['publishMessage']['responses']['200'];
type RateLimited = Problem<operations['publishMessage']['responses']['429']>;
type NewKey = Json<operations['createApiKey']['responses']['201']>;
type NewTenant = Json<operations['createTenant']['responses']['201']>;
type AuditPage = Json<operations['listAuditLog']['responses']['200']>;
type Rotate = NonNullable<operations['rotateEndpointSecret']['requestBody']>['content']['application/json'];

const publish: PublishBody = { eventType: 'invoice.paid', payload: { invoiceId: 'inv_42', amount: 4200 }, eventId: 'evt-1', channels: ['eu'] };
const anyJson: PublishBody[] = [{ eventType: 'a', payload: null }, { eventType: 'a', payload: [1, 'two'] }, { eventType: 'a', payload: 'text' }];
// @ts-expect-error payload is required
const noPayload: PublishBody = { eventType: 'invoice.paid' };
// @ts-expect-error unknown fields are refused
const unknownField: PublishBody = { eventType: 'a', payload: 1, nope: true };

declare const published: Published;
const id: string = published.id;
const createdAt: string = published.createdAt;
declare const replayed: Replayed;
const replayHeader: 'true' | undefined = replayed.headers['idempotent-replayed'];

declare const limited: RateLimited;
const limit: number | undefined = limited.limit;
const scope: 'key' | 'tenant' | undefined = limited.scope;
const fields: { field: string; message: string }[] | undefined = limited.errors;

declare const key: NewKey;
const secret: string = key.apiKey;
// @ts-expect-error the old name is gone
const old = key.key;
declare const tenant: NewTenant;
const tenantKey: string = tenant.apiKey;
declare const audit: AuditPage;
const when: string = audit.data[0]!.createdAt;
const next: string | null = audit.nextCursor;
const rotateWithout: Rotate | undefined = undefined;

type EventTypeRoutes = keyof paths & \`/v1/event-types\${string}\`;
const routes: EventTypeRoutes[] = ['/v1/event-types', '/v1/event-types/{eventType}', '/v1/event-types/{eventType}/archive', '/v1/event-types/{eventType}/unarchive'];
const revoke: paths['/v1/api-keys/{apiKey}']['delete']['parameters']['path'] = { apiKey: 'key_01' };
const problem: components['schemas']['Problem'] = { type: 'https://tramline.dev/problems/validation', title: 'x', status: 400 };

export const used = [publish, anyJson, noPayload, unknownField, id, createdAt, replayHeader, limit, scope, fields, secret, old, tenantKey, when, next, rotateWithout, routes, revoke, problem];
`;

it('generates a typed client from /openapi.json that a program type-checks against', { timeout: 120_000 }, async () => {
  const doc = await (await fetch(`${gw.url}/openapi.json`)).json();
  const types = astToString(await openapiTS(doc as Parameters<typeof openapiTS>[0]));
  expect(types).toContain('publishMessage');
  fs.writeFileSync(path.join(dir, 'api.ts'), types);
  fs.writeFileSync(path.join(dir, 'main.ts'), PROGRAM);
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        module: 'esnext',
        moduleResolution: 'bundler',
        types: [],
        noUnusedLocals: false,
        skipLibCheck: true,
      },
      files: ['main.ts'],
    }),
  );
  const tsc = path.resolve('node_modules/typescript/bin/tsc');
  const run = await promisify(execFile)(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
    () => ({ ok: true, out: '' }),
    (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
  expect(run.out).toBe('');
  expect(run.ok).toBe(true);
});
