/**
 * The screens of one consumer, shared by the dashboard and the portal, one file per concern in consumer/:
 * its endpoints, its messages and their attempts, the event types it may subscribe to.
 */
export type { ConsumerCtx } from './consumer/context.ts';
export { EndpointList, EndpointView } from './consumer/endpoints.tsx';
export { MessageLog, MessageView } from './consumer/messages.tsx';
export { EventTypeList, exampleOf } from './consumer/event-types.tsx';
export { Loading } from './ui.tsx';
