import { randomBytes } from 'node:crypto';
import { ApiError, connectGateway, type GatewayClient } from './gateway-client.ts';
import { startListener } from './listen.ts';

/** The options of `tramline listen` and `tramline trigger`, as commander parses them (listen-commands.ts). */
export interface ListenFlags {
  port: number;
  host: string;
  secret?: string;
  status: number;
  forwardTo?: string;
  apiKey?: string;
  consumer?: string;
  eventTypes?: string;
  url?: string;
}

export interface TriggerFlags {
  consumer: string;
  payload?: unknown;
  eventId?: string;
  apiKey?: string;
  url?: string;
  wait?: boolean;
  timeout: number;
}

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function apiKeyOf(opts: { apiKey?: string | undefined }, why: string): string {
  const key = opts.apiKey ?? (process.env.TRAMLINE_API_KEY || undefined);
  if (!key)
    throw new Error(`${why} needs a tenant API key: pass --api-key or set TRAMLINE_API_KEY (tramline tenants create NAME prints one)`);
  if (key.startsWith('tlop_'))
    throw new Error('this is an operator token; tenant routes need a tenant API key (tl_…): tramline tenants create NAME prints one');
  return key;
}

const enc = encodeURIComponent;

/** `tramline listen`, optionally with a temporary endpoint of `--consumer` pointing at itself. */
export async function runListen(opts: ListenFlags): Promise<void> {
  const temporary = opts.consumer !== undefined;
  let secret = opts.secret ?? (process.env.TRAMLINE_LISTEN_SECRET || undefined);
  // Everything that can fail before a port is taken: the key and the gateway's identity.
  const api = temporary ? await connectGateway({ url: opts.url, apiKey: apiKeyOf(opts, '--consumer') }) : null;
  const listener = await startListener({
    port: opts.port,
    host: opts.host,
    status: opts.status,
    secret,
    forwardTo: opts.forwardTo,
    ready: !temporary,
  });
  let endpoint: { id: string } | null = null;
  try {
    if (api) {
      const made = await createTemporaryEndpoint(api, opts.consumer!, `${listener.url}/webhooks`, opts.eventTypes);
      endpoint = made.endpoint;
      secret = made.secret;
      listener.activate(secret);
      say(`Endpoint ${endpoint.id} of consumer ${opts.consumer} → ${listener.url}/webhooks (temporary: removed when this stops)`);
    }
  } catch (err) {
    await listener.close();
    throw err;
  }
  say(
    `Listening on ${listener.url} — ${temporary ? 'ready' : 'point an endpoint at it'}${opts.forwardTo ? `; verified webhooks are forwarded to ${opts.forwardTo}` : ''}`,
  );
  if (secret === undefined)
    say('Signatures are not checked: pass --secret (or set TRAMLINE_LISTEN_SECRET), or --consumer to create the endpoint here');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  if (api && endpoint) {
    await api.request('DELETE', `/v1/consumers/${enc(opts.consumer!)}/endpoints/${enc(endpoint.id)}`).then(
      () => say(`Removed endpoint ${endpoint!.id}`),
      (err: unknown) => process.stderr.write(`Could not remove endpoint ${endpoint!.id}: ${(err as Error).message}\n`),
    );
  }
  await listener.close();
}

