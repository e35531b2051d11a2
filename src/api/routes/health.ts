import { z } from 'zod';
import type { Api, ApiDeps } from '../types.ts';

const Health = z.object({
  status: z.string().meta({ examples: ['ready'] }),
  checks: z
    .record(z.string(), z.string())
    .optional()
    .meta({ examples: [{ database: 'ok', migrations: 'ok' }] }),
});

export function healthRoutes(app: Api, deps: ApiDeps): void {
  app.get('/healthz', {
    schema: {
      tags: ['health'],
      operationId: 'getHealth',
      summary: 'Liveness',
      description: 'The process answers. For a liveness probe: it checks nothing else.',
      security: [],
      response: { 200: Health },
    },
    handler: async () => ({ status: 'ok' }),
  });
  app.get('/readyz', {
    schema: {
      tags: ['health'],
      operationId: 'getReadiness',
      summary: 'Readiness',
      description: 'The database is reachable and migrated, and the process is not draining: 200, else 503 with the failing checks.',
      security: [],
      response: { 200: Health, 503: Health },
    },
    handler: async (_req, reply) => {
      const r = await deps.readiness();
      return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not ready', checks: r.checks });
    },
  });
}
