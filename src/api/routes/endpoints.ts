import { z } from 'zod';
import * as endpoints from '../../domain/endpoints.ts';
import { listEndpointAttempts, recoverEndpoint } from '../../domain/messages.ts';
import { tenantOf } from '../plugins/auth.ts';
import { ConsumerParams, EndpointParams, PageQuery, pageOf, Problem } from '../schemas/common.ts';
import { AttemptOut, EndpointIn, EndpointOut, EndpointPatch, RecoverIn, RecoverOut, RotateIn, SecretOut } from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['endpoints'];
const base = '/v1/consumers/:consumer/endpoints';

export function endpointRoutes(app: Api, deps: ApiDeps): void {
  app.post(base, {
    config: { access: 'admin', portal: true },
    schema: {
      tags,
      summary: 'Create an endpoint (its signing secret is generated unless given)',
      params: ConsumerParams,
      body: EndpointIn,
      response: { 201: EndpointOut, 400: Problem, 404: Problem, 422: Problem },
    },
    handler: async (req, reply) => reply.code(201).send(await endpoints.createEndpoint(deps, tenantOf(req), req.params.consumer, req.body)),
  });
  app.get(base, {
    config: { access: 'read', portal: true },
    schema: { tags, summary: 'List endpoints', params: ConsumerParams, querystring: PageQuery, response: { 200: pageOf(EndpointOut), 404: Problem } },
    handler: (req) => endpoints.listEndpoints(deps, tenantOf(req), req.params.consumer, req.query),
  });
  app.get(`${base}/:endpoint`, {
    config: { access: 'read', portal: true },
    schema: { tags, summary: 'Get an endpoint', params: EndpointParams, response: { 200: EndpointOut, 404: Problem } },
    handler: (req) => endpoints.getEndpoint(deps, tenantOf(req), req.params.consumer, req.params.endpoint),
  });
  app.patch(`${base}/:endpoint`, {
    config: { access: 'admin', portal: true },
    schema: {
      tags,
      summary: 'Update an endpoint (only the fields sent change; disabled: false re-enables it)',
      params: EndpointParams,
      body: EndpointPatch,
      response: { 200: EndpointOut, 400: Problem, 404: Problem, 422: Problem },
    },
    handler: (req) => endpoints.updateEndpoint(deps, tenantOf(req), req.params.consumer, req.params.endpoint, req.body),
  });
  app.delete(`${base}/:endpoint`, {
    config: { access: 'admin', portal: true },
    schema: { tags, summary: 'Delete an endpoint', params: EndpointParams, response: { 204: z.null(), 404: Problem } },
    handler: async (req, reply) => {
      await endpoints.deleteEndpoint(deps, tenantOf(req), req.params.consumer, req.params.endpoint);
      return reply.code(204).send(null);
    },
  });
  app.get(`${base}/:endpoint/secret`, {
    config: { access: 'admin', portal: true },
    schema: { tags, summary: 'Get the signing secret', params: EndpointParams, response: { 200: SecretOut, 404: Problem } },
    handler: async (req) => ({ secret: await endpoints.getEndpointSecret(deps, tenantOf(req), req.params.consumer, req.params.endpoint) }),
  });
  app.post(`${base}/:endpoint/secret/rotate`, {
    config: { access: 'admin', portal: true },
    schema: {
      tags,
      summary: 'Rotate the signing secret; the previous one keeps signing for 24 hours',
      params: EndpointParams,
      body: RotateIn,
      response: { 200: SecretOut, 400: Problem, 404: Problem },
    },
    handler: async (req) => ({
      secret: await endpoints.rotateEndpointSecret(deps, tenantOf(req), req.params.consumer, req.params.endpoint, req.body ?? {}),
    }),
  });
  app.get(`${base}/:endpoint/attempts`, {
    config: { access: 'read', portal: true },
    schema: { tags, summary: "List an endpoint's delivery attempts", params: EndpointParams, querystring: PageQuery, response: { 200: pageOf(AttemptOut), 404: Problem } },
    handler: (req) => listEndpointAttempts(deps, tenantOf(req), req.params.consumer, req.params.endpoint, req.query),
  });
  app.post(`${base}/:endpoint/recover`, {
    config: { access: 'admin', portal: true },
    schema: {
      tags,
      summary: 'Send again every delivery to this endpoint that failed, for messages since a time',
      params: EndpointParams,
      body: RecoverIn,
      response: { 202: RecoverOut, 400: Problem, 404: Problem, 409: Problem },
    },
    handler: async (req, reply) =>
      reply.code(202).send({ recovered: await recoverEndpoint(deps, tenantOf(req), req.params.consumer, req.params.endpoint, req.body.since) }),
  });
}
