import { z } from 'zod';
import type { Api, ApiDeps } from '../types.ts';

const Health = z.object({ status: z.string(), checks: z.record(z.string(), z.string()).optional() });

export function healthRoutes(app: Api, deps: ApiDeps): void {
  app.get('/healthz', {
    schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: Health } },
    handler: async () => ({ status: 'ok' }),
  });
  app.get('/readyz', {
    schema: { tags: ['health'], summary: 'Readiness: database reachable and migrated, not draining', response: { 200: Health, 503: Health } },
    handler: async (_req, reply) => {
      const r = await deps.readiness();
      return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not ready', checks: r.checks });
    },
  });
}
