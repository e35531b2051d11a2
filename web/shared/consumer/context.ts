import { seg, type Api, type EventType, type Page } from '../api.ts';
import { useAsync } from '../ui.tsx';

/**
 * The screens of one consumer, shared by the dashboard (a tenant user, cookie session) and the portal (the
 * consumer itself, portal token): its endpoints, its messages and their attempts.
 */
export interface ConsumerCtx {
  api: Api;
  /** Consumer id. */
  consumer: string;
  canChange: boolean;
  /** The dashboard may publish a test event; the portal may not. */
  canPublish: boolean;
  /** Router paths (below the app's base) of an endpoint and of a message. */
  paths: { endpoints: string; endpoint: (id: string) => string; message: (id: string) => string };
}

export const cpath = (c: string) => `/v1/consumers/${seg(c)}`;

export function useEventTypes(api: Api) {
  return useAsync(() => api.get<Page<EventType>>('/v1/event-types', { limit: 250 }).then((p) => p.data), [api]);
}
