/** Examples for the OpenAPI document (api/openapi.ts): every request and response gets one that satisfies its schema. */

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema documents are walked by key
type Json = Record<string, any>;

/** Sample values by property name, for properties whose schema has no example of its own. */
const SAMPLES: Record<string, unknown> = {
  name: 'Acme',
  url: 'https://hooks.example.com/tramline',
  description: 'Invoices, paid',
  eventType: 'invoice.paid',
  eventId: 'evt-2026-0042',
  uid: 'customer-42',
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  token: 'tlp_eyJ0IjoidGVuXzAxIn0.c2lnbmF0dXJl',
  channel: 'eu',
  lastError: null,
  error: null,
  responseBody: 'ok',
  disabledReason: null,
  disabledAt: null,
  nextCursor: null,
  state: 'succeeded',
  outcome: 'succeeded',
  ip: '203.0.113.7',
  requestId: 'req-1',
  target: 'con_01kb2x3y4z5a6b7c8d9e0f1g2h',
  status: 200,
  statusCode: 200,
};
const DATE_SAMPLE = '2026-11-26T10:00:00.000Z';

/** An example value that satisfies `schema` (examples in the schema first, then by property name and type). */
export function exampleOf(schema: Json | undefined, schemas: Record<string, Json>, name?: string, depth = 0): unknown {
  if (!schema || depth > 8) return null;
  if (schema.$ref) return exampleOf(schemas[String(schema.$ref).split('/').pop()!], schemas, name, depth + 1);
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[k])) {
      const branches = schema[k] as Json[];
      if (name && name in SAMPLES && SAMPLES[name] === null && branches.some((b) => b.type === 'null')) return null;
      return exampleOf(branches.find((b) => b.type !== 'null') ?? branches[0], schemas, name, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf)) return exampleOf(schema.allOf[0], schemas, name, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  if (
    name &&
    name in SAMPLES &&
    (SAMPLES[name] === null
      ? schema.type === 'null' || (Array.isArray(schema.type) && schema.type.includes('null'))
      : typeof SAMPLES[name] === (type === 'integer' ? 'number' : type))
  ) {
    return SAMPLES[name];
  }
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) out[k] = exampleOf(v, schemas, k, depth + 1);
      return out;
    }
    case 'array':
      return schema.items ? [exampleOf(schema.items, schemas, name?.replace(/s$/, ''), depth + 1)] : [];
    case 'string':
      if (schema.format === 'date-time') return DATE_SAMPLE;
      if (schema.format === 'uri') return 'https://example.com';
      return 'string';
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return {};
  }
}
