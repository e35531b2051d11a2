import {
  context,
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { VERSION } from '../boot/version.ts';
import { tracingStarted } from './process.ts';

/**
 * Tramline's own spans, through the OpenTelemetry API only. Without the SDK (OTEL_EXPORTER_OTLP_ENDPOINT
 * unset, see process.ts) no span is even created: the callbacks get a non-recording placeholder.
 */
const tracer = trace.getTracer('tramline', VERSION);
/** Handed to the callbacks while tracing is off: records nothing, and traceparentOf gives undefined. */
const OFF: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The W3C `traceparent` of a recording span; undefined when tracing is off (nothing to store). */
export function traceparentOf(span: Span): string | undefined {
  if (!span.isRecording()) return undefined;
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00'}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A stored `traceparent` back into a span context (for a link); null when absent or malformed. */
export function parseTraceparent(value: string | null | undefined): SpanContext | null {
  const m = value ? TRACEPARENT.exec(value) : null;
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return null;
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true };
}

/** Runs `fn` inside a span that ends when it settles; a thrown error marks the span as failed. */
async function inSpan<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

/** `tramline.publish`: the commit of one published message, a child of the HTTP request's span. */
export function withPublishSpan<T>(
  attributes: { tenantId: string; consumer: string; eventType: string },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!tracingStarted()) return fn(OFF);
  return tracer.startActiveSpan(
    'tramline.publish',
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'tramline.tenant_id': attributes.tenantId,
        'tramline.consumer': attributes.consumer,
        'tramline.event_type': attributes.eventType,
      },
    },
    (span) => inSpan(span, fn),
  );
}

/**
 * `tramline.deliver`: one attempt, a trace of its own (a retry hours later is not part of the publish's
 * request), linked to the publish span. The HTTP request runs inside it, so the undici instrumentation
 * makes its client span a child and sends that span's `traceparent` to the endpoint.
 */
export function withDeliverSpan<T>(
  d: { tenantId: string; messageId: string; endpointId: string; deliveryId: string; attempt: number; traceparent: string | null },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!tracingStarted()) return fn(OFF);
  const link = parseTraceparent(d.traceparent);
  const span = tracer.startSpan(
    'tramline.deliver',
    {
      kind: SpanKind.INTERNAL,
      root: true,
      links: link ? [{ context: link }] : [],
      attributes: {
        'tramline.tenant_id': d.tenantId,
        'tramline.message_id': d.messageId,
        'tramline.endpoint_id': d.endpointId,
        'tramline.delivery_id': d.deliveryId,
        'tramline.attempt': d.attempt,
      },
    },
    ROOT_CONTEXT,
  );
  return context.with(trace.setSpan(ROOT_CONTEXT, span), () => inSpan(span, fn));
}
