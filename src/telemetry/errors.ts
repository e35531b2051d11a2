/**
 * Where unexpected errors go besides the log: Sentry when SENTRY_DSN is set (see sentry.ts), nowhere
 * otherwise. Passed in as a dependency so the API and the worker never import the Sentry SDK themselves.
 */
export interface ErrorReporter {
  /** `tags` are low-cardinality context (role, route, tenant); never bodies or headers. */
  capture(err: unknown, tags?: Record<string, string | undefined>): void;
}

export const noErrorReporter: ErrorReporter = { capture() {} };
