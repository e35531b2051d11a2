import { AppError, notFound } from '../errors.ts';
import { newId } from '../store/ids.ts';
import * as store from '../store/endpoints.ts';
import type { Page, PageQuery } from '../store/page.ts';
import { checkEndpointUrl } from './egress-guard.ts';
import type { DomainDeps } from './deps.ts';
import { requireConsumer } from './consumers.ts';
import { generateSecret, isValidSecret } from './signing.ts';
import { openHeaders, sealHeaders, secretAad } from './secrets/tenant-cipher.ts';

export type Endpoint = store.Endpoint;

/** How long the previous secret keeps signing after a rotation. */
export const SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

export interface EndpointInput {
  url: string;
  description?: string | undefined;
  eventTypes?: string[] | null | undefined;
  channels?: string[] | null | undefined;
  headers?: Record<string, string> | undefined;
  rateLimitPerSecond?: number | null | undefined;
  disabled?: boolean | undefined;
  secret?: string | undefined;
}

export type EndpointPatch = Partial<Omit<EndpointInput, 'secret'>>;

function checkUrl(deps: DomainDeps, url: string): string {
  const checked = checkEndpointUrl(url, deps.egressAllow);
  if (!checked.ok) {
    const code = checked.code === 'invalid_url' ? 'VALIDATION' : 'EGRESS_REFUSED';
    throw new AppError(code, checked.reason, { errors: [{ field: 'body.url', message: checked.reason }] });
  }
  return checked.url.toString();
}

// An empty filter list would match nothing, which is never what was meant: treat it as "no filter".
const filter = (list: string[] | null | undefined): string[] | null => (list && list.length > 0 ? [...new Set(list)] : null);

/** The store keeps header values sealed; callers see them in clear. */
const reveal = async (deps: DomainDeps, tenantId: string, e: Endpoint): Promise<Endpoint> => ({
  ...e,
  headers: await openHeaders(deps.cipher, tenantId, e.id, e.headers),
});

export async function createEndpoint(deps: DomainDeps, tenantId: string, consumerRef: string, input: EndpointInput): Promise<Endpoint> {
  const url = checkUrl(deps, input.url);
  if (input.secret !== undefined && !isValidSecret(input.secret)) {
    throw new AppError('VALIDATION', 'secret must be whsec_ followed by 24 to 64 base64-encoded bytes', {
      errors: [{ field: 'body.secret', message: 'invalid secret' }],
    });
  }
  const id = newId('ep');
  const secret = await deps.cipher.seal(tenantId, input.secret ?? generateSecret(), secretAad(id));
  const headers = await sealHeaders(deps.cipher, tenantId, id, input.headers ?? {});
  const created = await deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    return store.insertEndpoint(q, {
      id,
      tenantId,
      consumerId: consumer.id,
      url,
      description: input.description ?? '',
      eventTypes: filter(input.eventTypes),
      channels: filter(input.channels),
      headers,
      rateLimitPerSecond: input.rateLimitPerSecond ?? null,
      disabled: input.disabled ?? false,
      secret,
    });
  });
  return reveal(deps, tenantId, created);
}

export async function getEndpoint(deps: DomainDeps, tenantId: string, consumerRef: string, id: string): Promise<Endpoint> {
  const e = await deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    return store.getEndpoint(q, consumer.id, id);
  });
  if (!e) throw notFound('Endpoint');
  return reveal(deps, tenantId, e);
}

export async function listEndpoints(deps: DomainDeps, tenantId: string, consumerRef: string, page: PageQuery): Promise<Page<Endpoint>> {
  const p = await deps.db.tenant(tenantId, async (q) => store.listEndpoints(q, (await requireConsumer(q, consumerRef)).id, page));
  return { ...p, data: await Promise.all(p.data.map((e) => reveal(deps, tenantId, e))) };
}

export async function updateEndpoint(deps: DomainDeps, tenantId: string, consumerRef: string, id: string, patch: EndpointPatch): Promise<Endpoint> {
  const url = patch.url !== undefined ? checkUrl(deps, patch.url) : undefined;
  const headers = patch.headers ? await sealHeaders(deps.cipher, tenantId, id, patch.headers) : undefined;
  const updated = await deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    const current = await store.getEndpoint(q, consumer.id, id);
    if (!current) throw notFound('Endpoint');
    const updated = await store.updateEndpoint(q, consumer.id, id, {
      url: url ?? current.url,
      description: patch.description ?? current.description,
      eventTypes: patch.eventTypes !== undefined ? filter(patch.eventTypes) : current.eventTypes,
      channels: patch.channels !== undefined ? filter(patch.channels) : current.channels,
      headers: headers ?? current.headers,
      rateLimitPerSecond: patch.rateLimitPerSecond !== undefined ? patch.rateLimitPerSecond : current.rateLimitPerSecond,
      disabled: patch.disabled ?? current.disabled,
    });
    return updated!;
  });
  return reveal(deps, tenantId, updated);
}

export const deleteEndpoint = (deps: DomainDeps, tenantId: string, consumerRef: string, id: string): Promise<void> =>
  deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    if (!(await store.deleteEndpoint(q, consumer.id, id))) throw notFound('Endpoint');
  });

export async function getEndpointSecret(deps: DomainDeps, tenantId: string, consumerRef: string, id: string): Promise<string> {
  const s = await deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    return store.getEndpointSecrets(q, consumer.id, id);
  });
  if (!s) throw notFound('Endpoint');
  return deps.cipher.open(tenantId, s.secret, secretAad(id));
}

export async function rotateEndpointSecret(
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  id: string,
  input: { secret?: string | undefined },
): Promise<string> {
  if (input.secret !== undefined && !isValidSecret(input.secret)) {
    throw new AppError('VALIDATION', 'secret must be whsec_ followed by 24 to 64 base64-encoded bytes', {
      errors: [{ field: 'body.secret', message: 'invalid secret' }],
    });
  }
  const secret = input.secret ?? generateSecret();
  const sealed = await deps.cipher.seal(tenantId, secret, secretAad(id));
  const graceUntil = new Date(deps.clock().getTime() + SECRET_GRACE_MS);
  return deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    if (!(await store.rotateEndpointSecret(q, consumer.id, id, sealed, graceUntil))) throw notFound('Endpoint');
    return secret;
  });
}
