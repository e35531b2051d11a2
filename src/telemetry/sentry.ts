import type { ErrorEvent } from '@sentry/node';
import type { ErrorReporter } from './errors.ts';

// Credentials Tramline issues or handles, wherever they appear in a message or a stack's text.
const SECRET_PATTERN = /\b(tl_[A-Za-z0-9_-]+|tlp_[A-Za-z0-9._-]+|whsec_[A-Za-z0-9+/=_-]+|Bearer\s+\S+)/g;
const SENSITIVE_HEADER = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|idempotency-key|webhook-signature)$/i;

const scrubText = (s: string): string => s.replace(SECRET_PATTERN, '[redacted]');

/**
 * Never sends a request body, cookies, credentials or query strings: the event keeps the route, the
 * status and the stack. Exported for the unit test.
 */
export function scrubEvent(event: ErrorEvent): ErrorEvent {
  if (event.request) {
    const { method, url } = event.request;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(event.request.headers ?? {})) if (!SENSITIVE_HEADER.test(k)) headers[k] = v;
    event.request = { method, url: url?.split('?')[0], headers };
  }
  if (event.message) event.message = scrubText(event.message);
  for (const ex of event.exception?.values ?? []) if (ex.value) ex.value = scrubText(ex.value);
  delete event.user;
  if (event.breadcrumbs)
    event.breadcrumbs = event.breadcrumbs.map((b) => ({ ...b, message: b.message ? scrubText(b.message) : b.message, data: undefined }));
  return event;
}

/** Sentry for errors only (no performance tracing: that is OpenTelemetry's job, see otel.ts). */
export async function startSentry(
  dsn: string,
  release: string,
  debug = false,
): Promise<{ reporter: ErrorReporter; flush: (timeoutMs: number) => Promise<void> }> {
  const Sentry = await import('@sentry/node');
  Sentry.init({
    dsn,
    release: `tramline@${release}`,
    // Collect nothing from requests in the first place; beforeSend scrubs whatever still gets through.
    dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false },
    // Our own OpenTelemetry SDK (when configured) owns the tracer provider.
    enableOpenTelemetrySetup: false,
    enableRuntimeChannelInjection: false,
    debug,
    maxValueLength: 2000,
    // Errors only, reported by Tramline itself (API 5xx, worker failures) or uncaught: none of the
    // request, framework or outgoing-HTTP instrumentation, which would capture first, without our
    // tags, and attach request data.
    defaultIntegrations: false,
    integrations: [
      Sentry.eventFiltersIntegration(),
      Sentry.functionToStringIntegration(),
      Sentry.linkedErrorsIntegration(),
      Sentry.dedupeIntegration(),
      Sentry.nodeContextIntegration(),
      Sentry.contextLinesIntegration(),
      Sentry.onUncaughtExceptionIntegration(),
      Sentry.onUnhandledRejectionIntegration(),
    ],
    beforeSend: (event) => scrubEvent(event),
    beforeBreadcrumb: (b) => (b.category === 'console' ? null : b), // log lines are pino's; they may carry ids and context
  });
  return {
    reporter: {
      capture(err, tags) {
        Sentry.withScope((scope) => {
          for (const [k, v] of Object.entries(tags ?? {})) if (v !== undefined) scope.setTag(k, v);
          Sentry.captureException(err);
        });
      },
    },
    flush: async (timeoutMs) => {
      await Sentry.flush(timeoutMs);
    },
  };
}
