import { randomBytes, timingSafeEqual } from 'node:crypto';
import { IDENTITY_PATH, operatorProof } from '../api/routes/identity.ts';

/**
 * Before any CLI command sends a credential to a gateway it asks the peer who it is:
 * `GET /.well-known/tramline?challenge=<random>` must answer `service: "tramline"` and, when the CLI
 * holds the operator token, an HMAC of the fresh challenge keyed by that token. A server that merely
 * copies the JSON cannot produce the proof, and the token itself never leaves this process until the
 * proof matched.
 */
export class GatewayIdentityError extends Error {}

export interface IdentifiedGateway {
  url: string;
  version: string;
}

const TIMEOUT_MS = 5_000;

export async function identifyGateway(baseUrl: string, opts: { operatorToken?: string } = {}): Promise<IdentifiedGateway> {
  const challenge = randomBytes(24).toString('base64url');
  const where = `${baseUrl.replace(/\/+$/, '')}${IDENTITY_PATH}`;
  const refuse = (why: string): GatewayIdentityError =>
    new GatewayIdentityError(
      `Refusing to send credentials to ${baseUrl}: ${why}. Nothing was sent. Is the gateway running (tramline dev / npm start), and is this its address?`,
    );
  let res: Response;
  try {
    // No credential, no cookie, no redirect: this request is safe to send to anyone.
    res = await fetch(`${where}?challenge=${challenge}`, { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw refuse(`it could not be reached (${(err as Error).message})`);
  }
  let body: unknown;
  try {
    body = res.status === 200 ? await res.json() : undefined;
  } catch {
    body = undefined;
  }
  const id =
    body !== null && typeof body === 'object' ? (body as { service?: unknown; version?: unknown; operatorProof?: unknown }) : undefined;
  if (id?.service !== 'tramline')
    throw refuse(`it is not a Tramline gateway (GET ${IDENTITY_PATH} answered ${res.status} without "service": "tramline")`);
  if (opts.operatorToken !== undefined) {
    const expected = Buffer.from(operatorProof(opts.operatorToken, challenge));
    const got = Buffer.from(typeof id.operatorProof === 'string' ? id.operatorProof : '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw refuse('it answers as Tramline but could not prove it knows this operator token (another gateway, or an impostor)');
    }
  }
  return { url: baseUrl, version: typeof id.version === 'string' ? id.version : 'unknown' };
}
