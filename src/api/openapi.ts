import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { $ZodType } from 'zod/v4/core';
import type { Access } from './plugins/auth.ts';
import { exampleOf } from './openapi-examples.ts';
import { operationalWebhooks } from './schemas/operational-events.ts';

/**
 * The OpenAPI 3.1 document at /openapi.json: generated from the zod schemas that validate the requests,
 * then completed with what the schemas cannot say — the problems every operation can answer (auth,
 * validation, limits, media types, shutdown), the headers of rate limits and idempotent replays, examples
 * for every request and response, operation security, tags and servers. A contract test checks the result
 * with independent validators and fuzzes every operation against it (test/contract/).
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Problem statuses a route answers besides the ones every route of its kind can (e.g. 409, 422). */
    problems?: number[];
  }
}

export const TAGS = [
  { name: 'tenants', description: 'Operator only (the operator token): the tenants of this gateway.' },
  { name: 'api-keys', description: 'A tenant’s API keys, each with scopes: admin, publish, read.' },
  { name: 'event-types', description: 'The catalog of event types a tenant publishes.' },
  { name: 'consumers', description: 'The tenant’s customers: each has endpoints and receives messages.' },
  { name: 'endpoints', description: 'A consumer’s webhook URLs, their signing secrets and their delivery attempts.' },
  { name: 'messages', description: 'Publish events to a consumer; follow their deliveries; resend.' },
  { name: 'portal', description: 'Short-lived tokens for the consumer portal embedded in the tenant’s own site or app.' },
  { name: 'audit-log', description: 'Who changed what, when and from where.' },
  { name: 'health', description: 'Liveness, readiness and identity: no credentials.' },
  { name: 'dashboard sessions', description: 'Signing in to the dashboard: cookie sessions with a CSRF token.' },
  { name: 'users', description: 'A tenant’s dashboard users and their roles: owner, developer, viewer.' },
  { name: 'stats', description: 'A tenant’s traffic and queue, for the dashboard’s charts.' },
  { name: 'settings', description: 'A tenant’s branding and the origins that may embed its portal.' },
];

interface Problem {
  name: string;
  description: string;
  code: string;
  title: string;
  detail: string;
  extra?: Record<string, unknown>;
}

/** Every problem status the API answers, as shared responses. */
const PROBLEMS: Record<number, Problem> = {
  400: {
    name: 'BadRequest',
    description:
      'The request is not valid: `errors` names each field (`body.{field}`, `querystring.{name}`, `params.{name}`) and what was expected.',
    code: 'validation',
    title: 'The request is not valid',
    detail: 'body.payload: required (any JSON value)',
    extra: { errors: [{ field: 'body.payload', message: 'required (any JSON value)' }] },
  },
  401: {
    name: 'Unauthorized',
    description: 'No valid credential: send `Authorization: Bearer <key>`.',
    code: 'unauthorized',
    title: 'A valid API key is required',
    detail: 'Send Authorization: Bearer <key>',
  },
  403: {
    name: 'Forbidden',
    description: 'The credential is valid but may not do this (a scope it lacks, or a portal token on a route outside the portal).',
    code: 'forbidden',
    title: 'This key may not do that',
    detail: 'This key lacks the admin scope',
  },
  404: {
    name: 'NotFound',
    description: 'No such resource in this tenant (other tenants’ resources answer 404 too).',
    code: 'not-found',
    title: 'Not found',
    detail: 'Consumer not found',
  },
  409: {
    name: 'Conflict',
    description: 'The request conflicts with the current state of the resource.',
    code: 'conflict',
    title: 'Conflict',
    detail: 'A consumer with uid customer-42 already exists',
  },
  413: {
    name: 'PayloadTooLarge',
    description: 'The body is larger than the gateway accepts (TRAMLINE_MAX_PAYLOAD_BYTES).',
    code: 'payload-too-large',
    title: 'The request body is too large',
    detail: 'Request body is too large',
  },
  414: {
    name: 'UriTooLong',
    description: 'A path parameter is longer than 256 characters.',
    code: 'uri-too-long',
    title: 'A path parameter is too long',
    detail: 'A path parameter is longer than 256 characters',
  },
  415: {
    name: 'UnsupportedMediaType',
    description: 'The body is not application/json in UTF-8.',
    code: 'unsupported-media-type',
    title: 'Unsupported content type',
    detail: 'Send application/json',
  },
  422: {
    name: 'UnprocessableContent',
    description: 'The endpoint URL is not allowed: it resolves to a private, loopback or reserved address.',
    code: 'egress-refused',
    title: 'The endpoint URL is not allowed',
    detail: 'https://10.0.0.7/hook resolves to a private address',
  },
  429: {
    name: 'TooManyRequests',
    description:
      'The API key or the tenant is over its rate limit: retry after `Retry-After` seconds. `limit` and `scope` say which limit.',
    code: 'rate-limited',
    title: 'Too many requests',
    detail: 'This API key is over its limit of 1000 requests per 60 s; retry in 12 s',
    extra: { limit: 1000, scope: 'key' },
  },
  431: {
    name: 'HeadersTooLarge',
    description: 'The request line and headers exceed the maximum size (answered by the HTTP parser, before any route).',
    code: 'headers-too-large',
    title: 'Request header fields too large',
    detail: 'The request line and headers exceed the maximum size',
  },
  503: {
    name: 'ServiceUnavailable',
    description: 'The gateway is shutting down or overloaded: retry, on another replica if you can.',
    code: 'unavailable',
    title: 'Service unavailable',
    detail: 'The server is shutting down',
  },
};

