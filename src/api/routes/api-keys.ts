import { createKey, listKeys, revokeKey } from '../../domain/api-keys.ts';
import { keyOf, tenantOf } from '../plugins/auth.ts';
import { PageQuery, pageOf, Problem, Ref } from '../schemas/common.ts';
import { ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut } from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';
import { z } from 'zod';

const tags = ['api keys'];

export function apiKeyRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/api-keys', {
    config: { access: 'admin' },
    schema: { tags, summary: 'Create an API key (shown once)', body: ApiKeyIn, response: { 201: ApiKeyCreatedOut, 400: Problem } },
    handler: async (req, reply) => {
      const { key, secret } = await createKey(deps, tenantOf(req), req.body);
      return reply.code(201).send({ ...key, key: secret });
    },
  });
  app.get('/v1/api-keys', {
    config: { access: 'admin' },
    schema: { tags, summary: 'List API keys', querystring: PageQuery, response: { 200: pageOf(ApiKeyOut) } },
    handler: (req) => listKeys(deps, tenantOf(req), req.query),
  });
  app.delete('/v1/api-keys/:id', {
    config: { access: 'admin' },
    schema: { tags, summary: 'Revoke an API key', params: z.object({ id: Ref }), response: { 204: z.null(), 404: Problem } },
    handler: async (req, reply) => {
      await revokeKey(deps, tenantOf(req), req.params.id, keyOf(req));
      deps.keys.forget();
      return reply.code(204).send(null);
    },
  });
}
