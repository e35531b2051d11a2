import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorReporter } from './errors.ts';
import type { Metrics, PublishOutcome } from './metrics.ts';

/** The publish route, whose answers feed `tramline_publishes_total` (and the publish-availability SLO). */
export const PUBLISH_ROUTE = '/v1/consumers/:consumer/messages';

const publishOutcome = (status: number): PublishOutcome =>
  status === 202 ? 'accepted' : status >= 500 ? 'error' : status >= 400 ? 'rejected' : 'duplicate';

/**
 * HTTP server metrics, the publish outcome, `GET /metrics` with TRAMLINE_METRICS_TOKEN (not in the OpenAPI document),
 * and 5xx answers to the error reporter. The route label is the route pattern, never the raw URL.
 */
export function registerHttpTelemetry(
  app: FastifyInstance,
  metrics: Metrics | undefined,
  errors: ErrorReporter | undefined,
  metricsToken?: string,
): void {
  // Set by the error handler (problem.ts) for unexpected errors only: 4xx problems are the client's.
  app.decorateRequest('unhandledError', null);
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    if (metrics) {
      metrics.httpRequest(req.method, route, status, reply.elapsedTime / 1000);
      if (route === PUBLISH_ROUTE && req.method === 'POST') metrics.publish(publishOutcome(status));
    }
    if (errors && req.unhandledError) errors.capture(req.unhandledError, tagsOf(req, route));
  });
  // Only with a token: the metrics name every tenant. Without one they are on TRAMLINE_METRICS_PORT only.
  if (metrics && metricsToken) {
    const expected = createHash('sha256').update(`Bearer ${metricsToken}`).digest();
    app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
      const given = createHash('sha256')
        .update(req.headers.authorization ?? '')
        .digest();
      if (!timingSafeEqual(given, expected)) {
        return reply.code(401).type('application/problem+json').send({
          type: 'https://tramline.dev/problems/unauthorized',
          title: 'A valid API key is required',
          status: 401,
          detail: 'Send Authorization: Bearer <TRAMLINE_METRICS_TOKEN>',
        });
      }
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    });
  }
}

function tagsOf(req: FastifyRequest, route: string): Record<string, string | undefined> {
  const p = req.principal as { tenantId?: string } | null;
  return { component: 'api', method: req.method, route, requestId: req.id, tenantId: p?.tenantId };
}
