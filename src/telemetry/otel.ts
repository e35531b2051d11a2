import module from 'node:module';

/**
 * The OpenTelemetry SDK, started only when OTEL_EXPORTER_OTLP_ENDPOINT is set (see process.ts). It must run
 * before pg, undici and http are imported: instrumentations patch modules as they load, and in ESM that
 * needs the loader hook registered first. Everything else is configured by the standard OTEL_* variables.
 */
export async function startOtel(env: NodeJS.ProcessEnv): Promise<() => Promise<void>> {
  // Offline defaults: no cloud-metadata probes at start-up; traces only (metrics are Prometheus', logs pino's).
  env.OTEL_NODE_RESOURCE_DETECTORS ??= 'env,host,os,process';
  env.OTEL_SERVICE_NAME ??= 'tramline';
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  module.register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

  const [{ NodeSDK }, { HttpInstrumentation }, { PgInstrumentation }, { UndiciInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        // Scrapes and probes would drown the traces that matter.
        ignoreIncomingRequestHook: (req) => /^\/(metrics|healthz|readyz)(\?|$)/.test(req.url ?? ''),
        // Outgoing HTTP of this process goes through undici (deliveries), instrumented below.
        ignoreOutgoingRequestHook: () => true,
      }),
      // Only queries inside a traced operation (a request, a publish): the worker's claim polling would
      // otherwise start a trace of its own every poll interval. No parameter values (payloads) in spans.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new UndiciInstrumentation({
        // Endpoint URLs may carry credentials in their query string: spans keep origin and path only.
        startSpanHook: (request) => ({ 'url.full': `${request.origin}${request.path.split('?')[0]}`, 'url.query': '' }),
      }),
    ],
  });
  sdk.start();
  return () => sdk.shutdown();
}
