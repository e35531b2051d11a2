import { createKey, listKeys, revokeKey } from '../../domain/api-keys.ts';
import { keyOf, tenantOf } from '../plugins/auth.ts';
import { idCursor, pageOf, pageQuery, Ref } from '../schemas/common.ts';
import { ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut } from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';
import { z } from 'zod';

const tags = ['api-keys'];
const ApiKeyParams = z.object({ apiKey: Ref.describe('The key’s id (key_…), never the key itself') });

export function apiKeyRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/api-keys', {
    config: { access: 'admin' },
    schema: {
      tags,
      operationId: 'createApiKey',
      summary: 'Create an API key',
      description:
        'Creates a key of this tenant with the given scopes (admin, publish, read). The key itself (`apiKey`) is answered once and stored hashed: keep it.',
      body: ApiKeyIn,
      response: { 201: ApiKeyCreatedOut },
    },
    handler: async (req, reply) => {
      const { key, secret } = await createKey(deps, tenantOf(req), req.body);
      return reply.code(201).send({ ...key, apiKey: secret });
    },
  });
  app.get('/v1/api-keys', {
    config: { access: 'admin' },
    schema: {
      tags,
      operationId: 'listApiKeys',
      summary: 'List API keys',
      description: 'The tenant’s keys, revoked ones included, oldest first. Never the keys themselves: their prefix only.',
      querystring: pageQuery(idCursor('key')),
      response: { 200: pageOf(ApiKeyOut) },
    },
    handler: (req) => listKeys(deps, tenantOf(req), req.query),
  });
  app.delete('/v1/api-keys/:apiKey', {
    config: { access: 'admin', problems: [409] },
    schema: {
      tags,
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key',
      description: 'The key stops working at once on this replica and within seconds on the others. A key cannot revoke itself (409).',
      params: ApiKeyParams,
      response: { 204: z.null().describe('Revoked') },
    },
    handler: async (req, reply) => {
      await revokeKey(deps, tenantOf(req), req.params.apiKey, keyOf(req));
      deps.keys.forget();
      return reply.code(204).send(null);
    },
  });
}
