import type { FastifyInstance } from 'fastify';

/**
 * While the process drains (SIGTERM received, /readyz failing, still serving for TRAMLINE_DRAIN_DELAY),
 * every answer carries `Connection: close`: each keep-alive connection is retired right after a complete
 * answer, which the proxy reads before it would reuse the connection. When the server finally closes, no
 * connection that carried a request is left idle for the proxy to write on at the wrong moment.
 */
export function registerDrain(app: FastifyInstance, draining: () => boolean): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining()) reply.header('connection', 'close');
    done(null, payload);
  });
}
