/**
 * One registry of application errors: every code has a status and a title, so the
 * API answers RFC 9457 problem documents consistently and a test can check that the
 * codes are unique. Domain code throws AppError; only the API layer turns it into HTTP.
 */
export const ERRORS = {
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  BAD_URL: { status: 400, title: 'The URL is not valid' },
  VALIDATION: { status: 400, title: 'The request is not valid' },
  BAD_JSON: { status: 400, title: 'The request body is not valid JSON' },
  UNAUTHORIZED: { status: 401, title: 'A valid API key is required' },
  FORBIDDEN: { status: 403, title: 'This key may not do that' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  CONFLICT: { status: 409, title: 'Conflict' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  URI_TOO_LONG: { status: 414, title: 'A path parameter is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  EGRESS_REFUSED: { status: 422, title: 'The endpoint URL is not allowed' },
  SCHEMA_MISMATCH: { status: 422, title: 'The payload does not match its event type’s schema' },
  UNDECLARED_EVENT_TYPE: { status: 422, title: 'The event type is not declared' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  UNAVAILABLE: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The public problem `type` of a code: `https://tramline.dev/problems/<kebab-code>` (listed in docs/problems.md). */
export const problemType = (code: ErrorCode): string => `https://tramline.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`;

/**
 * The registry code for an HTTP status that a library answered with (a framework error that has no code
 * of ours): the first code declared with that status, else BAD_REQUEST for a 4xx and INTERNAL for the rest.
 * Its own error codes (`FST_ERR_…`) never reach a public problem type.
 */
export function codeForStatus(status: number): ErrorCode {
  for (const [code, e] of Object.entries(ERRORS)) if (e.status === status) return code as ErrorCode;
  return status >= 400 && status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
}

export interface FieldError {
  /** JSON pointer-like path of the offending field, e.g. `body.payload.items.0` */
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, detail?: string, opts: { errors?: FieldError[]; extra?: Record<string, unknown>; cause?: unknown } = {}) {
    super(detail ?? ERRORS[code].title, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.title = ERRORS[code].title;
    this.errors = opts.errors;
    this.extra = opts.extra;
  }
}

export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`);
