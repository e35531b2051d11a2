import { z } from 'zod';
import { OPERATIONAL_EVENT_TYPES, type OperationalEventType } from '../../domain/operational-events.ts';

/**
 * The payloads (`data`) of the operational events a tenant's operational consumers receive
 * (domain/operational-events.ts), as the OpenAPI document's `webhooks` describe them.
 */
const Iso = z.iso.datetime();
const EndpointDisabled = z
  .object({
    endpointId: z.string().meta({ examples: ['ep_01kb2x3y4z5a6b7c8d9e0f1g2h'] }),
    consumerId: z.string().meta({ examples: ['con_01kb2x3y4z5a6b7c8d9e0f1g2h'] }),
    reason: z
      .string()
      .describe('Why: the breaker (every attempt failed for TRAMLINE_DISABLE_AFTER, or N messages in a row), or a 410 Gone'),
    disabledAt: Iso,
    failingSince: Iso.nullable().describe('The first failed attempt of the streak (null: disabled by a 410 Gone)'),
  })
  .describe(
    'An endpoint of one of your consumers was disabled by the gateway; re-enable it with PATCH …/endpoints/{endpoint} {"disabled": false}',
  );
const EndpointRecovered = z
  .object({
    endpointId: z.string(),
    consumerId: z.string(),
    failingSince: Iso.nullable(),
    recoveredAt: Iso,
  })
  .describe('An endpoint that was failing (you were told by message.attempt.failing or .exhausted) delivered again');
const MessageAttempt = z.object({
  messageId: z.string(),
  eventType: z.string(),
  consumerId: z.string(),
  endpointId: z.string(),
  deliveryId: z.string(),
  attempts: z.number().int().describe('Attempts made so far for this delivery'),
  lastStatus: z.number().int().nullable().describe('The last HTTP status (null: no answer)'),
  lastError: z.string().nullable(),
  at: Iso,
});

export const OPERATIONAL_EVENT_DATA: Record<OperationalEventType, z.ZodType> = {
  'endpoint.disabled': EndpointDisabled,
  'endpoint.recovered': EndpointRecovered,
  'message.attempt.exhausted': MessageAttempt.describe('A delivery failed its last attempt: it is `failed` and can be resent or recovered'),
  'message.attempt.failing': MessageAttempt.describe(
    'A delivery failed its N-th attempt (TRAMLINE_FAILING_EVENT_AFTER) and will be retried',
  ),
};

// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema / OpenAPI fragment
type Json = Record<string, any>;

const jsonSchema = (s: z.ZodType): Json => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io: 'output' }) as Json;
  return rest;
};

/** The OpenAPI 3.1 `webhooks` object: one entry per operational event, with its body as a receiver gets it. */
export function operationalWebhooks(): Json {
  const out: Json = {};
  for (const type of OPERATIONAL_EVENT_TYPES) {
    const data = OPERATIONAL_EVENT_DATA[type];
    out[type] = {
      post: {
        operationId: `on_${type.replaceAll('.', '_')}`,
        summary: type,
        description: `${data.description ?? ''}. Sent to the endpoints of your operational consumers (\`operational: true\`), signed and retried like any webhook; an ordinary message of that consumer (its log, resend, recover).`,
        tags: ['consumers'],
        parameters: ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => ({
          name,
          in: 'header',
          required: true,
          schema: { type: 'string' },
        })),
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['type', 'timestamp', 'data'],
                properties: { type: { const: type }, timestamp: { type: 'string', format: 'date-time' }, data: jsonSchema(data) },
              },
            },
          },
        },
        responses: { '2XX': { description: 'Received; any other answer is retried' } },
      },
    };
  }
  return out;
}
