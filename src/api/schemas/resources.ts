import { z } from 'zod';
import { HEADER_MASK } from '../../domain/header-masks.ts';
import { MESSAGE_STATUSES } from '../../domain/messages.ts';
import { Channel, DateTimeIn, EventTypeName, IdOf, JsonPayload, Metadata, Name, optionalBody, Ref } from './common.ts';
import { Compatibility, Filter } from './delivery-control.ts';

// --- tenants and keys ---
const ApiKeySecret = z
  .string()
  .describe('The key itself (tl_…): shown once, stored hashed')
  .meta({ examples: ['tl_Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZg'] });
export const TenantIn = z.strictObject({ name: Name.meta({ examples: ['Acme'] }) });
const TenantRateLimit = z
  .number()
  .int()
  .min(1)
  .max(10_000_000)
  .describe(
    "The tenant's plan: API requests per second, all its keys together; null: the operator's default (none unless TRAMLINE_RATE_LIMIT_PER_TENANT is set)",
  );
export const TenantPatchIn = z.strictObject({
  name: Name.optional(),
  rateLimitPerSecond: TenantRateLimit.nullable()
    .optional()
    .meta({ examples: [5000] }),
});
export const TenantOut = z.object({
  id: IdOf('ten'),
  name: z.string(),
  rateLimitPerSecond: TenantRateLimit.nullable(),
  createdAt: z.date(),
});
export const TenantCreatedOut = TenantOut.extend({ apiKey: ApiKeySecret });

export const ScopeSchema = z.enum(['admin', 'publish', 'read']);
export const ApiKeyIn = z.strictObject({
  name: z
    .string()
    .max(256)
    .optional()
    .meta({ examples: ['billing service'] }),
  scopes: z.array(ScopeSchema).min(1).max(3),
});
export const ApiKeyOut = z.object({
  id: IdOf('key'),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to recognise it'),
  scopes: z.array(ScopeSchema),
  createdAt: z.date(),
  revokedAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
});
export const ApiKeyCreatedOut = ApiKeyOut.extend({ apiKey: ApiKeySecret });

// --- event types ---
const JsonSchemaDoc = z
  .record(z.string(), z.unknown())
  .describe(
    'A JSON Schema (draft 2020-12) for the payload: enforced at publish (422 schema-mismatch). Each change makes a new version; `compatibility` says whether it breaks',
  )
  .meta({
    examples: [{ type: 'object', required: ['invoiceId'], properties: { invoiceId: { type: 'string' }, amount: { type: 'integer' } } }],
  });
export const EventTypeIn = z.strictObject({
  name: EventTypeName.meta({ examples: ['invoice.paid'] }),
  description: z.string().max(4096).optional(),
  schema: JsonSchemaDoc.optional(),
});
export const EventTypePatch = z.strictObject({
  description: z.string().max(4096).optional(),
  schema: JsonSchemaDoc.nullable().optional().describe('A JSON Schema (2020-12) for the payload, a new version; null removes it'),
});
export const EventTypeOut = z.object({
  name: z.string(),
  description: z.string(),
  schema: z
    .unknown()
    .nullable()
    .describe('The JSON Schema given for the payload, or null')
    .meta({ examples: [{ type: 'object', properties: { invoiceId: { type: 'string' } } }] }),
  archived: z.boolean().describe('Archived types are left out of lists unless includeArchived=true; publishing to them still works'),
  schemaVersion: z.number().int().nullable().describe('The number of the current schema version (1, 2, …); null without a schema'),
  compatibility: Compatibility.optional().describe('On a create or update that set a schema: whether it breaks the previous version'),
  createdAt: z.date(),
  updatedAt: z.date(),
});

// --- consumers ---
// A uid can never look like an id: a consumer is addressed by either in the same path segment.
const Uid = Ref.refine((u) => !u.startsWith('con_'), 'may not start with con_ (the prefix of consumer ids)').describe(
  'Your own reference for the consumer (unique per tenant); it may not start with con_',
);
const Operational = z
  .boolean()
  .describe(
    'A consumer of your own that receives operational events about your deliveries (endpoint.disabled, endpoint.recovered, message.attempt.exhausted, message.attempt.failing; see the document’s webhooks) as ordinary messages: give it an endpoint, filter by event type as usual.',
  );
