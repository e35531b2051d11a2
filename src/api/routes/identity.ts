import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { VERSION } from '../../boot/version.ts';
import type { Api, ApiDeps } from '../types.ts';

/**
 * Lets a client tell a Tramline gateway from whatever else listens on a port before it sends a
 * credential. Public, and answers the same to everyone; with `?challenge=`, the gateway also proves
 * that it knows the operator token (an HMAC of the challenge keyed by the token) without the client
 * ever sending the token: a peer that merely answers the same JSON cannot produce the proof.
 */
export const IDENTITY_PATH = '/.well-known/tramline';

export const operatorProof = (operatorToken: string, challenge: string): string =>
  createHmac('sha256', operatorToken).update(`tramline identity v1:${challenge}`).digest('base64url');

const IdentityOut = z.object({
  service: z.literal('tramline'),
  version: z.string().meta({ examples: ['0.2.0'] }),
  operatorProof: z
    .string()
    .optional()
    .describe('HMAC-SHA256 of "tramline identity v1:<challenge>" keyed by the operator token (base64url)'),
});

export function identityRoutes(app: Api, deps: ApiDeps): void {
  app.get(IDENTITY_PATH, {
    schema: {
      tags: ['health'],
      operationId: 'getIdentity',
      summary: 'Identify the gateway',
      description:
        'Tells a client it talks to a Tramline gateway before it sends a credential. With `challenge`, the gateway also proves that it knows ' +
        'the operator token: `operatorProof` is HMAC-SHA256 of "tramline identity v1:<challenge>" keyed by the token (base64url).',
      security: [],
      querystring: z
        .object({
          challenge: z
            .string()
            .min(16)
            .max(128)
            .regex(/^[A-Za-z0-9_-]+$/)
            .optional()
            .describe('16 to 128 characters of [A-Za-z0-9_-]')
            .meta({ examples: ['c2f6b0d4e8a1f3b5d7c9'] }),
        })
        .strict(),
      response: { 200: IdentityOut },
    },
    handler: async (req) => ({
      service: 'tramline' as const,
      version: VERSION,
      ...(req.query.challenge && deps.operatorToken ? { operatorProof: operatorProof(deps.operatorToken, req.query.challenge) } : {}),
    }),
  });
}
