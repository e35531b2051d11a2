import { AppError, notFound } from '../errors.ts';
import { newId } from '../store/ids.ts';
import * as store from '../store/endpoints.ts';
import type { Page, PageQuery } from '../store/page.ts';
import { checkEndpointUrl } from './egress-guard.ts';
import type { DomainDeps } from './deps.ts';
import { requireConsumer } from './consumers.ts';
import { generateSecret, isValidSecret } from './signing.ts';

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

export async function createEndpoint(deps: DomainDeps, tenantId: string, consumerRef: string, input: EndpointInput): Promise<Endpoint> {
  const url = checkUrl(deps, input.url);
  if (input.secret !== undefined && !isValidSecret(input.secret)) {
    throw new AppError('VALIDATION', 'secret must be whsec_ followed by 24 to 64 base64-encoded bytes', {
      errors: [{ field: 'body.secret', message: 'invalid secret' }],
    });
  }
  return deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    return store.insertEndpoint(q, {
      id: newId('ep'),
      tenantId,
      consumerId: consumer.id,
      url,
      description: input.description ?? '',
      eventTypes: filter(input.eventTypes),
      channels: filter(input.channels),
      headers: input.headers ?? {},
      rateLimitPerSecond: input.rateLimitPerSecond ?? null,
      disabled: input.disabled ?? false,
      secret: input.secret ?? generateSecret(),
    });
  });
}

export const getEndpoint = (deps: DomainDeps, tenantId: string, consumerRef: string, id: string): Promise<Endpoint> =>
  deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    const e = await store.getEndpoint(q, consumer.id, id);
    if (!e) throw notFound('Endpoint');
    return e;
  });

export const listEndpoints = (deps: DomainDeps, tenantId: string, consumerRef: string, page: PageQuery): Promise<Page<Endpoint>> =>
  deps.db.tenant(tenantId, async (q) => store.listEndpoints(q, (await requireConsumer(q, consumerRef)).id, page));

export async function updateEndpoint(deps: DomainDeps, tenantId: string, consumerRef: string, id: string, patch: EndpointPatch): Promise<Endpoint> {
  const url = patch.url !== undefined ? checkUrl(deps, patch.url) : undefined;
  return deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    const current = await store.getEndpoint(q, consumer.id, id);
    if (!current) throw notFound('Endpoint');
    const updated = await store.updateEndpoint(q, consumer.id, id, {
      url: url ?? current.url,
      description: patch.description ?? current.description,
      eventTypes: patch.eventTypes !== undefined ? filter(patch.eventTypes) : current.eventTypes,
      channels: patch.channels !== undefined ? filter(patch.channels) : current.channels,
      headers: patch.headers ?? current.headers,
      rateLimitPerSecond: patch.rateLimitPerSecond !== undefined ? patch.rateLimitPerSecond : current.rateLimitPerSecond,
      disabled: patch.disabled ?? current.disabled,
    });
    return updated!;
  });
}

export const deleteEndpoint = (deps: DomainDeps, tenantId: string, consumerRef: string, id: string): Promise<void> =>
  deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    if (!(await store.deleteEndpoint(q, consumer.id, id))) throw notFound('Endpoint');
  });

export const getEndpointSecret = (deps: DomainDeps, tenantId: string, consumerRef: string, id: string): Promise<string> =>
  deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    const s = await store.getEndpointSecrets(q, consumer.id, id);
    if (!s) throw notFound('Endpoint');
    return s.secret;
  });

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
  const graceUntil = new Date(deps.clock().getTime() + SECRET_GRACE_MS);
  return deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    if (!(await store.rotateEndpointSecret(q, consumer.id, id, secret, graceUntil))) throw notFound('Endpoint');
    return secret;
  });
}
