import { z } from 'zod';
import { Channel, EventTypeName, Metadata, Name, Ref } from './common.ts';

// --- tenants and keys ---
export const TenantIn = z.object({ name: Name });
export const TenantOut = z.object({ id: z.string(), name: z.string(), createdAt: z.date() });
export const TenantCreatedOut = TenantOut.extend({ apiKey: z.string() });

export const ScopeSchema = z.enum(['admin', 'publish', 'read']);
export const ApiKeyIn = z.object({ name: z.string().max(256).optional(), scopes: z.array(ScopeSchema).min(1).max(3) });
export const ApiKeyOut = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(ScopeSchema),
  createdAt: z.date(),
  revokedAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
});
export const ApiKeyCreatedOut = ApiKeyOut.extend({ key: z.string() });

// --- event types ---
export const EventTypeIn = z.object({
  name: EventTypeName,
  description: z.string().max(4096).optional(),
  schema: z.record(z.string(), z.unknown()).optional(),
});
export const EventTypeOut = z.object({
  name: z.string(),
  description: z.string(),
  schema: z.unknown().nullable(),
  archived: z.boolean(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

// --- consumers ---
export const ConsumerIn = z.object({ name: Name, uid: Ref.nullish(), metadata: Metadata.optional() });
export const ConsumerPatch = z.object({ name: Name.optional(), uid: Ref.nullish(), metadata: Metadata.optional() });
export const ConsumerOut = z.object({
  id: z.string(),
  uid: z.string().nullable(),
  name: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.date(),
  updatedAt: z.date(),
});

// --- endpoints ---
// Headers we set ourselves, or that would change the request's framing or target.
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'host',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'expect',
]);
const HeaderName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a valid header name')
  .transform((n) => n.toLowerCase())
  .refine((n) => !RESERVED_HEADERS.has(n) && !n.startsWith('webhook-'), 'this header is set by Tramline');
// Visible ASCII and spaces only: no CR/LF, so a value can never split the request.
const HeaderValue = z.string().max(4096).regex(/^[\x20-\x7e\t]*$/, 'may contain printable ASCII only (no CR or LF)');
const Headers = z
  .record(HeaderName, HeaderValue)
  .refine((h) => Object.keys(h).length <= 32, 'at most 32 headers');

const EndpointFields = {
  url: z.string().min(1).max(2048),
  description: z.string().max(4096).optional(),
  eventTypes: z.array(EventTypeName).max(256).nullish(),
  channels: z.array(Channel).max(64).nullish(),
  headers: Headers.optional(),
  rateLimitPerSecond: z.number().int().min(1).max(100_000).nullish(),
  disabled: z.boolean().optional(),
};
export const EndpointIn = z.object({ ...EndpointFields, secret: z.string().max(256).optional() });
export const EndpointPatch = z.object({ ...EndpointFields, url: EndpointFields.url.optional() });
export const EndpointOut = z.object({
  id: z.string(),
  consumerId: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()).nullable(),
  channels: z.array(z.string()).nullable(),
  headers: z.record(z.string(), z.string()),
  rateLimitPerSecond: z.number().nullable(),
  disabled: z.boolean(),
  disabledReason: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export const SecretOut = z.object({ secret: z.string() });
export const RotateIn = z.object({ secret: z.string().max(256).optional() }).nullish();
export const RecoverIn = z.object({ since: z.coerce.date() });
export const RecoverOut = z.object({ recovered: z.number() });

// --- messages ---
export const MessageIn = z.object({
  eventType: EventTypeName,
  payload: z.json(),
  eventId: Ref.optional(),
  channels: z.array(Channel).max(16).optional(),
});
export const MessageOut = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  consumerId: z.string(),
  channels: z.array(z.string()).nullable(),
  payload: z.unknown(),
  createdAt: z.date(),
});
export const DeliveryOut = z.object({
  id: z.string(),
  endpointId: z.string(),
  state: z.enum(['pending', 'sending', 'succeeded', 'failed']),
  attempts: z.number(),
  nextAttemptAt: z.date().nullable(),
  lastStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  updatedAt: z.date(),
});
export const MessageDetailOut = MessageOut.extend({ deliveries: z.array(DeliveryOut) });
export const MessageListQuery = z.object({
  eventType: z.union([EventTypeName, z.array(EventTypeName).max(32)]).optional(),
  channel: Channel.optional(),
  before: z.coerce.date().optional(),
  after: z.coerce.date().optional(),
});
export const AttemptOut = z.object({
  id: z.string(),
  deliveryId: z.string(),
  messageId: z.string(),
  endpointId: z.string(),
  attempt: z.number(),
  outcome: z.enum(['succeeded', 'failed']),
  statusCode: z.number().nullable(),
  error: z.string().nullable(),
  responseBody: z.string().nullable(),
  startedAt: z.date(),
  durationMs: z.number(),
});
