export { Tramline } from './client.js';
export { SDK_VERSION, backoffMs, parseRetryAfter, type PublishOptions, type RequestOptions, type TramlineOptions } from './http.js';
export {
  AuthenticationError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TramlineError,
  UnprocessableError,
  ValidationError,
  type FieldError,
  type ProblemDocument,
} from './errors.js';
export { Page, PagedList } from './pagination.js';
export { identifyGateway, NotATramlineGatewayError, type GatewayIdentity } from './identity.js';
export {
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  type VerifyOptions,
  type WebhookEvent,
  type WebhookHeaders,
  type WebhookVerificationReason,
} from './webhooks.js';
export type * from './types.js';
export type { components, operations, paths } from './generated/openapi.js';
