/**
 * The SDK's resource types, derived from the generated OpenAPI types (src/generated/openapi.ts) by path,
 * method and status, so a change in the API document changes them at the next `npm run generate`.
 * A route the document does not have (yet) falls back to the shape given as the last argument.
 */
import type { components, paths } from './generated/openapi.js';

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
type Op<P extends string, M extends Method> = P extends keyof paths ? (M extends keyof paths[P] ? NonNullable<paths[P][M]> : never) : never;
type JsonOf<T> = T extends { content: { 'application/json': infer B } }
  ? B
  : T extends { content: { 'application/problem+json': infer B } }
    ? B
    : never;
type Or<T, Fallback> = [T] extends [never] ? Fallback : T;

/** The JSON request body of an operation. */
export type RequestBody<P extends string, M extends Method, Fallback = never> = Or<
  Op<P, M> extends { requestBody?: infer RB } ? JsonOf<NonNullable<RB>> : never,
  Fallback
>;
/** The JSON response body of an operation for one status. */
export type ResponseBody<P extends string, M extends Method, S extends number, Fallback = never> = Or<
  Op<P, M> extends { responses: infer R } ? (S extends keyof R ? JsonOf<R[S]> : never) : never,
  Fallback
>;
/** The query parameters of an operation. */
export type QueryOf<P extends string, M extends Method, Fallback = never> = Or<Op<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never, Fallback>;
/** The item type of a paginated list operation. */
export type ItemOf<P extends string, Fallback = never> = Or<ResponseBody<P, 'get', 200> extends { data: Array<infer I> } ? I : never, Fallback>;

/** A page of a cursor-paginated list, as the API answers it. */
export interface PageBody<T> {
  data: T[];
  nextCursor: string | null;
}

/** Paging parameters every list accepts. */
export interface PageParams {
  /** Items per page (the gateway caps it). */
  limit?: number;
  /** Where to start: a `nextCursor` from an earlier page. */
  cursor?: string;
}

/** A time for a query or body: a Date, or an RFC 3339 date-time string. */
export type DateLike = Date | string;

// --- problems ---
export type Problem = components['schemas']['Problem'];

// --- tenants (operator token) ---
export type Tenant = ItemOf<'/v1/tenants'>;
export type TenantIn = RequestBody<'/v1/tenants', 'post'>;
export type TenantCreated = ResponseBody<'/v1/tenants', 'post', 201>;

// --- API keys ---
export type ApiKey = ItemOf<'/v1/api-keys'>;
export type ApiKeyIn = RequestBody<'/v1/api-keys', 'post'>;
/** A new key, with its secret (`apiKey`), which is shown only once. */
export type ApiKeyCreated = ResponseBody<'/v1/api-keys', 'post', 201>;

// --- event types ---
export type EventType = ItemOf<'/v1/event-types'>;
export type EventTypeIn = RequestBody<'/v1/event-types', 'post'>;
export type EventTypePatch = RequestBody<'/v1/event-types/{eventType}', 'patch', Partial<Omit<EventTypeIn, 'name'>>>;
export type EventTypeListParams = Omit<QueryOf<'/v1/event-types', 'get', PageParams>, 'limit' | 'cursor' | 'includeArchived'> &
  PageParams & { includeArchived?: boolean };

// --- consumers ---
export type Consumer = ResponseBody<'/v1/consumers/{consumer}', 'get', 200>;
export type ConsumerIn = RequestBody<'/v1/consumers', 'post'>;
export type ConsumerPatch = RequestBody<'/v1/consumers/{consumer}', 'patch'>;

// --- endpoints ---
export type Endpoint = ResponseBody<'/v1/consumers/{consumer}/endpoints/{endpoint}', 'get', 200>;
export type EndpointIn = RequestBody<'/v1/consumers/{consumer}/endpoints', 'post'>;
export type EndpointPatch = RequestBody<'/v1/consumers/{consumer}/endpoints/{endpoint}', 'patch'>;
export type EndpointSecret = ResponseBody<'/v1/consumers/{consumer}/endpoints/{endpoint}/secret', 'get', 200>;
export type RotateSecretIn = NonNullable<RequestBody<'/v1/consumers/{consumer}/endpoints/{endpoint}/secret/rotate', 'post', { secret?: string }>>;
export type RecoverResult = ResponseBody<'/v1/consumers/{consumer}/endpoints/{endpoint}/recover', 'post', 202>;
export type ReplaySkippedResult = ResponseBody<'/v1/consumers/{consumer}/endpoints/{endpoint}/replay-skipped', 'post', 202>;
export type Replay = ResponseBody<'/v1/consumers/{consumer}/endpoints/{endpoint}/replays/{replay}', 'get', 200>;
/** `since` and `until` as Date or ISO strings. */
export type ReplayIn = Omit<RequestBody<'/v1/consumers/{consumer}/endpoints/{endpoint}/replays', 'post'>, 'since' | 'until'> & {
  since?: DateLike;
  until?: DateLike;
};
export type FilterTestIn = RequestBody<'/v1/consumers/{consumer}/filter-test', 'post'>;
export type FilterTestResult = ResponseBody<'/v1/consumers/{consumer}/filter-test', 'post', 200>;

// --- messages, deliveries, attempts ---
export type Message = ResponseBody<'/v1/consumers/{consumer}/messages', 'post', 202>;
/** What a publish that repeats an eventId answers: the original message, its payload only for a key with the read scope. */
export type ReplayedMessage = ResponseBody<'/v1/consumers/{consumer}/messages', 'post', 200>;
export type MessageIn = RequestBody<'/v1/consumers/{consumer}/messages', 'post'>;
export type MessageDetail = ResponseBody<'/v1/consumers/{consumer}/messages/{message}', 'get', 200>;
/** A message as the list shows it: with its `status` (from its deliveries: pending, succeeded, failed, none). */
export type MessageListItem = ItemOf<'/v1/consumers/{consumer}/messages'>;
export type Delivery = ResponseBody<'/v1/consumers/{consumer}/messages/{message}/endpoints/{endpoint}/resend', 'post', 202>;
export type Attempt = ItemOf<'/v1/consumers/{consumer}/messages/{message}/attempts'>;
export type MessageListParams = Omit<QueryOf<'/v1/consumers/{consumer}/messages', 'get'>, 'before' | 'after' | 'limit' | 'cursor'> &
  PageParams & {
    /** Messages created before this time. */
    before?: DateLike;
    /** Messages created after this time. */
    after?: DateLike;
  };

// --- portal sessions, audit log ---
export type PortalSessionIn = NonNullable<RequestBody<'/v1/consumers/{consumer}/portal-sessions', 'post', { expiresIn?: number }>>;
export type PortalSession = ResponseBody<'/v1/consumers/{consumer}/portal-sessions', 'post', 201>;
export type AuditLogEntry = ItemOf<'/v1/audit-log'>;
