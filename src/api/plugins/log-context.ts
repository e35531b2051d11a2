import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/**
 * Adds fields to every later line of this request. The request's logger is its own child (Fastify makes
 * one per request), so its bindings are set in place: a child per field set cost 5–10 µs each.
 */
export function bindLog(req: FastifyRequest, bindings: Record<string, string>): void {
  (req.log as Logger).setBindings(bindings);
}

/**
 * The ids a route's path names, as log fields of one name and type each: `consumerId` for an id
 * (`con_…`) and `consumerUid` for the tenant's own reference, and likewise `messageId`/`eventId`;
 * endpoints are addressed by id only. Added before the handler runs, so every line of the request has them.
 */
export function logContextOf(params: unknown, consumerBound = false): Record<string, string> | null {
  if (!params || typeof params !== 'object') return null;
  const p = params as Record<string, unknown>;
  const out: Record<string, string> = {};
  // A key bound twice would appear twice in the line, which Elasticsearch refuses.
  if (typeof p.consumer === 'string' && !consumerBound) out[p.consumer.startsWith('con_') ? 'consumerId' : 'consumerUid'] = p.consumer;
  if (typeof p.endpoint === 'string') out.endpointId = p.endpoint;
  if (typeof p.message === 'string') out[p.message.startsWith('msg_') ? 'messageId' : 'eventId'] = p.message;
  return Object.keys(out).length > 0 ? out : null;
}

export async function bindLogContext(req: FastifyRequest): Promise<void> {
  // A portal token's consumer is bound at authentication already.
  const bindings = logContextOf(req.params, req.principal?.kind === 'portal');
  if (bindings) bindLog(req, bindings);
}
