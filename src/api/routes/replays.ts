import { z } from 'zod';
import * as replays from '../../domain/replays.ts';
import { tenantOf } from '../plugins/auth.ts';
import { EndpointParams, idCursor } from '../schemas/common.ts';
import { ReplayIn, ReplayOut } from '../schemas/delivery-control.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['endpoints'];
const base = '/v1/consumers/:consumer/endpoints/:endpoint/replays';

/** Bulk replays: resend every message matching a filter to one endpoint, as a job whose progress can be read. */
export function replayRoutes(app: Api, deps: ApiDeps): void {
  app.post(base, {
    config: { access: 'admin', problems: [409] },
    schema: {
      tags,
      operationId: 'createReplay',
      summary: 'Replay messages to an endpoint',
      description:
        'Sends again, oldest first, every message of the consumer matching all the fields given (types, channel, time range, the state of ' +
        'its delivery to this endpoint). Answers 202 with a job: `total` messages matched, `queued` grows as the scheduler queues them in ' +
        'batches, `state` becomes completed. A disabled endpoint answers 409.',
      params: EndpointParams,
      body: ReplayIn,
      response: { 202: ReplayOut },
    },
    handler: async (req, reply) =>
      reply.code(202).send(await replays.createReplay(deps, tenantOf(req), req.params.consumer, req.params.endpoint, req.body)),
  });
  app.get(base, {
    config: { access: 'read' },
    schema: {
      tags,
      operationId: 'listReplays',
      summary: 'List an endpoint’s replays',
      description: 'The latest 50, newest first.',
      params: EndpointParams,
      response: { 200: z.object({ data: z.array(ReplayOut) }) },
    },
    handler: async (req) => ({ data: await replays.listReplays(deps, tenantOf(req), req.params.consumer, req.params.endpoint) }),
  });
  app.get(`${base}/:replay`, {
    config: { access: 'read' },
    schema: {
      tags,
      operationId: 'getReplay',
      summary: 'Get a replay’s progress',
      description: '`queued` of `total` messages queued so far; `state` running, completed or failed (with `error`).',
      params: EndpointParams.extend({ replay: idCursor('rpl').describe('The replay’s id (rpl_…)') }),
      response: { 200: ReplayOut },
    },
    handler: (req) => replays.getReplay(deps, tenantOf(req), req.params.consumer, req.params.endpoint, req.params.replay),
  });
}
