import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import * as messages from '../../domain/messages.ts';
import { hasScope } from '../../domain/api-keys.ts';
import { tenantOf } from '../plugins/auth.ts';
import { bindLog } from '../plugins/log-context.ts';
import { traceparentOf, withPublishSpan } from '../../telemetry/tracing.ts';
import { ConsumerParams, MessageParams, idCursor, pageOf, pageQuery, Ref, type JsonValue } from '../schemas/common.ts';
import {
  AttemptOut,
  DeliveryOut,
  MessageDetailOut,
  MessageIn,
  MessageListItemOut,
  MessageListQuery,
  MessageOut,
  MessageReplayOut,
} from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['messages'];
const base = '/v1/consumers/:consumer/messages';

// The stored payload is JSON text; it is parsed only to show it back.
const toOut = <M extends messages.Message>(m: M) => ({ ...m, payload: JSON.parse(m.payload) as JsonValue });

/** A replay shows the original payload only to a caller that could read it anyway (GET …/messages/{eventId}). */
const mayRead = (req: FastifyRequest): boolean => req.principal?.kind === 'tenant' && hasScope(req.principal.scopes, 'read');
const withoutPayload = ({ payload: _, ...m }: messages.Message) => m;

/** The message routes, one registration each; over 80 lines only because each route's schema sits beside its handler. */
export function messageRoutes(app: Api, deps: ApiDeps): void {
  app.post(base, {
    config: { access: 'publish', problems: [409, 422] },
    schema: {
      tags,
      operationId: 'publishMessage',
      summary: 'Publish a message',
      description:
        'Answers 202 once the message and its deliveries are committed: it will be delivered to every endpoint of the consumer that subscribes to it. ' +
        'A repeated `eventId` (or `Idempotency-Key`) answers 200 with the original message and the header `idempotent-replayed: true`, ' +
        'its payload only to a key with the read scope (a publish-only key gets the id and metadata, never the data); ' +
        '409 while the same eventId is being published concurrently (retry). ' +
        '422 when the payload breaks its event type’s schema (`errors` lists each violation with its path), or when the tenant requires declared types and this one is not.',
      params: ConsumerParams,
      headers: z.object({
        'idempotency-key': Ref.optional()
          .describe('Used as the eventId when the body has none; must equal it when it has one')
          .meta({ examples: ['evt-2026-0042'] }),
      }),
      body: MessageIn,
      response: {
        200: MessageReplayOut.describe('The original message (its payload only for the read scope): this eventId was published before'),
        202: MessageOut.describe('Committed; it will be delivered'),
      },
    },
    handler: async (req, reply) => {
      const key = req.headers['idempotency-key'];
      if (key && req.body.eventId && key !== req.body.eventId) {
        throw new AppError('VALIDATION', 'Idempotency-Key and eventId differ; send one, or the same value', {
          errors: [{ field: 'headers.idempotency-key', message: 'differs from body.eventId' }],
        });
      }
      const tenantId = tenantOf(req);
      const { consumer } = req.params;
      const { eventType } = req.body;
      const result = await withPublishSpan({ tenantId, consumer, eventType }, async (span) => {
        const r = await deps.publisher.publish(tenantId, consumer, {
          eventType,
          payload: JSON.stringify(req.body.payload),
          payloadValue: req.body.payload,
          eventId: req.body.eventId ?? key,
          channels: req.body.channels,
          traceparent: traceparentOf(span),
        });
        span.setAttribute('tramline.message_id', r.message.id);
        return r;
      });
      bindLog(req, { messageId: result.message.id });
      if (result.created) return reply.code(202).send(toOut(result.message));
      reply.header('idempotent-replayed', 'true');
      return reply.code(200).send(mayRead(req) ? toOut(result.message) : withoutPayload(result.message));
    },
  });
  app.get(base, {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      operationId: 'listMessages',
      summary: 'List messages',
      description:
        'The consumer’s messages, newest first, each with its status (from its deliveries), filtered by event type (one or several), channel, creation time and status.',
      params: ConsumerParams,
      querystring: pageQuery(idCursor('msg')).extend(MessageListQuery.shape),
      response: { 200: pageOf(MessageListItemOut) },
    },
    handler: async (req) => {
      const { limit, cursor, eventType, ...rest } = req.query;
      const eventTypes = eventType === undefined ? undefined : Array.isArray(eventType) ? eventType : [eventType];
      const page = await messages.listMessages(deps, tenantOf(req), req.params.consumer, { ...rest, eventTypes }, { limit, cursor });
      return { data: page.data.map(toOut), nextCursor: page.nextCursor };
    },
  });
  app.get(`${base}/:message`, {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      operationId: 'getMessage',
      summary: 'Get a message',
      description: 'By its id (msg_…) or its eventId, with the state of its delivery to each endpoint.',
      params: MessageParams,
      response: { 200: MessageDetailOut },
    },
    handler: async (req) => {
      const m = await messages.getMessage(deps, tenantOf(req), req.params.consumer, req.params.message);
      return { ...toOut(m), status: m.status, deliveries: m.deliveries };
    },
  });
  app.get(`${base}/:message/attempts`, {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      operationId: 'listMessageAttempts',
      summary: 'List a message’s delivery attempts',
      description: 'Every attempt to deliver this message, to any endpoint, newest first.',
      params: MessageParams,
      querystring: pageQuery(idCursor('atm')),
      response: { 200: pageOf(AttemptOut) },
    },
    handler: (req) => messages.listMessageAttempts(deps, tenantOf(req), req.params.consumer, req.params.message, req.query),
  });
  app.post(`${base}/:message/endpoints/:endpoint/resend`, {
    config: { access: 'admin', portal: true, problems: [409] },
    schema: {
      tags,
      operationId: 'resendMessage',
      summary: 'Resend a message to an endpoint',
      description: 'Sends the message to the endpoint again, now, whatever happened before. A disabled endpoint answers 409.',
      params: MessageParams.extend({ endpoint: Ref.describe('The endpoint’s id (ep_…)') }),
      response: { 202: DeliveryOut },
    },
    handler: async (req, reply) =>
      reply.code(202).send(await messages.resendMessage(deps, tenantOf(req), req.params.consumer, req.params.message, req.params.endpoint)),
  });
}
