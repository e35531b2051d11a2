import { z } from 'zod';
import { AppError } from '../../errors.ts';
import * as messages from '../../domain/messages.ts';
import { tenantOf } from '../plugins/auth.ts';
import { bindLog } from '../plugins/log-context.ts';
import { traceparentOf, withPublishSpan } from '../../telemetry/tracing.ts';
import { ConsumerParams, MessageParams, PageQuery, pageOf, Problem, Ref } from '../schemas/common.ts';
import { AttemptOut, DeliveryOut, MessageDetailOut, MessageIn, MessageListQuery, MessageOut } from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['messages'];
const base = '/v1/consumers/:consumer/messages';

// The stored payload is JSON text; it is parsed only to show it back.
const toOut = (m: messages.Message) => ({ ...m, payload: JSON.parse(m.payload) as unknown });

export function messageRoutes(app: Api, deps: ApiDeps): void {
  app.post(base, {
    config: { access: 'publish' },
    schema: {
      tags,
      summary: 'Publish a message: 202 once it is committed. A repeated eventId (or Idempotency-Key) answers 200 with the original.',
      params: ConsumerParams,
      headers: z.object({ 'idempotency-key': Ref.optional() }),
      body: MessageIn,
      response: { 200: MessageOut, 202: MessageOut, 400: Problem, 404: Problem, 413: Problem, 415: Problem },
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
          eventId: req.body.eventId ?? key,
          channels: req.body.channels,
          traceparent: traceparentOf(span),
        });
        span.setAttribute('tramline.message_id', r.message.id);
        return r;
      });
      bindLog(req, { messageId: result.message.id });
      if (!result.created) reply.header('idempotent-replayed', 'true');
      return reply.code(result.created ? 202 : 200).send(toOut(result.message));
    },
  });
  app.get(base, {
    config: { access: 'read', portal: true },
    schema: {
      tags,
      summary: 'List messages, newest first',
      params: ConsumerParams,
      querystring: PageQuery.extend(MessageListQuery.shape),
      response: { 200: pageOf(MessageOut), 404: Problem },
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
      summary: 'Get a message (by id or eventId) with the state of its deliveries',
      params: MessageParams,
      response: { 200: MessageDetailOut, 404: Problem },
    },
    handler: async (req) => {
      const m = await messages.getMessage(deps, tenantOf(req), req.params.consumer, req.params.message);
      return { ...toOut(m), deliveries: m.deliveries };
    },
  });
  app.get(`${base}/:message/attempts`, {
    config: { access: 'read', portal: true },
    schema: { tags, summary: "List a message's delivery attempts", params: MessageParams, querystring: PageQuery, response: { 200: pageOf(AttemptOut), 404: Problem } },
    handler: (req) => messages.listMessageAttempts(deps, tenantOf(req), req.params.consumer, req.params.message, req.query),
  });
  app.post(`${base}/:message/endpoints/:endpoint/resend`, {
    config: { access: 'admin', portal: true },
    schema: {
      tags,
      summary: 'Send the message to the endpoint again, now',
      params: MessageParams.extend({ endpoint: Ref }),
      response: { 202: DeliveryOut, 404: Problem, 409: Problem },
    },
    handler: async (req, reply) =>
      reply.code(202).send(await messages.resendMessage(deps, tenantOf(req), req.params.consumer, req.params.message, req.params.endpoint)),
  });
}
