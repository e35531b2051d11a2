import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Credentials never reach the logs, wherever a caller put them: headers (request or response, at the top
 * or one level down), and the fields Tramline names its secrets with. Paths, not value patterns: pino
 * compiles them once, so the check costs nothing per line that lacks them.
 */
export const REDACT_PATHS: readonly string[] = [
  ...['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'].flatMap((h) => [
    `req.headers["${h}"]`,
    `res.headers["${h}"]`,
    `headers["${h}"]`,
    `*.headers["${h}"]`,
  ]),
  ...['secret', 'previousSecret', 'apiKey', 'token', 'portalToken', 'operatorToken', 'masterKey', 'password', 'authorization', 'cookie'].flatMap((k) => [
    k,
    `*.${k}`,
  ]),
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