async function createTemporaryEndpoint(
  api: GatewayClient,
  consumer: string,
  url: string,
  eventTypes: string | undefined,
): Promise<{ endpoint: { id: string }; secret: string }> {
  try {
    await api.request('GET', `/v1/consumers/${enc(consumer)}`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    await api.request('POST', '/v1/consumers', { name: consumer, uid: consumer });
    say(`Created consumer ${consumer}`);
  }
  const types = eventTypes
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const endpoint = await api.request<{ id: string }>('POST', `/v1/consumers/${enc(consumer)}/endpoints`, {
    url,
    description: 'tramline listen (temporary)',
    ...(types && types.length > 0 ? { eventTypes: types } : {}),
  });
  const { secret } = await api.request<{ secret: string }>('GET', `/v1/consumers/${enc(consumer)}/endpoints/${enc(endpoint.id)}/secret`);
  return { endpoint, secret };
}

interface EventType {
  name: string;
  schema: unknown;
}
interface Delivery {
  endpointId: string;
  state: 'pending' | 'sending' | 'succeeded' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
}

/** `tramline trigger`: publishes a sample; with --wait, 0 when every delivery succeeded. */
export async function runTrigger(eventType: string, opts: TriggerFlags): Promise<number> {
  const api = await connectGateway({ url: opts.url, apiKey: apiKeyOf(opts, 'trigger') });
  const payload = opts.payload ?? samplePayload(eventType, await findEventType(api, eventType));
  const eventId = opts.eventId ?? `trigger_${randomBytes(8).toString('hex')}`;
  const msg = await api.request<{ id: string }>('POST', `/v1/consumers/${enc(opts.consumer)}/messages`, { eventType, payload, eventId });
  say(`Published ${msg.id} (${eventType}, eventId ${eventId}) to ${opts.consumer}`);
  if (!opts.wait) return 0;
  const deadline = Date.now() + opts.timeout * 1000;
  for (;;) {
    const m = await api.request<{ deliveries: Delivery[] }>('GET', `/v1/consumers/${enc(opts.consumer)}/messages/${enc(msg.id)}`);
    if (m.deliveries.length === 0) {
      say(
        `No endpoint of ${opts.consumer} subscribes to ${eventType}: nothing to deliver (run tramline listen --consumer ${opts.consumer} first)`,
      );
      return 1;
    }
    const done = m.deliveries.every((d) => d.state === 'succeeded' || d.state === 'failed');
    // Back in the queue after a failed attempt: a retry is minutes away, report it now.
    const retrying = m.deliveries.some((d) => d.state === 'pending' && d.attempts > 0);
    if (done || retrying || Date.now() > deadline) {
      for (const d of m.deliveries) {
        say(
          `  ${d.endpointId}: ${d.state}${d.lastStatus !== null ? ` (${d.lastStatus})` : ''}${d.lastError ? ` ${d.lastError}` : ''}, ${d.attempts} attempt(s)`,
        );
      }
      const ok = m.deliveries.every((d) => d.state === 'succeeded');
      if (!ok && !done && !retrying) say(`Not delivered within ${opts.timeout}s`);
      return ok ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function findEventType(api: GatewayClient, name: string): Promise<EventType | undefined> {
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const q: string = cursor ? `?limit=250&cursor=${enc(cursor)}` : '?limit=250';
    const r: { data: EventType[]; nextCursor: string | null } = await api.request('GET', `/v1/event-types${q}`);
    const found = r.data.find((t) => t.name === name);
    if (found) return found;
    cursor = r.nextCursor;
    if (!cursor) return undefined;
  }
  return undefined;
}

/**
 * A payload for a trial event: the catalog's example when the event type's JSON Schema has one
 * (`examples[0]` or `example`), else a value built from the schema, else a small generic sample.
 */
export function samplePayload(eventType: string, type: EventType | undefined): unknown {
  const schema = type?.schema;
  if (schema && typeof schema === 'object') return fromSchema(schema as JsonSchema, 0);
  return {
    sample: true,
    eventType,
    id: `${eventType.split('.')[0] ?? 'object'}_${randomBytes(4).toString('hex')}`,
    createdAt: new Date().toISOString(),
  };
}

interface JsonSchema {
  type?: string | string[];
  examples?: unknown[];
  example?: unknown;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minimum?: number;
}

function fromSchema(s: JsonSchema, depth: number): unknown {
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if (s.example !== undefined) return s.example;
  if (s.const !== undefined) return s.const;
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  if (depth > 8) return null;
  switch (type ?? (s.properties ? 'object' : undefined)) {
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, fromSchema(v, depth + 1)]));
    case 'array':
      return s.items ? [fromSchema(s.items, depth + 1)] : [];
    case 'string':
      return s.format === 'date-time'
        ? new Date().toISOString()
        : s.format === 'email'
          ? 'someone@example.com'
          : s.format === 'uri'
            ? 'https://example.com'
            : 'string';
    case 'integer':
      return s.minimum ?? 1;
    case 'number':
      return s.minimum ?? 1.5;
    case 'boolean':
      return true;
    default:
      return null;
  }
}
