#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader: no build step between a clone and `npm start`.
import { register } from 'tsx/esm/api';

register();
// Tracing (OTEL_EXPORTER_OTLP_ENDPOINT) and Sentry (SENTRY_DSN) start before the application is imported:
// instrumentation patches pg, undici and http as they load. Neither set: nothing extra is even imported.
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.SENTRY_DSN) {
  const [{ startProcessTelemetry }, { VERSION }] = await Promise.all([import('../src/telemetry/process.ts'), import('../src/version.ts')]);
  await startProcessTelemetry(process.env, VERSION);
}
await import('../src/cli/main.ts');
