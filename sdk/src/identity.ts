import { ConnectionError, TramlineError } from './errors.js';

/** What `GET /.well-known/tramline` answers. */
export interface GatewayIdentity {
  service: 'tramline';
  version: string;
  /** HMAC-SHA256 of "tramline identity v1:<challenge>" keyed by the operator token (base64url), when a challenge was sent. */
  operatorProof?: string;
}

/** The server answered, but it is not a Tramline gateway: no credential should be sent to it. */
export class NotATramlineGatewayError extends TramlineError {
  override name = 'NotATramlineGatewayError';
}

/**
 * Asks a server whether it is a Tramline gateway, sending no credential: `GET /.well-known/tramline`
 * must answer JSON with `service: "tramline"`. Call it before sending a key to a URL you were given.
 */
export async function identifyGateway(
  baseUrl: string,
  options: { challenge?: string; timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<GatewayIdentity> {
  const url = `${baseUrl.replace(/\/+$/, '')}/.well-known/tramline${options.challenge ? `?challenge=${encodeURIComponent(options.challenge)}` : ''}`;
  const doFetch = options.fetch ?? ((...args) => fetch(...args));
  let res: Response;
  try {
    // No redirect is followed: the server at this URL must answer for itself.
    res = await doFetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ConnectionError(`${url}: no answer (${cause?.code ?? cause?.message ?? (err as Error).message})`, { cause: err });
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const id = body as Partial<GatewayIdentity> | undefined;
  if (res.status !== 200 || !id || id.service !== 'tramline' || typeof id.version !== 'string') {
    throw new NotATramlineGatewayError(res.status, {
      type: 'https://tramline.dev/problems/not-a-tramline-gateway',
      title: 'Not a Tramline gateway',
      detail: `${url} answered ${res.status} without identifying as a Tramline gateway`,
    });
  }
  return { service: 'tramline', version: id.version, ...(typeof id.operatorProof === 'string' ? { operatorProof: id.operatorProof } : {}) };
}
