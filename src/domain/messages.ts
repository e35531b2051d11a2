import { AppError, notFound } from '../errors.ts';
import { newId } from '../store/ids.ts';
import * as messages from '../store/messages.ts';
import { messageStatusOf, type MessageStatus } from '../store/message-status.ts';
import * as deliveries from '../store/deliveries.ts';
import * as attempts from '../store/attempts.ts';
import * as endpoints from '../store/endpoints.ts';
import type { Page, PageQuery } from '../store/page.ts';
import type { DomainDeps } from './deps.ts';
import { requireConsumer } from './consumers.ts';

export type Message = messages.Message;

export interface MessageDetail extends Message {
  status: MessageStatus;
  deliveries: deliveries.DeliveryStatus[];
}

export { MESSAGE_STATUSES, type MessageStatus } from '../store/message-status.ts';

export const getMessage = (deps: DomainDeps, tenantId: string, consumerRef: string, ref: string): Promise<MessageDetail> =>
  deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    const m = await messages.getMessage(q, consumer.id, ref);
    if (!m) throw notFound('Message');
    const ds = await deliveries.listDeliveriesOfMessage(q, m.id);
    return { ...m, status: messageStatusOf(ds.map((d) => d.state)), deliveries: ds };
  });

export const listMessages = (
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  filter: messages.MessageFilter,
  page: PageQuery,
): Promise<Page<messages.ListedMessage>> =>
  deps.db.tenant(tenantId, async (q) => messages.listMessages(q, (await requireConsumer(q, consumerRef)).id, filter, page));

export const listMessageAttempts = (
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  ref: string,
  page: PageQuery,
): Promise<Page<attempts.Attempt>> =>
  deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    const m = await messages.getMessage(q, consumer.id, ref);
    if (!m) throw notFound('Message');
    return attempts.listAttempts(q, { messageId: m.id }, page);
  });

export const listEndpointAttempts = (
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  endpointId: string,
  page: PageQuery,
): Promise<Page<attempts.Attempt>> =>
  deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    if (!(await endpoints.getEndpoint(q, consumer.id, endpointId))) throw notFound('Endpoint');
    return attempts.listAttempts(q, { endpointId }, page);
  });

export const resendMessage = (
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  ref: string,
  endpointId: string,
): Promise<deliveries.DeliveryStatus> =>
  deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    const m = await messages.getMessage(q, consumer.id, ref);
    if (!m) throw notFound('Message');
    const e = await endpoints.getEndpoint(q, consumer.id, endpointId);
    if (!e) throw notFound('Endpoint');
    if (e.disabled) throw new AppError('CONFLICT', 'The endpoint is disabled; enable it before resending');
    return deliveries.resend(q, tenantId, m.id, e.id, newId('dlv'));
  });

export const recoverEndpoint = (
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  endpointId: string,
  since: Date,
): Promise<number> =>
  deps.db.tenant(tenantId, async (q) => {
    const consumer = await requireConsumer(q, consumerRef);
    const e = await endpoints.getEndpoint(q, consumer.id, endpointId);
    if (!e) throw notFound('Endpoint');
    if (e.disabled) throw new AppError('CONFLICT', 'The endpoint is disabled; enable it before recovering');
    return deliveries.recover(q, e.id, since);
  });
