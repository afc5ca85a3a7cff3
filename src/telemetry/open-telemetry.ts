/**
 * The OpenTelemetry SDK's side of tracing (see tracing.ts, which loads this module only when
 * tracing is on): the span exporter and processor, and the interceptors and sink a worker traces with.
 */
import { context, propagation, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource, detectResourcesSync, envDetectorSync } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { DuoJ1Tracing, tracingWorkerOptions as TracingWorkerOptions } from './tracing';

/** Tracing that sends spans through `exporter` (checked by `tracingFromEnvironment`), as `env` describes the service. */
export function tracingWith(exporter: 'otlp' | 'console', env: NodeJS.ProcessEnv): DuoJ1Tracing {
  // The OTLP exporter reads its endpoint, headers and timeout from the same variables itself.
  const spanExporter = exporter === 'otlp' ? new OTLPTraceExporter() : new ConsoleSpanExporter();
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME || 'duo-j1' }).merge(
    detectResourcesSync({ detectors: [envDetectorSync] }),
  );
  return { spanProcessor: new BatchSpanProcessor(spanExporter), resource };
}

/** A tracer of duo-j1's own, sending to `tracing`'s processor (no global provider is registered). */
function tracerOf(tracing: DuoJ1Tracing): Tracer {
  const provider = new BasicTracerProvider({ resource: tracing.resource, spanProcessors: [tracing.spanProcessor] });
  return provider.getTracer('duo-j1');
}

/** What a worker needs to trace: activity interceptors and the sink the workflow interceptors send spans to. */
export function tracingWorkerOptions(tracing: DuoJ1Tracing): ReturnType<typeof TracingWorkerOptions> {
  const tracer = tracerOf(tracing);
  // An activity finds its parent span in the headers the workflow wrote, in W3C Trace Context, and
  // runs inside it: that takes a global propagator and context manager. Ones already registered
  // (by an application embedding the workers) are left as they are.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
    activityInterceptors: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
  };
}
