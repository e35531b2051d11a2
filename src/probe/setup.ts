// Idempotent setup: the probe's consumer and endpoint on the tenant, created on the first run and
// reused (and repaired: URL, event type filter, disabled flag) on every later run.
import { ApiError, type ApiClient } from './api.ts';
import { StepError } from './step.ts';

/** The event type the probe publishes; its endpoint subscribes to this type only. */
export const PROBE_EVENT_TYPE = 'tramline.probe';
/** How the probe recognises its own endpoint among the consumer's endpoints. */
export const PROBE_ENDPOINT_DESCRIPTION = 'tramline probe receiver (managed by `tramline probe`; do not edit)';

export interface ProbeTarget {
  consumerId: string;
  consumerUid: string;
  endpointId: string;
  endpointUrl: string;
  secret: string;
  /** What setup had to do this time: nothing (reused), or created/updated things. */
  changes: string[];
}

interface Consumer {
  id: string;
  uid: string | null;
}
interface Endpoint {
  id: string;
  url: string;
  description: string;
  eventTypes: string[] | null;
  disabled: boolean;
  disabledReason: string | null;
}

/** The gateway refuses private and loopback addresses unless its TRAMLINE_EGRESS_ALLOW lists them: say so. */
async function explainEgress<T>(endpointUrl: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError && err.problemType?.endsWith('/egress-refused')) {
      throw new StepError(
        `${err.message} — the gateway must be allowed to call the probe at ${new URL(endpointUrl).host}: add its address to the gateway's TRAMLINE_EGRESS_ALLOW, or pass a --public-url it may call`,
      );
    }
    throw err;
  }
}

export async function ensureProbeTarget(
  api: ApiClient,
  consumerUid: string,
  endpointUrl: string,
  signal: AbortSignal,
): Promise<ProbeTarget> {
  const changes: string[] = [];
  const path = `/v1/consumers/${encodeURIComponent(consumerUid)}`;
  let consumer = await api.request<Consumer>('GET', path, { signal, accept: [200, 404] });
  if (consumer.status === 404) {
    // 409: another probe created it meanwhile; read it back.
    const created = await api.request<Consumer>('POST', '/v1/consumers', {
      body: { name: 'Tramline probe', uid: consumerUid, metadata: { managedBy: 'tramline probe' } },
      signal,
      accept: [201, 409],
    });
    consumer = created.status === 201 ? created : await api.request<Consumer>('GET', path, { signal });
    if (created.status === 201) changes.push(`created consumer ${consumerUid}`);
  }

  const list = await api.request<{ data: Endpoint[] }>('GET', `${path}/endpoints?limit=250`, { signal });
  let endpoint = list.body.data.find((e) => e.description === PROBE_ENDPOINT_DESCRIPTION);
  if (!endpoint) {
    endpoint = (
      await explainEgress(endpointUrl, () =>
        api.request<Endpoint>('POST', `${path}/endpoints`, {
          body: { url: endpointUrl, description: PROBE_ENDPOINT_DESCRIPTION, eventTypes: [PROBE_EVENT_TYPE] },
          signal,
          accept: [201],
        }),
      )
    ).body;
    changes.push(`created endpoint ${endpoint.id} → ${endpointUrl}`);
  } else {
    const patch: Record<string, unknown> = {};
    if (endpoint.url !== endpointUrl && endpoint.url !== new URL(endpointUrl).toString()) patch.url = endpointUrl;
    if (endpoint.eventTypes?.length !== 1 || endpoint.eventTypes[0] !== PROBE_EVENT_TYPE) patch.eventTypes = [PROBE_EVENT_TYPE];
    // The gateway disables an endpoint that kept failing (e.g. while the probe was down): switch it back on.
    if (endpoint.disabled) patch.disabled = false;
    if (Object.keys(patch).length > 0) {
      const id = endpoint.id;
      endpoint = (
        await explainEgress(endpointUrl, () => api.request<Endpoint>('PATCH', `${path}/endpoints/${id}`, { body: patch, signal }))
      ).body;
      changes.push(`updated endpoint ${endpoint.id}: ${Object.keys(patch).join(', ')}`);
    }
  }

  const secret = await api.request<{ secret: string }>('GET', `${path}/endpoints/${endpoint.id}/secret`, { signal });
  if (typeof secret.body?.secret !== 'string') throw new StepError('the endpoint secret answer has no secret');
  return {
    consumerId: consumer.body.id,
    consumerUid,
    endpointId: endpoint.id,
    endpointUrl: endpoint.url,
    secret: secret.body.secret,
    changes,
  };
}
