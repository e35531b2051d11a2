/**
 * A tiny fetch client for the /v1 API. The dashboard authenticates with its session cookie and sends the
 * session's CSRF token on every state change; the portal sends its portal token as a Bearer token.
 * Errors are RFC 9457 problem documents, thrown as ApiError.
 */
export type Auth = { kind: 'cookie'; csrfToken: string } | { kind: 'bearer'; token: string };

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export function qs(q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface Api {
  get<T>(path: string, q?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  del(path: string): Promise<void>;
}

export function createApi(auth: Auth, onUnauthorized?: () => void, base = ''): Api {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth.kind === 'bearer') headers.authorization = `Bearer ${auth.token}`;
    else if (method !== 'GET') headers['x-csrf-token'] = auth.csrfToken;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers,
        credentials: auth.kind === 'cookie' ? 'same-origin' : 'omit',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'Network error', 'The gateway could not be reached. Check your connection and try again.');
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    if (!res.ok) {
      if (res.status === 401) onUnauthorized?.();
      const p = (json ?? {}) as { title?: string; detail?: string; errors?: FieldError[] };
      throw new ApiError(res.status, p.title ?? res.statusText ?? 'Request failed', p.detail, p.errors);
    }
    return json as T;
  };
  return {
    get: (path, q) => call('GET', path + qs(q)),
    post: (path, body) => call('POST', path, body),
    patch: (path, body) => call('PATCH', path, body),
    del: (path) => call('DELETE', path),
  };
}

/** Path segment, encoded. */
export const seg = (s: string): string => encodeURIComponent(s);

// --- shapes (the /v1 API's, only the fields the UI reads) ---
export type Role = 'owner' | 'developer' | 'viewer';
export interface User {
  id: string;
  email: string;
  role: Role;
  status?: 'active' | 'invited';
  createdAt?: string;
  lastSignInAt?: string | null;
}
export interface Tenant {
  id: string;
  name: string;
}
export interface Session {
  user: User;
  tenant: Tenant;
  csrfToken: string;
}
export interface Consumer {
  id: string;
  uid: string | null;
  name: string;
  metadata: Record<string, string>;
  createdAt: string;
}
export interface Endpoint {
  id: string;
  consumerId: string;
  url: string;
  description: string;
  eventTypes: string[] | null;
  channels: string[] | null;
  headers: Record<string, string>;
  rateLimitPerSecond: number | null;
  disabled: boolean;
  disabledReason: string | null;
  createdAt: string;
}
export interface Message {
  id: string;
  eventId: string;
  eventType: string;
  consumerId: string;
  channels: string[] | null;
  payload: unknown;
  createdAt: string;
  /** From its deliveries (list and detail answers; absent from a publish answer). */
  status?: MessageStatus;
}
export const MESSAGE_STATUSES = ['pending', 'succeeded', 'failed', 'none'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export interface Delivery {
  id: string;
  endpointId: string;
  state: 'pending' | 'sending' | 'succeeded' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  updatedAt: string;
}
export interface MessageDetail extends Message {
  deliveries: Delivery[];
}
export interface Attempt {
  id: string;
  deliveryId: string;
  messageId: string;
  endpointId: string;
  attempt: number;
  outcome: 'succeeded' | 'failed';
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  startedAt: string;
  durationMs: number;
  /** What was sent, when the API returns it. */
  request?: { url?: string; headers?: Record<string, string>; body?: string } | null;
}
export interface EventType {
  name: string;
  description: string;
  schema: Record<string, unknown> | null;
  archived: boolean;
  createdAt: string;
}
export interface Branding {
  name?: string | null;
  logoUrl?: string | null;
  primaryColor?: string | null;
  backgroundColor?: string | null;
  textColor?: string | null;
  fontFamily?: string | null;
  mode?: 'light' | 'dark' | 'auto' | null;
  radius?: number | string | null;
}
export interface Settings {
  branding: Branding;
  embedOrigins: string[];
}