const HEADERS = {
  RateLimitLimit: { description: 'Requests allowed per window for this API key', schema: { type: 'integer' }, example: 1000 },
  RateLimitRemaining: { description: 'Requests left in the current window', schema: { type: 'integer' }, example: 998 },
  RateLimitReset: { description: 'Seconds until the window resets', schema: { type: 'integer' }, example: 42 },
  RetryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer' }, example: 12 },
  IdempotentReplayed: {
    description: '`true` when the answer is the message published before with the same eventId or Idempotency-Key',
    schema: { type: 'string', enum: ['true'] },
    example: 'true',
  },
};

const rateLimitHeaders = {
  'x-ratelimit-limit': { $ref: '#/components/headers/RateLimitLimit' },
  'x-ratelimit-remaining': { $ref: '#/components/headers/RateLimitRemaining' },
  'x-ratelimit-reset': { $ref: '#/components/headers/RateLimitReset' },
};

interface RouteFacts {
  access: Access;
  portal: boolean;
  problems: number[];
  hasParams: boolean;
  bodyOptional: boolean;
  method: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the generated document is walked and completed field by field
type Json = Record<string, any>;

/** The @fastify/swagger options: the document's frame, and the transforms that complete it. */
export function openapiOptions(o: { version: string; serverUrl: string | undefined }): FastifyDynamicSwaggerOptions {
  const facts = new Map<string, RouteFacts>();
  const zodConfig = { zodToJsonConfig: { override: zodOverride } };
  const zodTransform = createJsonSchemaTransform(zodConfig);
  const zodTransformObject = createJsonSchemaTransformObject(zodConfig);
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tramline API',
        version: o.version,
        description:
          'Publish events; Tramline commits them and delivers them, signed (Standard Webhooks) and retried, to your consumers’ endpoints.\n\n' +
          'Authenticate with `Authorization: Bearer <API key>`. Errors are RFC 9457 problem documents (`application/problem+json`). ' +
          'Lists are cursor-paginated: pass `nextCursor` as `cursor` until it is null.',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      servers: [{ url: o.serverUrl ?? 'http://localhost:8080', description: 'This gateway' }],
      tags: TAGS,
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key (tl_…)' },
          portalToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'A portal token (tlp_…) from createPortalSession: one consumer’s portal routes only',
          },
          operatorToken: { type: 'http', scheme: 'bearer', description: 'The operator token (TRAMLINE_OPERATOR_TOKEN)' },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'tramline_session',
            description: 'A dashboard session (POST /v1/auth/sign-in); changes also need the x-csrf-token header',
          },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: (args) => {
      const { route, url } = args;
      const schema = route.schema as { hide?: boolean; body?: $ZodType; params?: unknown } | undefined;
      if (!schema?.hide) {
        const config = (route.config ?? {}) as { access?: Access; portal?: boolean; problems?: number[] };
        const methods = typeof route.method === 'string' ? [route.method] : route.method;
        for (const method of methods) {
          facts.set(`${method.toLowerCase()} ${url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`, {
            access: config.access ?? 'public',
            portal: config.portal === true,
            problems: config.problems ?? [],
            hasParams: schema?.params !== undefined,
            bodyOptional: schema?.body !== undefined && z.safeParse(schema.body, undefined).success,
            method: method.toLowerCase(),
          });
        }
      }
      return zodTransform(args);
    },
    transformObject: (args) => ({ ...complete(zodTransformObject(args) as Json, facts), webhooks: operationalWebhooks() }),
  };
}

