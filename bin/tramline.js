#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ (`npm run build`): no TypeScript is compiled when a process starts.
// From a source checkout (src/ beside dist/), a dist/ that is missing or older than its sources is built once
// first (a few milliseconds of stat calls decide it), so `git pull && ./bin/tramline.js …` never runs stale
// code. An installed package or an image without src/ skips the check; TRAMLINE_BUILD_CHECK=0 skips it too.
import fs from 'node:fs';

if (process.env.TRAMLINE_BUILD_CHECK !== '0' && fs.existsSync(new URL('../src/', import.meta.url))) {
  const { ensureBuilt } = await import('../scripts/build.js');
  try {
    ensureBuilt();
  } catch (err) {
    // A read-only checkout or one installed without devDependencies still runs the build it has.
    if (!fs.existsSync(new URL('../dist/src/cli/main.js', import.meta.url))) {
      process.stderr.write(`tramline: dist/ is missing and could not be built: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`tramline: warning: dist/ is stale and could not be rebuilt (${err.message}); running it as it is\n`);
  }
}
// Tracing (OTEL_EXPORTER_OTLP_ENDPOINT) and Sentry (SENTRY_DSN) start before the application is imported:
// instrumentation patches pg, undici and http as they load. Neither set: nothing extra is even imported.
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.SENTRY_DSN) {
  const [{ startProcessTelemetry }, { VERSION }] = await Promise.all([
    import('../dist/src/telemetry/process.js'),
    import('../dist/src/boot/version.js'),
  ]);
  await startProcessTelemetry(process.env, VERSION);
}
await import('../dist/src/cli/main.js');
