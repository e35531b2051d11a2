/**
 * Errors the client throws. Every answer the gateway refuses becomes a `TramlineError` carrying the
 * RFC 9457 problem document's members (`status`, `type`, `title`, `detail`, `errors`), its short `code`
 * (the last segment of `type`, e.g. `validation`, `not-found`) and any extension members in `problem`.
 * One subclass per status a caller usually handles on its own, so `catch (e) { if (e instanceof NotFoundError) … }`.
 */

/** One invalid field of a request, as the gateway names it (`body.payload`, `querystring.limit`, …). */
export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemDocument {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export class TramlineError extends Error {
  override name = 'TramlineError';
  /** HTTP status of the answer; 0 when no answer arrived (see ConnectionError). */
  readonly status: number;
  /** The problem type URI, e.g. `https://tramline.dev/problems/not-found`. */
  readonly type: string;
  /** The short code: the type's last path segment (`not-found`, `validation`, `rate-limited`…). */
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  /** The invalid fields of a 400. */
  readonly errors: FieldError[];
  /** The whole problem document, extension members included. */
  readonly problem: ProblemDocument;
  /** The `x-request-id` of the answer, when the gateway sent one (quote it in a bug report). */
  readonly requestId: string | undefined;

  constructor(status: number, problem: ProblemDocument, requestId?: string) {
    const title = problem.title ?? `HTTP ${status}`;
    super(problem.detail && problem.detail !== title ? `${title}: ${problem.detail}` : title);
    this.status = status;
    this.type = problem.type ?? 'about:blank';
    this.code = status === 0 ? 'connection' : this.type === 'about:blank' ? `http-${status}` : (this.type.split('/').pop() ?? this.type);
    this.title = title;
    this.detail = problem.detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.problem = problem;
    this.requestId = requestId;
  }
}

/** 400: the request is not valid; `errors` names the fields. */
export class ValidationError extends TramlineError {
  override name = 'ValidationError';
}
/** 401: no key, or one the gateway does not know (revoked, mistyped). */
export class AuthenticationError extends TramlineError {
  override name = 'AuthenticationError';
}
/** 403: the key is valid but its scopes do not allow this. */
export class PermissionDeniedError extends TramlineError {
  override name = 'PermissionDeniedError';
}
/** 404: no such resource for this tenant (other tenants' resources are 404 too). */
export class NotFoundError extends TramlineError {
  override name = 'NotFoundError';
}
/** 409: conflicts with the current state (a uid taken, a name registered…). */
export class ConflictError extends TramlineError {
  override name = 'ConflictError';
}
/** 422: understood but refused, e.g. an endpoint URL the egress guard does not allow. */
export class UnprocessableError extends TramlineError {
  override name = 'UnprocessableError';
}
/** 429 after the client's retries ran out; `retryAfterSeconds` is the gateway's last advice. */
export class RateLimitError extends TramlineError {
  override name = 'RateLimitError';
  readonly retryAfterSeconds: number | undefined;
  constructor(status: number, problem: ProblemDocument, requestId?: string, retryAfterSeconds?: number) {
    super(status, problem, requestId);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
/** 5xx (503 after the client's retries ran out). */
export class ServerError extends TramlineError {
  override name = 'ServerError';
}
/** No answer: connection refused or reset, DNS failure, or the client's timeout (after retries). */
export class ConnectionError extends TramlineError {
  override name = 'ConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(0, { type: 'about:blank', title: message });
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** The error for an answer's status, from its problem document. */
export function errorFor(status: number, problem: ProblemDocument, requestId?: string, retryAfterSeconds?: number): TramlineError {
  switch (status) {
    case 400:
      return new ValidationError(status, problem, requestId);
    case 401:
      return new AuthenticationError(status, problem, requestId);
    case 403:
      return new PermissionDeniedError(status, problem, requestId);
    case 404:
      return new NotFoundError(status, problem, requestId);
    case 409:
      return new ConflictError(status, problem, requestId);
    case 422:
      return new UnprocessableError(status, problem, requestId);
    case 429:
      return new RateLimitError(status, problem, requestId, retryAfterSeconds);
    default:
      return status >= 500 ? new ServerError(status, problem, requestId) : new TramlineError(status, problem, requestId);
  }
}
