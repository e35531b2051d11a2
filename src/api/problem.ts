import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, codeForStatus, ERRORS, type ErrorCode, problemType, type FieldError } from '../errors.ts';
import { SECURITY_HEADERS } from './plugins/http-hardening.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The unexpected error behind a 500 answer, for the error reporter (see telemetry/http-telemetry.ts). */
    unhandledError: unknown;
  }
}

/** Seconds a client is asked to wait when the database is unavailable (a restart or failover takes seconds). */
export const UNAVAILABLE_RETRY_AFTER_S = 2;

/**
 * RFC 9457 problem documents: every error the API answers has this shape, and every one of them comes
 * from the registry in errors.ts (status, title, public `type`), so docs/problems.md lists them all.
 */
export function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  detail?: string,
  errors?: FieldError[],
  extra?: Record<string, unknown>,
): FastifyReply {
  const { status, title } = ERRORS[code];
  // Also on answers given before any hook ran (the router's 400 and 414), which the onRequest hook never saw.
  return (
    reply
      .headers(SECURITY_HEADERS)
      .code(status)
      // The charset said, as Fastify says it for the JSON it serializes itself.
      .type('application/problem+json; charset=utf-8')
      // Not through the route's response schema: a route may declare the same status with its own shape
      // (/readyz's 503), and a problem answered before the handler (closing, rate limit) would fail it as a 500.
      .serializer(JSON.stringify)
      .send({ type: problemType(code), title, status, detail, errors, ...extra })
  );
}

interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: { keys?: string[]; issue?: { path?: PropertyKey[]; message?: string } };
}

/** Fastify's schema errors (from the zod validator) become a list of fields; an unknown field is named itself (body.<field>). */
function validationErrors(err: FastifyError): FieldError[] {
  const where = (err as FastifyError & { validationContext?: string }).validationContext ?? 'body';
  return (err.validation as ValidationIssue[]).flatMap((v) => {
    const path = v.params?.issue?.path?.map(String) ?? (v.instancePath ?? '').split('/').filter(Boolean);
    if (v.keyword === 'unrecognized_keys' && Array.isArray(v.params?.keys)) {
      return v.params.keys.map((k) => ({ field: [where, ...path, k].join('.'), message: 'unknown field' }));
    }
    return [{ field: [where, ...path].join('.'), message: v.params?.issue?.message ?? v.message ?? 'invalid' }];
  });
}

/** The detail of a validation problem: every field and what was wrong with it, e.g. `body.payload: required (any JSON value)`. */
const describeFields = (errors: FieldError[]): string => errors.map((e) => `${e.field}: ${e.message}`).join('; ');

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof AppError) {
    if (err.code === 'UNAVAILABLE') {
      // Nothing was committed (the database, or AWS KMS, could not be used); the client may retry the same request
      // (publishes are idempotent by eventId). The cause, with the details the answer leaves out, goes to the log.
      request.log.warn({ err: err.cause ?? err }, /KMS/.test(err.message) ? 'key service unavailable' : 'database unavailable');
      reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_S));
    }
    return sendProblem(reply, err.code, err.message, err.errors, err.extra);
  }
  if (err.validation) {
    const errors = validationErrors(err);
    return sendProblem(reply, 'VALIDATION', describeFields(errors), errors);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendProblem(reply, 'PAYLOAD_TOO_LARGE', err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.statusCode === 415
        ? sendProblem(reply, 'UNSUPPORTED_MEDIA_TYPE', 'Send application/json')
        : sendProblem(reply, 'VALIDATION', err.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return sendProblem(reply, 'BAD_JSON', err.message);
  }
  if (err instanceof SyntaxError && /prototype property/.test(err.message)) {
    // Valid JSON, refused on purpose: __proto__ / constructor.prototype keys could poison objects.
    return sendProblem(reply, 'VALIDATION', 'Keys named __proto__ or constructor.prototype are not accepted', [
      { field: 'body', message: err.message },
    ]);
  }
  if (err instanceof SyntaxError) return sendProblem(reply, 'BAD_JSON', err.message);
  const status = err.statusCode ?? 500;
  // Another client error of the framework or a plugin: its message, under the registry code of its status.
  if (status >= 400 && status < 500) return sendProblem(reply, codeForStatus(status), err.message);
  // Internal errors: logged with context, answered bare (no stack, no message).
  request.log.error({ err }, 'unhandled error');
  request.unhandledError = err;
  return sendProblem(reply, 'INTERNAL');
}

/**
 * Errors Node's HTTP parser meets before Fastify sees a request (request line and headers over the
 * size limit, a malformed request, a request timeout) are problem documents too; Fastify's default
 * handler answers them as application/json in its own shape. Same statuses as the default.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, detail]: [ErrorCode, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['REQUEST_TIMEOUT', 'The request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? ['HEADERS_TOO_LARGE', 'The request line and headers exceed the maximum size']
        : ['BAD_REQUEST', 'The HTTP request is malformed'];
  const { status, title } = ERRORS[code];
  const body = JSON.stringify({ type: problemType(code), title, status, detail });
  if (socket.writable) {
    const security = Object.entries(SECURITY_HEADERS)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${security}Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
