import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS, type ErrorCode, type FieldError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The unexpected error behind a 500 answer, for the error reporter (see telemetry/http-telemetry.ts). */
    unhandledError: unknown;
  }
}

/** RFC 9457 problem documents: every error the API answers has this shape. */
export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: string,
  title: string,
  detail?: string,
  errors?: FieldError[],
  extra?: Record<string, unknown>,
): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `https://tramline.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`, title, status, detail, errors, ...extra });
}

const fromCode = (reply: FastifyReply, code: ErrorCode, detail?: string, errors?: FieldError[]): FastifyReply =>
  sendProblem(reply, ERRORS[code].status, code, ERRORS[code].title, detail, errors);

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: { issue?: { path?: PropertyKey[]; message?: string } };
}

/** Fastify's schema errors (from the zod validator) become a list of fields. */
function validationErrors(err: FastifyError): FieldError[] {
  const where = (err as FastifyError & { validationContext?: string }).validationContext ?? 'body';
  return (err.validation as ValidationIssue[]).map((v) => {
    const path = v.params?.issue?.path?.map(String) ?? (v.instancePath ?? '').split('/').filter(Boolean);
    return { field: [where, ...path].join('.'), message: v.params?.issue?.message ?? v.message ?? 'invalid' };
  });
}

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof AppError) return sendProblem(reply, err.status, err.code, err.title, err.message, err.errors, err.extra);
  if (err.validation) return fromCode(reply, 'VALIDATION', 'Some fields are not valid', validationErrors(err));
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return fromCode(reply, 'PAYLOAD_TOO_LARGE', err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.statusCode === 415 ? fromCode(reply, 'UNSUPPORTED_MEDIA_TYPE', 'Send application/json') : fromCode(reply, 'VALIDATION', err.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return fromCode(reply, 'BAD_JSON', err.message);
  }
  if (err instanceof SyntaxError && /prototype property/.test(err.message)) {
    // Valid JSON, refused on purpose: __proto__ / constructor.prototype keys could poison objects.
    return fromCode(reply, 'VALIDATION', 'Keys named __proto__ or constructor.prototype are not accepted', [{ field: 'body', message: err.message }]);
  }
  if (err instanceof SyntaxError) return fromCode(reply, 'BAD_JSON', err.message);
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return sendProblem(reply, status, err.code ?? 'BAD_REQUEST', 'Bad request', err.message);
  // Internal errors: logged with context, answered bare (no stack, no message).
  request.log.error({ err }, 'unhandled error');
  request.unhandledError = err;
  return sendProblem(reply, 500, 'INTERNAL', 'Internal server error');
}

/**
 * Errors Node's HTTP parser meets before Fastify sees a request (request line and headers over the
 * size limit, a malformed request, a request timeout) are problem documents too; Fastify's default
 * handler answers them as application/json in its own shape. Same statuses as the default.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, title, detail] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'Request timeout', 'The request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HEADERS_TOO_LARGE', 'Request header fields too large', 'The request line and headers exceed the maximum size']
        : [400, 'BAD_REQUEST', 'Bad request', 'The HTTP request is malformed'];
  const body = JSON.stringify({ type: `https://tramline.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`, title, status, detail });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
