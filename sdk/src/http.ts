import { ConnectionError, errorFor, type ProblemDocument } from './errors.js';

export const SDK_VERSION = '0.2.0';

export interface TramlineOptions {
  /** A tenant API key (`tl_…`), or the operator token for `tenants`. */
  apiKey: string;
  /** The gateway's base URL. Default `http://localhost:8080`. */
  baseUrl?: string;
  /** Retries after a 429, a 503 or a network error (default 3; 0 disables them). */
  maxRetries?: number;
  /** Time limit of one attempt in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** First back-off delay (default 500 ms); doubled at each retry, with jitter. */
  retryBaseDelayMs?: number;
  /**
   * Longest wait before a retry (default 30 s). A `Retry-After` longer than this is not waited for:
   * the RateLimitError is thrown at once, with `retryAfterSeconds`.
   */
  retryMaxDelayMs?: number;
  /** A fetch implementation (default: the global fetch of Node ≥ 20 and browsers). */
  fetch?: typeof fetch;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/** Per-call options, accepted as the last argument of every method. */
export interface RequestOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Overrides the client's maxRetries for this call. */
  maxRetries?: number;
  /** Overrides the client's timeoutMs for this call. */
  timeoutMs?: number;
}

export interface PublishOptions extends RequestOptions {
  /**
   * The Idempotency-Key of this publish. By default the client makes one (the `eventId` when given,
   * else a random one) and sends the same key on each of its retries, so a retried publish is never
   * committed twice.
   */
  idempotencyKey?: string;
}

type Query = Record<string, string | number | boolean | Date | Array<string | number> | undefined | null>;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  query?: Query | undefined;
  body?: unknown;
  idempotencyKey?: string | undefined;
  /** Send no credential (the identity route). */
  anonymous?: boolean;
  options?: RequestOptions | undefined;
}

export interface HttpResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.max(0, Math.round(Number(value) * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Exponential back-off with "equal jitter": half the delay is fixed, half random, so retries of many clients spread out. */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** retry);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Errors where the request surely never reached the gateway: retrying cannot apply it twice. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const errorCode = (err: unknown): string | undefined => {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
};

function toQueryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    for (const one of Array.isArray(v) ? v : [v]) params.append(k, one instanceof Date ? one.toISOString() : String(one));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** One HTTP exchange with retries; resources build on it. */
export class HttpClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly opts: Required<Pick<TramlineOptions, 'maxRetries' | 'timeoutMs' | 'retryBaseDelayMs' | 'retryMaxDelayMs'>>;
  private readonly fetchImpl: typeof fetch;
  private readonly headers: Record<string, string>;

  constructor(options: TramlineOptions) {
    if (!options || typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('Tramline: apiKey is required');
    this.apiKey = options.apiKey;
    this.baseUrl = (options.baseUrl ?? 'http://localhost:8080').replace(/\/+$/, '');
    this.opts = {
      maxRetries: options.maxRetries ?? 3,
      timeoutMs: options.timeoutMs ?? 30_000,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 500,
      retryMaxDelayMs: options.retryMaxDelayMs ?? 30_000,
    };
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
    // Browsers forbid setting user-agent; elsewhere it tells the gateway's logs who called.
    const inBrowser = typeof (globalThis as { document?: unknown }).document !== 'undefined';
    this.headers = { ...(inBrowser ? {} : { 'user-agent': `tramline-sdk-ts/${SDK_VERSION}` }), ...options.headers };
  }

  async request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const url = this.baseUrl + req.path + toQueryString(req.query);
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...this.headers, ...req.options?.headers };
    if (!req.anonymous) headers.authorization = `Bearer ${this.apiKey}`;
    if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
    const hasBody = req.body !== undefined;
    if (hasBody) headers['content-type'] = 'application/json';
    const payload = hasBody ? JSON.stringify(req.body) : undefined;
    const maxRetries = req.options?.maxRetries ?? this.opts.maxRetries;
    const timeoutMs = req.options?.timeoutMs ?? this.opts.timeoutMs;
    const userSignal = req.options?.signal;
    // A request that cannot be applied twice: safe methods, DELETE and PATCH (same body, same result), and
    // anything carrying an idempotency key. Other POSTs are retried only when they surely were not sent.
    const repeatable = req.method !== 'POST' || Boolean(req.idempotencyKey);

    for (let retry = 0; ; retry++) {
      const timeout = AbortSignal.timeout(timeoutMs);
      // AbortSignal.any: Node ≥ 20.3 and current browsers; without it, the caller's signal alone stops waiting.
      const signal = userSignal ? (typeof AbortSignal.any === 'function' ? AbortSignal.any([userSignal, timeout]) : userSignal) : timeout;
      let res: Response;
      try {
        res = await this.fetchImpl(url, { method: req.method, headers, ...(payload !== undefined ? { body: payload } : {}), signal });
      } catch (err) {
        if (userSignal?.aborted) throw err;
        const code = timeout.aborted ? 'ETIMEDOUT' : errorCode(err);
        const retryable = repeatable || (code !== undefined && NOT_SENT.has(code));
        if (retryable && retry < maxRetries) {
          await sleep(backoffMs(retry, this.opts.retryBaseDelayMs, this.opts.retryMaxDelayMs), userSignal);
          continue;
        }
        const what = timeout.aborted ? `no answer within ${timeoutMs} ms` : (code ?? (err as { cause?: Error }).cause?.message ?? (err as Error).message);
        throw new ConnectionError(`${req.method} ${url} failed: ${what}`, { cause: err });
      }

      if (res.status === 429 || res.status === 503) {
        const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
        const delay = retryAfter ?? backoffMs(retry, this.opts.retryBaseDelayMs, this.opts.retryMaxDelayMs);
        if (retry < maxRetries && delay <= this.opts.retryMaxDelayMs) {
          await res.body?.cancel().catch(() => {});
          await sleep(delay, userSignal);
          continue;
        }
        throw await this.toError(res, retryAfter);
      }
      if (res.status >= 400) throw await this.toError(res);
      return { status: res.status, headers: res.headers, body: (await this.readBody(res)) as T };
    }
  }

  private async readBody(res: Response): Promise<unknown> {
    const text = await res.text();
    if (!text) return undefined;
    const type = res.headers.get('content-type') ?? '';
    if (/\bjson\b/i.test(type)) return JSON.parse(text);
    return text;
  }

  private async toError(res: Response, retryAfterMs?: number): Promise<Error> {
    let problem: ProblemDocument;
    try {
      const body = await this.readBody(res);
      problem = body && typeof body === 'object' ? (body as ProblemDocument) : { title: res.statusText || `HTTP ${res.status}`, detail: typeof body === 'string' ? body.slice(0, 500) : undefined };
    } catch {
      problem = { title: res.statusText || `HTTP ${res.status}` };
    }
    return errorFor(res.status, problem, res.headers.get('x-request-id') ?? undefined, retryAfterMs === undefined ? undefined : retryAfterMs / 1000);
  }
}
