// The few tenant API calls the probe makes, over plain fetch: it talks to the gateway as any client would.
import { StepError } from './step.ts';

export interface ApiClient {
  request<T>(method: string, path: string, opts?: { body?: unknown; signal?: AbortSignal; accept?: number[] }): Promise<{ status: number; body: T }>;
}

export function apiClient(baseUrl: string, token: string): ApiClient {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async request<T>(method: string, path: string, opts: { body?: unknown; signal?: AbortSignal; accept?: number[] } = {}) {
      let res: Response;
      try {
        res = await fetch(base + path, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
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
        const problem = body as { title?: string; detail?: string } | string | null;
        const why = typeof problem === 'object' && problem !== null ? (problem.detail ?? problem.title ?? '') : String(problem ?? '').slice(0, 200);
        throw new StepError(`${method} ${path} answered ${res.status}${why ? `: ${why}` : ''}`);
      }
      return { status: res.status, body: body as T };
    },
  };
}
