import { z } from 'zod';
import { getConsumer } from '../../domain/consumers.ts';
import { signPortalToken } from '../../domain/portal-tokens.ts';
import { tenantOf } from '../plugins/auth.ts';
import { ConsumerParams, optionalBody } from '../schemas/common.ts';
import type { Api, ApiDeps } from '../types.ts';

const PortalSessionIn = z
  .object({ expiresIn: z.number().int().min(60).max(86_400).default(3600).describe('Lifetime of the token in seconds (60 to 86400)') })
  .strict();
const PortalSessionOut = z.object({
  url: z
    .string()
    .describe('The portal page for this consumer, the token in its fragment')
    .meta({ examples: ['https://hooks.example.com/portal#token=tlp_…'] }),
  token: z.string().describe('A portal token (tlp_…): a bearer token for this consumer’s portal routes only'),
  expiresAt: z.date(),
});

export function portalSessionRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/consumers/:consumer/portal-sessions', {
    config: { access: 'admin' },
    schema: {
      tags: ['portal'],
      operationId: 'createPortalSession',
      summary: 'Create a portal session',
      description:
        'A short-lived token (tlp_…) that may manage this consumer’s endpoints and read its messages, and nothing else, ' +
        'and the URL of the portal page that uses it. The body is optional.',
      params: ConsumerParams,
      body: optionalBody(PortalSessionIn),
      response: { 201: PortalSessionOut },
    },
    handler: async (req, reply) => {
      const tenantId = tenantOf(req);
      const consumer = await getConsumer(deps, tenantId, req.params.consumer);
      const exp = Math.floor(deps.clock().getTime() / 1000) + (req.body?.expiresIn ?? 3600);
      const token = signPortalToken(deps.portal.key, { t: tenantId, c: consumer.id, exp });
      // TRAMLINE_PUBLIC_URL, or a link relative to this gateway: never built from the request's Host header,
      // which a client chooses (`Host: evil.example"><script>` came back inside the link).
      const base = deps.portal.publicUrl ?? '';
      return reply.code(201).send({ url: `${base}/portal/${tenantId}#token=${token}`, token, expiresAt: new Date(exp * 1000) });
    },
  });
}
