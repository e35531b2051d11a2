import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Objects that Tramline or its libraries log and that can hold credentials one level down. */
const CONTAINERS = ['req', 'res', 'request', 'response', 'body', 'endpoint', 'portal', 'session', 'config', 'options', 'err'];
const HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'];
const FIELDS = [
  'secret',
  'previousSecret',
  'apiKey',
  'token',
  'portalToken',
  'operatorToken',
  'masterKey',
  'password',
  'authorization',
  'cookie',
];

/**
 * Credentials never reach the logs, wherever a caller put them: headers (request or response, at the top
 * or in the objects above), and the fields Tramline names its secrets with, at the top or one level down
 * in those objects. Paths, not value patterns: pino compiles them once, so the check costs nothing per
 * line that lacks them. No path starts with a wildcard: pino would then pass every value of every line
 * and every child logger's bindings through the redactor (5 µs a binding, a tenth of a publish's CPU).
 */
export const REDACT_PATHS: readonly string[] = [
  ...HEADERS.flatMap((h) => [`headers["${h}"]`, ...CONTAINERS.map((c) => `${c}.headers["${h}"]`)]),
  ...FIELDS.flatMap((k) => [k, ...CONTAINERS.map((c) => `${c}.${k}`)]),
];

/**
 * JSON lines on stdout, shaped for ELK/OpenSearch ingestion without mapping surprises: `time` is an ISO-8601
 * string, `level` a label ("info"), and every key keeps one type (ids are strings, `err` is always the
 * serialized error object). Request lines carry `reqId`, then `tenantId` (after auth) and the ids the
 * route names; worker lines carry tenant, consumer, endpoint, message and delivery ids.
 */
export function loggerOptions(level: string, name = 'tramline'): LoggerOptions {
  return {
    name,
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    serializers: { err: serializeErr },
  };
}

/** `err` is an object even when a caller (or a library) rejected with a string or a plain value. */
function serializeErr(e: unknown): unknown {
  if (e instanceof Error) return pino.stdSerializers.err(e);
  if (e !== null && typeof e === 'object') return pino.stdSerializers.err(e as Error);
  return { type: typeof e, message: String(e) };
}

export function createLogger(level: string, name = 'tramline', destination?: DestinationStream): Logger {
  const options = loggerOptions(level, name);
  return destination ? pino(options, destination) : pino(options);
}
