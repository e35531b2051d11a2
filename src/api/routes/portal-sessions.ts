import { z } from 'zod';
import { getConsumer } from '../../domain/consumers.ts';
import { signPortalToken } from '../../domain/portal-tokens.ts';
import { tenantOf } from '../plugins/auth.ts';
import { ConsumerParams, Problem } from '../schemas/common.ts';
import type { Api, ApiDeps } from '../types.ts';

const PortalSessionIn = z
  .object({ expiresIn: z.number().int().min(60).max(86_400).default(3600).describe('Lifetime of the token in seconds (60 to 86400)') })
  .strict();
const PortalSessionOut = z.object({ url: z.string(), token: z.string(), expiresAt: z.date() });

export function portalSessionRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/consumers/:consumer/portal-sessions', {
    config: { access: 'admin' },
    schema: {
      tags: ['consumers'],
      summary:
        'Create a portal session: a short-lived token (tlp_…) that may manage this consumer’s endpoints and read its messages, ' +
        'and nothing else. The portal UI itself is not part of this release: `url` is where it will live.',
      params: ConsumerParams,
      body: PortalSessionIn.nullish(),
      response: { 201: PortalSessionOut, 400: Problem, 404: Problem },
    },
    handler: async (req, reply) => {
      const tenantId = tenantOf(req);
      const consumer = await getConsumer(deps, tenantId, req.params.consumer);
      const exp = Math.floor(deps.clock().getTime() / 1000) + (req.body?.expiresIn ?? 3600);
      const token = signPortalToken(deps.portal.key, { t: tenantId, c: consumer.id, exp });
      const base = deps.portal.publicUrl ?? `${req.protocol}://${req.host}`;
      return reply.code(201).send({ url: `${base}/portal#token=${token}`, token, expiresAt: new Date(exp * 1000) });
    },
  });
}
