import { noErrorReporter, type ErrorReporter } from './errors.ts';

/**
 * Process-wide telemetry the CLI entry starts before the application is imported (bin/tramline.js):
 * the OpenTelemetry SDK and Sentry are process-global by nature. Read here by `tramline start`, which
 * hands the error reporter to startGateway and flushes both before the process exits. Gateways started
 * in-process by tests never go through this and get no reporter.
 *
 * The environment is read directly, not through loadConfig: this runs before any application module
 * (config included) is loaded, which is what instrumentation needs. config.ts validates SENTRY_DSN too.
 */
let reporter: ErrorReporter = noErrorReporter;
let tracing = false;
const flushers: Array<(timeoutMs: number) => Promise<void>> = [];

export async function startProcessTelemetry(env: NodeJS.ProcessEnv, version: string): Promise<void> {
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    const { startOtel } = await import('./otel.ts');
    const shutdown = await startOtel(env);
    flushers.push(() => shutdown());
    tracing = true;
  }
  if (env.SENTRY_DSN) {
    const { startSentry } = await import('./sentry.ts');
    const s = await startSentry(env.SENTRY_DSN, version, env.SENTRY_DEBUG === 'true');
    reporter = s.reporter;
    flushers.push(s.flush);
  }
}

export const processErrorReporter = (): ErrorReporter => reporter;

/** True once this process started the OpenTelemetry SDK: Tramline's spans are skipped outright otherwise. */
export const tracingStarted = (): boolean => tracing;

/** Sends what is buffered (spans, error events), waiting at most `timeoutMs`. */
export async function flushProcessTelemetry(timeoutMs = 3000): Promise<void> {
  await Promise.race([Promise.allSettled(flushers.map((f) => f(timeoutMs))), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}
