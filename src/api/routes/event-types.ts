import { z } from 'zod';
import { createEventType, listEventTypes } from '../../domain/event-types.ts';
import { tenantOf } from '../plugins/auth.ts';
import { PageQuery, pageOf, Problem } from '../schemas/common.ts';
import { EventTypeIn, EventTypeOut } from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['event types'];

export function eventTypeRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/event-types', {
    config: { access: 'admin' },
    schema: { tags, summary: 'Register an event type', body: EventTypeIn, response: { 201: EventTypeOut, 400: Problem, 409: Problem } },
    handler: async (req, reply) => reply.code(201).send(await createEventType(deps, tenantOf(req), req.body)),
  });
  app.get('/v1/event-types', {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      summary: 'List event types',
      querystring: PageQuery.extend({ includeArchived: z.stringbool().default(false) }),
      response: { 200: pageOf(EventTypeOut) },
    },
    handler: (req) => listEventTypes(deps, tenantOf(req), req.query),
  });
}
