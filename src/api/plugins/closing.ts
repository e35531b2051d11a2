import type { FastifyInstance } from 'fastify';
import { sendProblem, UNAVAILABLE_RETRY_AFTER_S } from '../problem.ts';

/**
 * Once the API is closing, a request that still reaches it (on a keep-alive connection not yet closed: the
 * server only closes idle ones after its preClose hooks) is answered 503 with Retry-After and Connection: close,
 * as a problem document: nothing was done, and a retry (another replica, or this one restarted) will work.
 * Fastify's own answer (`return503OnClosing`) is a bare JSON 503 without Retry-After, which a careful client
 * cannot tell from a failure; buildApp turns it off. Registered before every other onRequest hook.
 */
export const CLOSING_DETAIL = 'The server is shutting down; retry';

export function registerClosingAnswer(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close').header('retry-after', String(UNAVAILABLE_RETRY_AFTER_S));
    return sendProblem(reply, 'UNAVAILABLE', CLOSING_DETAIL);
  });
}
