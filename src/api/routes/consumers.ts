import { z } from 'zod';
import { createConsumer, deleteConsumer, getConsumer, listConsumers, updateConsumer } from '../../domain/consumers.ts';
import { tenantOf } from '../plugins/auth.ts';
import { ConsumerParams, idCursor, pageOf, pageQuery } from '../schemas/common.ts';
import { ConsumerIn, ConsumerOut, ConsumerPatch } from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['consumers'];

export function consumerRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/consumers', {
    config: { access: 'admin', problems: [409] },
    schema: {
      tags,
      operationId: 'createConsumer',
      summary: 'Create a consumer',
      description:
        'A consumer is one of your customers: it owns endpoints and receives messages. Give it your own `uid` to address it by that (409 when taken).',
      body: ConsumerIn,
      response: { 201: ConsumerOut },
    },
    handler: async (req, reply) => reply.code(201).send(await createConsumer(deps, tenantOf(req), req.body)),
  });
  app.get('/v1/consumers', {
    config: { access: 'read' },
    schema: {
      tags,
      operationId: 'listConsumers',
      summary: 'List consumers',
      description: 'The tenant’s consumers, oldest first.',
      querystring: pageQuery(idCursor('con')),
      response: { 200: pageOf(ConsumerOut) },
    },
    handler: (req) => listConsumers(deps, tenantOf(req), req.query),
  });
  app.get('/v1/consumers/:consumer', {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      operationId: 'getConsumer',
      summary: 'Get a consumer',
      description: 'By its id (con_…) or by the uid you gave it.',
      params: ConsumerParams,
      response: { 200: ConsumerOut },
    },
    handler: (req) => getConsumer(deps, tenantOf(req), req.params.consumer),
  });
  app.patch('/v1/consumers/:consumer', {
    config: { access: 'admin', problems: [409] },
    schema: {
      tags,
      operationId: 'updateConsumer',
      summary: 'Update a consumer',
      description: 'Only the fields sent change; `uid: null` removes the uid.',
      params: ConsumerParams,
      body: ConsumerPatch,
      response: { 200: ConsumerOut },
    },
    handler: (req) => updateConsumer(deps, tenantOf(req), req.params.consumer, req.body),
  });
  app.delete('/v1/consumers/:consumer', {
    config: { access: 'admin' },
    schema: {
      tags,
      operationId: 'deleteConsumer',
      summary: 'Delete a consumer',
      description: 'Deletes the consumer with its endpoints, messages and their deliveries.',
      params: ConsumerParams,
      response: { 204: z.null().describe('Deleted') },
    },
    handler: async (req, reply) => {
      await deleteConsumer(deps, tenantOf(req), req.params.consumer);
      return reply.code(204).send(null);
    },
  });
}