export const ConsumerIn = z.strictObject({
  name: Name.meta({ examples: ['Globex'] }),
  uid: Uid.nullish().meta({ examples: ['customer-42'] }),
  metadata: Metadata.optional(),
  operational: Operational.optional(),
});
export const ConsumerPatch = z.strictObject({
  name: Name.optional(),
  uid: Uid.nullish(),
  metadata: Metadata.optional(),
  operational: Operational.optional(),
});
export const ConsumerOut = z.object({
  id: IdOf('con'),
  uid: z.string().nullable(),
  name: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  operational: Operational,
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
// Visible ASCII and spaces only: no CR/LF, so a value can never split the request. The mask (not ASCII) is let
// through: in a PATCH it keeps the stored value (domain/header-masks.ts).
const HeaderValue = z
  .string()
  .max(4096)
  .regex(new RegExp(`^(?:[\\x20-\\x7e\\t]*|${HEADER_MASK})$`), 'may contain printable ASCII only (no CR or LF)');
const Headers = z
  .record(HeaderName, HeaderValue)
  .refine((h) => Object.keys(h).length <= 32, 'at most 32 headers')
  .describe(
    `Custom headers sent with every delivery (values are secrets, sealed at rest). In a PATCH the set replaces the stored one; a value \`${HEADER_MASK}\` keeps that header's stored value.`,
  );

const EndpointFields = {
  url: z.string().min(1).max(2048),
  description: z.string().max(4096).optional(),
  eventTypes: z.array(EventTypeName).max(256).nullish(),
  channels: z.array(Channel).max(64).nullish(),
  headers: Headers.optional(),
  rateLimitPerSecond: z.number().int().min(1).max(100_000).nullish(),
  disabled: z.boolean().optional(),
  filter: Filter.nullish(),
};
export const EndpointIn = z.strictObject({ ...EndpointFields, secret: z.string().max(256).optional() });
export const EndpointPatch = z.strictObject({
  ...EndpointFields,
  url: EndpointFields.url.optional(),
  replaySkipped: z
    .boolean()
    .optional()
    .describe('With `disabled: false`: also send, now, the messages published while the endpoint was disabled (`skippedDeliveries`)'),
});
export const EndpointOut = z.object({
  id: IdOf('ep'),
  consumerId: IdOf('con'),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()).nullable(),
  channels: z.array(z.string()).nullable(),
  headers: z
    .record(z.string(), z.string())
    .describe(
      `Custom header names and values. Values in clear for admin keys and owner or developer sessions only; read keys, viewers and portal tokens get \`${HEADER_MASK}\` for each value.`,
    ),
  rateLimitPerSecond: z.number().nullable(),
  disabled: z.boolean(),
  disabledReason: z.string().nullable().describe('Why it is disabled: by you, a 410 Gone, or the breaker (TRAMLINE_DISABLE_AFTER…)'),
  disabledAt: z.date().nullable().describe('Since when it is disabled'),
  filter: z.string().nullable().describe('The payload filter (CEL), or null: every message of its types and channels'),
  skippedDeliveries: z
    .number()
    .int()
    .describe(
      'Messages published while the endpoint was disabled, kept as skipped deliveries: replay them with replaySkipped (PATCH) or POST …/replay-skipped',
    ),
  replayedDeliveries: z.number().int().optional().describe('On a PATCH with replaySkipped: how many skipped deliveries were queued'),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export const SecretOut = z.object({ secret: z.string() });
export const RotateIn = optionalBody(
  z.strictObject({ secret: z.string().max(256).optional().describe('The new secret (whsec_…); generated when absent') }),
);
export const RecoverIn = z.strictObject({
  since: DateTimeIn.describe(
    'Re-send what failed, or was skipped while the endpoint was disabled, for messages created at or after this time',
  ),
});
export const RecoverOut = z.object({ recovered: z.number() });

// --- messages ---
export const MessageIn = z.strictObject({
  eventType: EventTypeName.meta({ examples: ['invoice.paid'] }),
  payload: JsonPayload,
  eventId: Ref.optional()
    .describe('Your id for the event: publishing it again answers the original message (idempotency)')
    .meta({ examples: ['evt-2026-0042'] }),
  channels: z.array(Channel).max(16).optional(),
});
export const MessageOut = z.object({
  id: IdOf('msg'),
  eventId: z.string(),
  eventType: z.string(),
  consumerId: IdOf('con'),
  channels: z.array(z.string()).nullable(),
  payload: JsonPayload,
  createdAt: z.date(),
});
export const DeliveryOut = z.object({
  id: IdOf('dlv'),
  endpointId: IdOf('ep'),
  state: z
    .enum(['pending', 'sending', 'succeeded', 'failed', 'skipped'])
    .describe('skipped: the endpoint was disabled when the message was published; replayed on request'),
  attempts: z.number(),
  nextAttemptAt: z.date().nullable(),
  lastStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  updatedAt: z.date(),
});
export const MessageStatus = z
  .enum(MESSAGE_STATUSES)
  .describe(
    'From the message’s deliveries: `pending` some delivery is still under way (waiting, retrying or being sent); `succeeded` every delivery succeeded; `failed` nothing is under way and some delivery did not succeed; `none` no endpoint was subscribed to it',
  );
export const MessageListItemOut = MessageOut.extend({ status: MessageStatus });
export const MessageDetailOut = MessageOut.extend({ status: MessageStatus, deliveries: z.array(DeliveryOut) });
/**
 * A publish that repeats an eventId answers the original message. Its payload is shown only to a caller that
 * may read messages: a publish-only key learns the original's id and metadata, never its data.
 */
export const MessageReplayOut = MessageOut.extend({
  payload: JsonPayload.optional().describe('The original payload: only for a key with the read scope (or admin)'),
});
export const MessageListQuery = z.object({
  eventType: z.union([EventTypeName, z.array(EventTypeName).max(32)]).optional(),
  channel: Channel.optional(),
  before: DateTimeIn.optional().describe('Only messages created before this time'),
  after: DateTimeIn.optional().describe('Only messages created after this time'),
  status: MessageStatus.optional().describe('Only messages with this status (see `status` in the answer)'),
});
export const AttemptOut = z.object({
  id: IdOf('atm'),
  deliveryId: IdOf('dlv'),
  messageId: IdOf('msg'),
  endpointId: IdOf('ep'),
  attempt: z.number(),
  outcome: z.enum(['succeeded', 'failed']),
  statusCode: z.number().nullable(),
  error: z.string().nullable(),
  responseBody: z.string().nullable(),
  startedAt: z.date(),
  durationMs: z.number(),
});
