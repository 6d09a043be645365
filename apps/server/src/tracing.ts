/**
 * The OpenTelemetry SDK and its OTLP/HTTP exporter, loaded (import()) only when `tracing.otlpEndpoint`
 * is set: a server without tracing never reads them. Core makes the spans through the API alone.
 */
import { propagation, type TracerProvider, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  TracerProvider as SdkTracerProvider,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';
import type { AppConfig } from './config.js';
import { VERSION } from './version.js';

export interface Tracing {
  provider: TracerProvider;
  /** Spans handed to the exporter, by result (for /metrics). */
  stats(): { exported: number; failed: number };
  /** Send what is queued, then stop. */
  shutdown(): Promise<void>;
}

/** Counts what the real exporter sent and what it could not. */
function counting(inner: SpanExporter, counts: { exported: number; failed: number }): SpanExporter {
  return {
    export(spans: ReadableSpan[], done) {
      inner.export(spans, (result) => {
        if (result.code === 0) counts.exported += spans.length;
        else counts.failed += spans.length;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

export function startTracing(
  config: AppConfig['tracing'] & { otlpEndpoint: string },
  options: { scheduledDelayMillis?: number } = {},
): Tracing {
  const counts = { exported: 0, failed: 0 };
  const exporter = counting(new OTLPTraceExporter({ url: config.otlpEndpoint }), counts);
  const provider = new SdkTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': VERSION }),
    // a client's sampling decision (the traceparent flag) stands; new traces by the ratio
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter, ...options })],
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    provider,
    stats: () => ({ ...counts }),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
    },
  };
}
