import { AppError } from '../errors.ts';
import type { Principal } from './api-keys.ts';

/**
 * Endpoints' custom header values are secrets (often the receiver's own credentials), sealed at rest
 * like signing secrets. Only a caller that may change everything of the tenant reads them in clear:
 * an `admin` key, or an owner's or developer's dashboard session (their role carries the admin scope).
 * Everyone else — `read` keys, viewers, portal tokens — sees the header names with this mask as each
 * value, as Svix and Stripe show a secret's presence without its value.
 *
 * The mask is not printable ASCII, so it can never be a real header value: a PATCH that sends it back
 * unambiguously means "keep the value stored under this name", and a client that writes back what it
 * read (the portal editing an endpoint) never replaces a credential with bullets.
 */
export const HEADER_MASK = '••••••';

export type HeaderView = 'values' | 'masked';

export const headerViewOf = (p: Principal | null): HeaderView => (p?.kind === 'tenant' && p.scopes.includes('admin') ? 'values' : 'masked');

export const maskHeaders = (headers: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.keys(headers).map((name) => [name, HEADER_MASK]));

/** The headers sent with a real value, to be sealed (masked ones keep their stored ciphertext). */
export const unmaskedHeaders = (sent: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(sent).filter(([, v]) => v !== HEADER_MASK));

const maskRefused = (name: string, why: string): AppError =>
  new AppError('VALIDATION', `headers.${name}: ${why}`, { errors: [{ field: `body.headers.${name}`, message: why }] });

/** A new endpoint has no stored value for the mask to stand for. */
export function refuseMasks(sent: Record<string, string>): void {
  const name = Object.keys(sent).find((n) => sent[n] === HEADER_MASK);
  if (name !== undefined) throw maskRefused(name, `${HEADER_MASK} stands for a stored value you cannot read; send the value itself`);
}

/**
 * The sealed headers after a PATCH: the names sent, in their order; a masked one keeps the ciphertext it
 * had (sealed under the same endpoint and name, so it still opens), a new one its freshly sealed value.
 */
export function mergeSealedHeaders(
  sent: Record<string, string>,
  sealedNew: Record<string, string>,
  sealedCurrent: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(sent)) {
    const sealed = value === HEADER_MASK ? sealedCurrent[name] : sealedNew[name];
    if (sealed === undefined) throw maskRefused(name, `${HEADER_MASK} keeps a stored value, and this endpoint has no header ${name}`);
    out[name] = sealed;
  }
  return out;
}
