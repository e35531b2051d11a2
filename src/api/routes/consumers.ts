import { z } from 'zod';
import { createConsumer, deleteConsumer, getConsumer, listConsumers, updateConsumer } from '../../domain/consumers.ts';
import { tenantOf } from '../plugins/auth.ts';
import { ConsumerParams, PageQuery, pageOf, Problem } from '../schemas/common.ts';
import { ConsumerIn, ConsumerOut, ConsumerPatch } from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['consumers'];

export function consumerRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/consumers', {
    config: { access: 'admin' },
    schema: { tags, summary: 'Create a consumer', body: ConsumerIn, response: { 201: ConsumerOut, 400: Problem, 409: Problem } },
    handler: async (req, reply) => reply.code(201).send(await createConsumer(deps, tenantOf(req), req.body)),
  });
  app.get('/v1/consumers', {
    config: { access: 'read' },
    schema: { tags, summary: 'List consumers', querystring: PageQuery, response: { 200: pageOf(ConsumerOut) } },
    handler: (req) => listConsumers(deps, tenantOf(req), req.query),
  });
  app.get('/v1/consumers/:consumer', {
    config: { access: 'read', portal: true },
    schema: { tags, summary: 'Get a consumer by id or uid', params: ConsumerParams, response: { 200: ConsumerOut, 404: Problem } },
    handler: (req) => getConsumer(deps, tenantOf(req), req.params.consumer),
  });
  app.patch('/v1/consumers/:consumer', {
    config: { access: 'admin' },
    schema: { tags, summary: 'Update a consumer', params: ConsumerParams, body: ConsumerPatch, response: { 200: ConsumerOut, 404: Problem, 409: Problem } },
    handler: (req) => updateConsumer(deps, tenantOf(req), req.params.consumer, req.body),
  });
  app.delete('/v1/consumers/:consumer', {
    config: { access: 'admin' },
    schema: { tags, summary: 'Delete a consumer with its endpoints and messages', params: ConsumerParams, response: { 204: z.null(), 404: Problem } },
    handler: async (req, reply) => {
      await deleteConsumer(deps, tenantOf(req), req.params.consumer);
      return reply.code(204).send(null);
    },
  });
}
