import type { ClaimedDelivery } from '../store/queue.ts';
import { withDeliverSpan } from '../telemetry/tracing.ts';
import type { HttpClient, SendResult } from './http-client.ts';
import type { Prepared } from './prepare.ts';

/**
 * Stage 2 of a delivery: one HTTP attempt, in a span linked to the publish. What happened is a value
 * (a response, or what went wrong before there was one); the transport decides nothing.
 */
export function send(http: HttpClient, d: ClaimedDelivery, req: Prepared, signal: AbortSignal): Promise<SendResult> {
  const attributes = {
    tenantId: d.tenantId,
    messageId: d.messageId,
    endpointId: d.endpointId,
    deliveryId: d.id,
    attempt: d.attempts + 1,
    traceparent: d.traceparent,
  };
  return withDeliverSpan(attributes, async (span) => {
    const r = await http.post(req.url, req.headers, req.body, signal);
    if (r.kind === 'response') span.setAttribute('http.response.status_code', r.status);
    else span.setAttribute('error.type', r.code);
    return r;
  });
}
