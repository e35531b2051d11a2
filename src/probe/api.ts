// The few tenant API calls the probe makes, over plain fetch: it talks to the gateway as any client would.
import { StepError } from './step.ts';

/** A non-2xx answer, with the problem+json `type` when the gateway sent one. */
export class ApiError extends StepError {
  constructor(
    message: string,
    readonly status: number,
    readonly problemType: string | undefined,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  accept?: number[];
  /** Extra request headers (a session cookie and its CSRF token). */
  headers?: Record<string, string>;
}

export interface ApiClient {
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<{ status: number; body: T; headers: Headers }>;
}

/** `token` null: no Authorization header (public routes, or a session cookie passed in `headers`). */
export function apiClient(baseUrl: string, token: string | null): ApiClient {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async request<T>(method: string, path: string, opts: RequestOptions = {}) {
      let res: Response;
      try {
        res = await fetch(base + path, {
          method,
          headers: {
            ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...opts.headers,
          },
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
      } catch (err) {
        // An abort carries the deadline's own message; anything else is the network.
        if (opts.signal?.aborted) throw opts.signal.reason;
        const cause = (err as Error & { cause?: Error }).cause;
        throw new StepError(`${method} ${path}: ${cause?.message ?? (err as Error).message}`);
      }
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text for the error message
      }
      const accept = opts.accept ?? [200, 201, 202];
      if (!accept.includes(res.status)) {
        const problem =
          typeof body === 'object' && body !== null ? (body as { type?: string; title?: string; detail?: string }) : undefined;
        const why = problem ? (problem.detail ?? problem.title ?? '') : String(body ?? '').slice(0, 200);
        throw new ApiError(`${method} ${path} answered ${res.status}${why ? `: ${why}` : ''}`, res.status, problem?.type);
      }
      return { status: res.status, body: body as T, headers: res.headers };
    },
  };
}
