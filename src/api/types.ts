import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DomainDeps } from '../domain/deps.ts';
import type { KeyAuthenticator } from '../domain/api-keys.ts';
import type { Publisher } from '../domain/publisher.ts';
import type { EventCatalog } from '../domain/event-catalog.ts';
import type { RateLimitOptions } from './plugins/rate-limit.ts';
import type { AuthFailureLimit } from './plugins/auth-failures.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { ErrorReporter } from '../telemetry/errors.ts';

export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface ApiDeps extends DomainDeps {
  readonly operatorToken: string | undefined;
  readonly maxPayloadBytes: number;
  /** Time a client has to send a whole request, headers and body (slowloris); unset: 30 s. */
  readonly requestTimeoutMs?: number;
  readonly keys: KeyAuthenticator;
  /** Commits publishes, several per transaction under load. */
  readonly publisher: Publisher;
  /** The publisher's cache of declared types and schemas: a change made through this API applies at once. */
  readonly catalog?: EventCatalog | undefined;
  readonly rateLimits: RateLimitOptions;
  /** Failed authentications per client address before it is refused for the rest of the window. */
  readonly authFailures: AuthFailureLimit;
  /** Fastify's trustProxy: which proxies' X-Forwarded-For to believe (false: none). */
  readonly trustProxy: boolean | number | string[];
  /** Browser origins allowed by CORS; empty: no CORS headers. */
  readonly corsOrigins: readonly string[];
  /** Portal tokens: the key that signs and verifies them (derived from the current master key), and where the portal lives. */
  readonly portal: { readonly key: Buffer; readonly publicUrl: string | undefined };
  /** Readiness: database reachable and migrated, and not draining. */
  readonly readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  /** True once the process is draining (SIGTERM): answers then close their connection. Absent: never. */
  readonly draining?: (() => boolean) | undefined;
  /** HTTP and publish metrics, and GET /metrics; absent: neither. */
  readonly metrics?: Metrics | undefined;
  /** With it, GET /metrics is served on the API port too, to a scraper that sends it as a bearer token. */
  readonly metricsToken?: string | undefined;
  /** Where 5xx answers' errors go besides the log (Sentry when configured). */
  readonly errors?: ErrorReporter | undefined;
  /** The web app's build (dashboard, portal, embed.js); default: dist/web of this package (src/api/routes/web.ts). */
  readonly webDir?: string | undefined;
}
