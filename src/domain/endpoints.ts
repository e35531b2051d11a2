import { AppError, notFound } from '../errors.ts';
import { newId } from '../store/ids.ts';
import * as store from '../store/endpoints.ts';
import type { Page, PageQuery } from '../store/page.ts';
import { checkEndpointUrl } from './egress-guard.ts';
import type { DomainDeps } from './deps.ts';
import { requireConsumer } from './consumers.ts';
import { generateSecret, isValidSecret } from './signing.ts';
import { compileFilter, filterProblem } from './payload-filter.ts';
import { replaySkipped as replaySkippedRows, skipPending } from '../store/deliveries.ts';
import { openHeaders, sealHeaders, secretAad } from './secrets/tenant-cipher.ts';
import { maskHeaders, mergeSealedHeaders, refuseMasks, unmaskedHeaders, type HeaderView } from './header-masks.ts';

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
  filter?: string | null | undefined;
  secret?: string | undefined;
}

export type EndpointPatch = Partial<Omit<EndpointInput, 'secret'>> & { replaySkipped?: boolean | undefined };

export const EGRESS_HINT =
  'Private and loopback addresses are refused unless the operator allows them: for a receiver on this machine in development, ' +
  'start the gateway with `tramline dev` (or `npm run dev`), or set TRAMLINE_EGRESS_ALLOW=127.0.0.0/8,::1/128 (CIDRs, comma-separated)';

function checkUrl(deps: DomainDeps, url: string): string {
  const checked = checkEndpointUrl(url, deps.egressAllow);
  if (!checked.ok) {
    const code = checked.code === 'invalid_url' ? 'VALIDATION' : 'EGRESS_REFUSED';
    // The detail names the fix: a developer pointing an endpoint at this machine needs `tramline dev`.
    const detail = code === 'EGRESS_REFUSED' ? `${checked.reason}. ${EGRESS_HINT}` : checked.reason;
    throw new AppError(code, detail, { errors: [{ field: 'body.url', message: checked.reason }] });
  }
  return checked.url.toString();
}

/** A payload filter is checked when saved: 400 naming `body.filter`, with where the problem is. */
function checkFilter(filter: string | null | undefined): string | null | undefined {
  if (filter === undefined || filter === null) return filter;
  const c = compileFilter(filter);
  if (c.ok) return filter;
  throw filterProblem(c.problem);
}

// An empty filter list would match nothing, which is never what was meant: treat it as "no filter".
const filter = (list: string[] | null | undefined): string[] | null => (list && list.length > 0 ? [...new Set(list)] : null);

/** The store keeps header values sealed; callers see them in clear, or masked (never opened) for a `masked` view. */
const reveal = async (deps: DomainDeps, tenantId: string, e: Endpoint, view: HeaderView): Promise<Endpoint> => ({
  ...e,
  headers: view === 'values' ? await openHeaders(deps.cipher, tenantId, e.id, e.headers) : maskHeaders(e.headers),
});

export async function createEndpoint(
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  input: EndpointInput,
  view: HeaderView,
): Promise<Endpoint> {
  const url = checkUrl(deps, input.url);
  refuseMasks(input.headers ?? {});
  const payloadFilter = checkFilter(input.filter) ?? null;
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
      filter: payloadFilter,
      secret,
    });
  });
  return reveal(deps, tenantId, created, view);
}

export async function getEndpoint(
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  id: string,
  view: HeaderView,
): Promise<Endpoint> {
  const e = await deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    return store.getEndpoint(q, consumer.id, id);
  });
  if (!e) throw notFound('Endpoint');
  return reveal(deps, tenantId, e, view);
}

export async function listEndpoints(
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  page: PageQuery,
  view: HeaderView,
): Promise<Page<Endpoint>> {
  const p = await deps.db.tenant(tenantId, async (q) => store.listEndpoints(q, (await requireConsumer(q, consumerRef)).id, page));
  return { ...p, data: await Promise.all(p.data.map((e) => reveal(deps, tenantId, e, view))) };
}

export async function updateEndpoint(
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  id: string,
  patch: EndpointPatch,
  view: HeaderView,
): Promise<Endpoint> {
  const url = patch.url !== undefined ? checkUrl(deps, patch.url) : undefined;
  const payloadFilter = checkFilter(patch.filter);
  // Masked values (sent back as read) keep their stored ciphertext: only real values are sealed.
  const sent = patch.headers;
  const sealed = sent ? await sealHeaders(deps.cipher, tenantId, id, unmaskedHeaders(sent)) : undefined;
  const updated = await deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    const current = await store.getEndpoint(q, consumer.id, id);
    if (!current) throw notFound('Endpoint');
    const updated = await store.updateEndpoint(q, consumer.id, id, {
      url: url ?? current.url,
      description: patch.description ?? current.description,
      eventTypes: patch.eventTypes !== undefined ? filter(patch.eventTypes) : current.eventTypes,
      channels: patch.channels !== undefined ? filter(patch.channels) : current.channels,
      headers: sent && sealed ? mergeSealedHeaders(sent, sealed, current.headers) : current.headers,
      rateLimitPerSecond: patch.rateLimitPerSecond !== undefined ? patch.rateLimitPerSecond : current.rateLimitPerSecond,
      disabled: patch.disabled ?? current.disabled,
      filter: payloadFilter !== undefined ? payloadFilter : current.filter,
    });
    // Disabled now: what was queued waits as skipped (a disabled endpoint is sent nothing), replayed on re-enable.
    if (updated!.disabled && !current.disabled && (await skipPending(q, id)) > 0) return (await store.getEndpoint(q, consumer.id, id))!;
    // Re-enabled with replaySkipped: what was published meanwhile goes out now, in the same transaction.
    if (patch.replaySkipped && !updated!.disabled) {
      const replayed = await replaySkippedRows(q, id);
      return { ...updated!, skippedDeliveries: 0, replayedDeliveries: replayed };
    }
    return updated!;
  });
  return reveal(deps, tenantId, updated, view);
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

/** Queues every skipped delivery of an enabled endpoint (published while it was disabled); 409 while it is disabled. */
export const replaySkipped = (deps: DomainDeps, tenantId: string, consumerRef: string, id: string): Promise<number> =>
  deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    const e = await store.getEndpoint(q, consumer.id, id);
    if (!e) throw notFound('Endpoint');
    if (e.disabled) throw new AppError('CONFLICT', 'The endpoint is disabled; enable it (PATCH disabled: false) before replaying');
    return replaySkippedRows(q, id);
  });
