import { z } from 'zod';
import type { IdPrefix } from '../../domain/ids.ts';

/** Names, ids and uids: printable, bounded, no control characters. */
export const Name = z.string().trim().min(1).max(256);
export const Ref = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_.:~-]+$/, 'may contain letters, digits and _ . : ~ - only');
export const EventTypeName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain letters, digits and _ . : - only');
export const Channel = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain letters, digits and _ . : - only');
export const Metadata = z.record(z.string().max(256), z.string().max(4096)).refine((m) => Object.keys(m).length <= 64, 'at most 64 keys');

/** A TypeID suffix: 26 characters of Crockford base32 (UUIDv7 underneath, so ids sort by creation). */
const TYPEID_SUFFIX = '[0-7][0-9a-hjkmnp-tv-z]{25}';
export const idPattern = (prefix: IdPrefix): RegExp => new RegExp(`^${prefix}_${TYPEID_SUFFIX}$`);
const ID_EXAMPLE_SUFFIX = '01kb2x3y4z5a6b7c8d9e0f1g2h';

/** The id of a resource in a response: its prefix, then a TypeID suffix. */
export const IdOf = (prefix: IdPrefix) =>
  z
    .string()
    .regex(idPattern(prefix))
    .meta({ examples: [`${prefix}_${ID_EXAMPLE_SUFFIX}`] });

/** JSON.parse reads 1e400 as Infinity, which JSON cannot carry back: such a payload is refused. */
function isJson(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (v === null || typeof v !== 'object') return true;
  return (Array.isArray(v) ? v : Object.values(v)).every(isJson);
}

/** Any JSON value (object, array, string, number, boolean or null). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A payload: any JSON value, but present. Written for the document as the empty schema (any value);
 * `z.json()` is recursive, and fastify-type-provider-zod 7 drops the definition its `$ref` points at
 * (turkerdev/fastify-type-provider-zod#210), leaving a document no validator accepts. The body was
 * parsed from JSON, so every value that reaches this check is JSON already.
 */
export const JsonPayload = z
  .custom<JsonValue>((v) => v !== undefined && isJson(v), {
    error: (issue) => (issue.input === undefined ? 'required (any JSON value)' : 'not JSON: numbers must be finite (1e400 is not)'),
  })
  .meta({
    description: 'Any JSON value: object, array, string, number, boolean or null.',
    examples: [{ invoiceId: 'inv_42', amount: 4200, currency: 'EUR' }],
  });

/** A body that may be left out: a request without one reaches the validator as null (Fastify), and passes as undefined. */
export const optionalBody = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema.optional());

const RFC3339 = 'must be an ISO 8601 date-time';
/**
 * A date-time in a request (`since`, `before`, `after`): RFC 3339 with a time zone (Z or ±hh:mm), a real
 * calendar day (no 2026-02-30), years 0001 to 9999. Anything else is 400, never a guess: `new Date("1")` is a date.
 */
export const DateTimeIn = z.iso
  .datetime({ offset: true, error: RFC3339 })
  .refine((s) => !s.startsWith('0000'), RFC3339)
  .transform((s) => new Date(s))
  .meta({ examples: ['2026-11-26T10:00:00Z'] });

export const Problem = z
  .object({
    type: z
      .string()
      .meta({ format: 'uri', examples: ['https://tramline.dev/problems/validation'] })
      .describe('https://tramline.dev/problems/<code>: the kind of problem'),
    title: z.string().describe('Short summary of the kind of problem; the same for every occurrence'),
    status: z.number().int().describe('The HTTP status code'),
    detail: z.string().optional().describe('What went wrong this time'),
    errors: z
      .array(
        z.object({ field: z.string().describe('body.{field}, querystring.{name}, params.{name} or headers.{name}'), message: z.string() }),
      )
      .optional()
      .describe('Validation problems: one entry per field'),
    limit: z.number().int().optional().describe('429 only: the limit that was exceeded (requests per window)'),
    scope: z.enum(['key', 'tenant']).optional().describe('429 only: which limit was exceeded, the API key’s or the tenant’s'),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem document (application/problem+json).' });

const PageLimit = z.coerce.number().int().min(1).max(250).default(50).describe('Page size (1 to 250)');

/**
 * A list's query: `limit`, and the `cursor` a previous page returned as `nextCursor`. The cursor is the
 * last key of that page, so a value that is not such a key is refused (400) rather than answered with a
 * wrong or empty page a client would read as the end of the list.
 */
export const pageQuery = (cursor: z.ZodString) =>
  z.object({ limit: PageLimit, cursor: cursor.optional().describe('nextCursor of the previous page') });
const NOT_A_CURSOR = 'not a cursor: pass the nextCursor of a previous page';
export const idCursor = (prefix: IdPrefix) =>
  z
    .string()
    .regex(idPattern(prefix), NOT_A_CURSOR)
    .meta({ examples: [`${prefix}_${ID_EXAMPLE_SUFFIX}`] });
export const nameCursor = () =>
  z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9_.:-]+$/, NOT_A_CURSOR)
    .meta({ examples: ['invoice.paid'] });

/** @deprecated in favour of pageQuery(cursor): kept for routes added by others until they name their cursor. */
export const PageQuery = z.object({ limit: PageLimit, cursor: z.string().min(1).max(512).optional() });

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  });

export const TenantParams = z.object({ tenant: IdOf('ten').describe('The tenant’s id (ten_…)') });
export const ConsumerParams = z.object({ consumer: Ref.describe('The consumer’s id (con_…) or the uid the tenant gave it') });
export const EndpointParams = ConsumerParams.extend({ endpoint: Ref.describe('The endpoint’s id (ep_…)') });
export const MessageParams = ConsumerParams.extend({ message: Ref.describe('The message’s id (msg_…) or its eventId') });
