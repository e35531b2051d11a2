import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DomainDeps } from '../domain/deps.ts';
import type { KeyAuthenticator } from '../domain/api-keys.ts';
import type { Publisher } from '../domain/publisher.ts';
import type { RateLimitOptions } from './plugins/rate-limit.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { ErrorReporter } from '../telemetry/errors.ts';

export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export interface ApiDeps extends DomainDeps {
  readonly operatorToken: string | undefined;
  readonly maxPayloadBytes: number;
  readonly keys: KeyAuthenticator;
  /** Commits publishes, several per transaction under load. */
  readonly publisher: Publisher;
  readonly rateLimits: RateLimitOptions;
  /** Browser origins allowed by CORS; empty: no CORS headers. */
  readonly corsOrigins: readonly string[];
  /** Portal tokens: the key that signs and verifies them (derived from the current master key), and where the portal lives. */
  readonly portal: { readonly key: Buffer; readonly publicUrl: string | undefined };
  /** Readiness: database reachable and migrated, and not draining. */
  readonly readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  /** HTTP and publish metrics, and GET /metrics; absent: neither. */
  readonly metrics?: Metrics | undefined;
  /** Where 5xx answers' errors go besides the log (Sentry when configured). */
  readonly errors?: ErrorReporter | undefined;
}
