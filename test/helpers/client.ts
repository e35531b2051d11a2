/** A small JSON client over real HTTP (fetch), for integration tests. */
export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface Client {
  get<T = any>(path: string, headers?: Record<string, string>): Promise<Response<T>>;
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response<T>>;
  patch<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response<T>>;
  delete<T = any>(path: string, headers?: Record<string, string>): Promise<Response<T>>;
  /** Sends `body` exactly as given (a string is not JSON-encoded). */
  raw<T = any>(method: string, path: string, body?: string | Buffer, headers?: Record<string, string>): Promise<Response<T>>;
}

export function client(base: string, token?: string): Client {
  const raw = async (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Response> => {
    const res = await fetch(base + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  const json =
    (method: string) =>
    (path: string, body?: unknown, headers: Record<string, string> = {}) =>
      raw(
        method,
        path,
        body === undefined ? undefined : JSON.stringify(body),
        body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      );
  return {
    get: (path, headers) => raw('GET', path, undefined, headers),
    post: json('POST'),
    patch: json('PATCH'),
    delete: (path, headers) => raw('DELETE', path, undefined, headers),
    raw,
  };
}
