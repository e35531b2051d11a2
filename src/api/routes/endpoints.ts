import { z } from 'zod';
import * as endpoints from '../../domain/endpoints.ts';
import { HEADER_MASK, headerViewOf } from '../../domain/header-masks.ts';
import { listEndpointAttempts, recoverEndpoint } from '../../domain/messages.ts';
import { tenantOf } from '../plugins/auth.ts';
import { ConsumerParams, EndpointParams, idCursor, pageOf, pageQuery } from '../schemas/common.ts';
import { AttemptOut, EndpointIn, EndpointOut, EndpointPatch, RecoverIn, RecoverOut, RotateIn, SecretOut } from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';
import { FilterTestIn, FilterTestOut, ReplaySkippedOut } from '../schemas/delivery-control.ts';
import { dryRunFilter } from '../../domain/filter-dry-run.ts';

const tags = ['endpoints'];
const base = '/v1/consumers/:consumer/endpoints';

export function endpointRoutes(app: Api, deps: ApiDeps): void {
  app.post(base, {
    config: { access: 'admin', portal: true, problems: [422] },
    schema: {
      tags,
      operationId: 'createEndpoint',
      summary: 'Create an endpoint',
      description:
        'An endpoint is a URL of the consumer that receives the messages it subscribes to (all, or those of `eventTypes` and `channels`). ' +
        'Its signing secret (whsec_…) is generated unless given. A URL that resolves to a private or reserved address is refused (422).',
      params: ConsumerParams,
      body: EndpointIn,
      response: { 201: EndpointOut },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await endpoints.createEndpoint(deps, tenantOf(req), req.params.consumer, req.body, headerViewOf(req.principal))),
  });
  app.get(base, {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      operationId: 'listEndpoints',
      summary: 'List endpoints',
      description: 'The consumer’s endpoints, oldest first.',
      params: ConsumerParams,
      querystring: pageQuery(idCursor('ep')),
      response: { 200: pageOf(EndpointOut) },
    },
    handler: (req) => endpoints.listEndpoints(deps, tenantOf(req), req.params.consumer, req.query, headerViewOf(req.principal)),
  });
  app.get(`${base}/:endpoint`, {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      operationId: 'getEndpoint',
      summary: 'Get an endpoint',
      description:
        'Never its signing secret (see getEndpointSecret). Custom header values are shown to admin keys and owner or developer sessions only; ' +
        `read keys, viewers and portal tokens see each value as \`${HEADER_MASK}\`.`,
      params: EndpointParams,
      response: { 200: EndpointOut },
    },
    handler: (req) => endpoints.getEndpoint(deps, tenantOf(req), req.params.consumer, req.params.endpoint, headerViewOf(req.principal)),
  });
  app.patch(`${base}/:endpoint`, {
    config: { access: 'admin', portal: true, problems: [422] },
    schema: {
      tags,
      operationId: 'updateEndpoint',
      summary: 'Update an endpoint',
      description:
        'Only the fields sent change; `disabled: false` re-enables an endpoint Tramline disabled. Messages published while it was disabled ' +
        'are kept as skipped deliveries (`skippedDeliveries` counts them): `replaySkipped: true` beside `disabled: false` sends them now ' +
        '(`replayedDeliveries` says how many), or later with POST …/replay-skipped or recover. A `filter` that does not compile answers 400 with its position. ' +
        '`headers` replaces the whole set: ' +
        `a header sent with the value \`${HEADER_MASK}\` (the mask shown to callers that may not read header values) keeps its stored value, ` +
        'so sending back what was read never overwrites a credential.',
      params: EndpointParams,
      body: EndpointPatch,
      response: { 200: EndpointOut },
    },
    handler: (req) =>
      endpoints.updateEndpoint(deps, tenantOf(req), req.params.consumer, req.params.endpoint, req.body, headerViewOf(req.principal)),
  });
  app.delete(`${base}/:endpoint`, {
    config: { access: 'admin', portal: true },
    schema: {
      tags,
      operationId: 'deleteEndpoint',
      summary: 'Delete an endpoint',
      description: 'Deliveries still pending to it are dropped.',
      params: EndpointParams,
      response: { 204: z.null().describe('Deleted') },
    },
    handler: async (req, reply) => {
      await endpoints.deleteEndpoint(deps, tenantOf(req), req.params.consumer, req.params.endpoint);
      return reply.code(204).send(null);
    },
  });
  app.get(`${base}/:endpoint/secret`, {
    config: { access: 'admin', portal: true },
    schema: {
      tags,
      operationId: 'getEndpointSecret',
      summary: 'Get the signing secret',
      description: 'The secret (whsec_…) the receiver verifies the webhook-signature header with. Reading it is recorded in the audit log.',
      params: EndpointParams,
      response: { 200: SecretOut },
    },
    handler: async (req) => ({ secret: await endpoints.getEndpointSecret(deps, tenantOf(req), req.params.consumer, req.params.endpoint) }),
  });
  app.post(`${base}/:endpoint/secret/rotate`, {
    config: { access: 'admin', portal: true },
    schema: {
      tags,
      operationId: 'rotateEndpointSecret',
      summary: 'Rotate the signing secret',
      description:
        'A new secret (generated, or the one sent); the previous one keeps signing too for 24 hours, so receivers can switch without losing a message. The body is optional.',
      params: EndpointParams,
      body: RotateIn,
      response: { 200: SecretOut },
    },
    handler: async (req) => ({
      secret: await endpoints.rotateEndpointSecret(deps, tenantOf(req), req.params.consumer, req.params.endpoint, req.body ?? {}),
    }),
  });
  app.get(`${base}/:endpoint/attempts`, {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      operationId: 'listEndpointAttempts',
      summary: 'List an endpoint’s delivery attempts',
      description: 'Every attempt to deliver to this endpoint, newest first, with the status and an excerpt of the response.',
      params: EndpointParams,
      querystring: pageQuery(idCursor('atm')),
      response: { 200: pageOf(AttemptOut) },
    },
    handler: (req) => listEndpointAttempts(deps, tenantOf(req), req.params.consumer, req.params.endpoint, req.query),
  });
  app.post(`${base}/:endpoint/recover`, {
    config: { access: 'admin', portal: true, problems: [409] },
    schema: {
      tags,
      operationId: 'recoverEndpoint',
      summary: 'Recover failed deliveries',
      description:
        'Sends again every delivery to this endpoint that failed, or was skipped while it was disabled, for messages created since a time. A disabled endpoint answers 409.',
      params: EndpointParams,
      body: RecoverIn,
      response: { 202: RecoverOut },
    },
    handler: async (req, reply) =>
      reply
        .code(202)
        .send({ recovered: await recoverEndpoint(deps, tenantOf(req), req.params.consumer, req.params.endpoint, req.body.since) }),
  });
  app.post(`${base}/:endpoint/replay-skipped`, {
    config: { access: 'admin', problems: [409] },
    schema: {
      tags,
      operationId: 'replaySkippedDeliveries',
      summary: 'Send the messages published while the endpoint was disabled',
      description: 'Queues every skipped delivery of this endpoint, now, in publish order. A disabled endpoint answers 409.',
      params: EndpointParams,
      response: { 202: ReplaySkippedOut },
    },
    handler: async (req, reply) =>
      reply.code(202).send({ replayed: await endpoints.replaySkipped(deps, tenantOf(req), req.params.consumer, req.params.endpoint) }),
  });
  app.post('/v1/consumers/:consumer/filter-test', {
    config: { access: 'admin' },
    schema: {
      tags,
      operationId: 'testEndpointFilter',
      summary: 'Dry-run a payload filter',
      description:
        'Evaluates a filter (CEL) on the consumer’s latest messages and says which it would have let through. Nothing is sent or saved; ' +
        'a filter that does not compile answers 400 with its position.',
      params: ConsumerParams,
      body: FilterTestIn,
      response: { 200: FilterTestOut },
    },
    handler: (req) => dryRunFilter(deps, tenantOf(req), req.params.consumer, req.body),
  });
}