/** fastify-type-provider-zod's override (dates as date-time strings in answers, no empty union branches), kept when passing ours. */
function zodOverride(ctx: { zodSchema: $ZodType; jsonSchema: Json }): void {
  const def = ctx.zodSchema._zod.def as { type: string };
  if (def.type === 'union' && Array.isArray(ctx.jsonSchema.anyOf)) {
    ctx.jsonSchema.anyOf = ctx.jsonSchema.anyOf.filter((s: Json) => Object.keys(s).length > 0);
  }
  if (def.type === 'date') {
    ctx.jsonSchema.type = 'string';
    ctx.jsonSchema.format = 'date-time';
  }
  if (def.type === 'undefined') ctx.jsonSchema.type = 'null';
  // `unknown().nullable()`: any value already includes null.
  if (Array.isArray(ctx.jsonSchema.anyOf) && ctx.jsonSchema.anyOf.some((s: Json) => Object.keys(s).length === 0))
    delete ctx.jsonSchema.anyOf;
}

const SUCCESS: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '204': 'No content' };

/** Adds to the generated document what the route schemas cannot say. */
function complete(doc: Json, facts: Map<string, RouteFacts>): Json {
  doc.components ??= {};
  doc.components.schemas ??= {};
  doc.components.headers = HEADERS;
  doc.components.responses = Object.fromEntries(
    Object.values(PROBLEMS).map((p) => [
      p.name,
      problemResponse(
        p,
        p.name === 'TooManyRequests' ? { 'retry-after': { $ref: '#/components/headers/RetryAfter' }, ...rateLimitHeaders } : undefined,
      ),
    ]),
  );
  const schemas = doc.components.schemas as Record<string, Json>;
  // Problems are answers only: the input variant the zod transform adds for registered schemas is unused.
  delete schemas.ProblemInput;
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item) as [string, Json][]) {
      const f = facts.get(`${method} ${path}`);
      if (!f) continue;
      completeOperation(op, f, path, schemas);
    }
  }
  return doc;
}

function completeOperation(op: Json, f: RouteFacts, path: string, schemas: Record<string, Json>): void {
  const tenantRoute = f.access !== 'public' && f.access !== 'operator';
  if (f.access === 'public') op.security = [];
  else if (f.portal) op.security = [{ apiKey: [] }, { portalToken: [] }];

  // Success answers: a description, JSON content with an example, and the rate-limit headers.
  for (const [status, res] of Object.entries(op.responses as Record<string, Json>)) {
    if (!/^2/.test(status)) continue;
    if (!res.description || res.description === 'Default Response') res.description = SUCCESS[status] ?? 'Success';
    if (status === '204') delete res.content;
    for (const media of Object.values((res.content ?? {}) as Record<string, Json>)) media.example ??= exampleOf(media.schema, schemas);
    if (tenantRoute) res.headers = { ...rateLimitHeaders, ...res.headers };
    if (op.operationId === 'publishMessage' && status === '200')
      res.headers = { ...res.headers, 'idempotent-replayed': { $ref: '#/components/headers/IdempotentReplayed' } };
  }
  const readiness = op.operationId === 'getReadiness';
  for (const [status, res] of Object.entries(op.responses as Record<string, Json>)) {
    if (readiness && status === '503') {
      res.description = 'Not ready: the failing checks';
      for (const media of Object.values((res.content ?? {}) as Record<string, Json>))
        media.example = { status: 'not ready', checks: { database: 'unreachable' } };
    }
  }

  // The problems this operation can answer.
  const statuses = new Set<number>([400, 415, 431, 503, ...f.problems]);
  if (f.method !== 'get') statuses.add(413);
  if (f.hasParams) statuses.add(404).add(414);
  if (f.access !== 'public') statuses.add(401).add(403);
  if (tenantRoute) statuses.add(429);
  if (readiness) statuses.delete(503);
  for (const s of [...statuses].sort()) op.responses[String(s)] = { $ref: `#/components/responses/${PROBLEMS[s]!.name}` };

  if (op.requestBody) {
    if (f.bodyOptional) op.requestBody.required = false;
    for (const media of Object.values((op.requestBody.content ?? {}) as Record<string, Json>))
      media.example ??= exampleOf(media.schema, schemas);
  }
  for (const p of (op.parameters ?? []) as Json[]) {
    if (p.example === undefined && p.schema?.examples === undefined) p.example = exampleOf(p.schema, schemas, p.name);
  }
  if (!op.operationId) throw new Error(`${path}: every operation needs an operationId`);
}

function problemResponse(p: Problem, headers?: Json): Json {
  return {
    description: p.description,
    ...(headers ? { headers } : {}),
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        example: {
          type: `https://tramline.dev/problems/${p.code}`,
          title: p.title,
          status: Number(Object.keys(PROBLEMS).find((k) => PROBLEMS[Number(k)] === p)),
          detail: p.detail,
          ...p.extra,
        },
      },
    },
  };
}
