import { z } from 'zod';
import { MAX_FILTER_LENGTH } from '../../domain/payload-filter.ts';
import { Channel, DateTimeIn, EventTypeName, IdOf } from './common.ts';

/** Schemas of delivery control (issue 13, payload side): filters, schema versions, skipped and bulk replays. */
export const Filter = z
  .string()
  .max(MAX_FILTER_LENGTH)
  .describe(
    'A CEL expression over `payload`, `eventType` and `channels` (https://cel.dev); only messages for which it is true are delivered. ' +
      'Checked when saved (400 with the position of the error); null removes it',
  )
  .meta({ examples: ['payload.amount > 1000 && payload.currency == "EUR"'] });

export const Compatibility = z
  .object({
    breaking: z
      .boolean()
      .describe('True when the new version refuses payloads the previous one accepted, or drops what consumers relied on'),
    reasons: z.array(z.string()).describe('One line per breaking difference'),
    previousVersion: z.number().int().nullable(),
  })
  .meta({ examples: [{ breaking: true, reasons: ['amount: now required'], previousVersion: 1 }] });

export const SchemaVersionOut = z.object({
  version: z.number().int(),
  schema: z.record(z.string(), z.unknown()),
  breaking: z.boolean(),
  reasons: z.array(z.string()),
  createdAt: z.date(),
});
export const SchemaCheckIn = z.strictObject({
  schema: z
    .record(z.string(), z.unknown())
    .describe('A candidate JSON Schema (2020-12)')
    .meta({ examples: [{ type: 'object', required: ['invoiceId', 'amount'] }] }),
});

export const FilterTestIn = z.strictObject({
  filter: Filter,
  limit: z.number().int().min(1).max(250).default(50).describe('How many of the consumer’s latest messages to try it on'),
});
export const FilterTestOut = z.object({
  evaluated: z.number().int(),
  matched: z.number().int(),
  data: z.array(
    z.object({
      messageId: IdOf('msg'),
      eventType: z.string(),
      createdAt: z.date(),
      matched: z.boolean(),
    }),
  ),
});

export const ReplaySkippedOut = z.object({ replayed: z.number().int().describe('Skipped deliveries queued now') });

export const DeliveryStatusFilter = z.enum(['succeeded', 'failed', 'skipped', 'none']);
export const ReplayIn = z.strictObject({
  eventTypes: z.array(EventTypeName).max(32).optional().describe('Only messages of these types'),
  channel: Channel.optional().describe('Only messages carrying this channel'),
  since: DateTimeIn.optional().describe('Only messages created at or after this time'),
  until: DateTimeIn.optional().describe('Only messages created before this time'),
  status: z
    .array(DeliveryStatusFilter)
    .min(1)
    .max(4)
    .optional()
    .describe('Only messages whose delivery to this endpoint is in one of these states (none: never delivered to it); default: all'),
});
export const ReplayOut = z.object({
  id: IdOf('rpl'),
  endpointId: IdOf('ep'),
  state: z.enum(['running', 'completed', 'failed']).describe('running until every matching message is queued'),
  filter: z.object({
    eventTypes: z.array(z.string()).optional(),
    channel: z.string().optional(),
    since: z.string().optional(),
    until: z.string().optional(),
    status: z.array(DeliveryStatusFilter).optional(),
  }),
  total: z.number().int().describe('Messages that matched when the replay was created'),
  queued: z.number().int().describe('Messages queued for delivery so far'),
  error: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  finishedAt: z.date().nullable(),
});
