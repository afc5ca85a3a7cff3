/**
 * Optional OpenTelemetry tracing of runs: a span for each workflow run and each activity, linked
 * across workers through Temporal's headers (`@temporalio/interceptors-opentelemetry`). Off unless
 * the standard OpenTelemetry environment variables ask for it:
 *
 *   OTEL_TRACES_EXPORTER=otlp          (or `console`; `none` turns it off) — implied by:
 *   OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT   where to send the spans (OTLP/HTTP)
 *   OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES   as OpenTelemetry defines them
 *
 * Spans go out as OTLP over HTTP (JSON: `@opentelemetry/exporter-trace-otlp-http`), which every
 * collector's HTTP receiver takes; a protocol set to gRPC is refused rather than ignored.
 *
 * Workflow spans are made inside the workflow sandbox by interceptors that must be in the workflow
 * bundle: workers with tracing on use the traced bundle (`prebuiltWorkflowBundle(dir, { traced: true })`,
 * shipped in the package), and send the spans out through a sink.
 */
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkerOptions } from '@temporalio/worker';
import { ConfigurationError } from '../config/errors';
import type * as OpenTelemetrySdk from './open-telemetry';

/**
 * The OpenTelemetry SDK's side (open-telemetry.ts), loaded only once tracing is on: a worker that
 * does not trace never holds its 250-odd modules (about 12 MB of memory). A plain `require`, as
 * the CLI loads its commands (cli/main.ts): `tracingFromEnvironment` answers synchronously.
 */
function openTelemetry(): typeof OpenTelemetrySdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./open-telemetry') as typeof OpenTelemetrySdk;
}

export interface DuoJ1Tracing {
  /** Where finished spans go (a `BatchSpanProcessor` around an exporter, in tests a `SimpleSpanProcessor`). */
  spanProcessor: SpanProcessor;
  /** Who made the spans: `service.name` and the like. */
  resource: Resource;
}

/** Tracing as the `OTEL_*` environment variables configure it, or undefined when they ask for none. */
export function tracingFromEnvironment(env: NodeJS.ProcessEnv = process.env): DuoJ1Tracing | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const exporter = (env.OTEL_TRACES_EXPORTER || (endpoint ? 'otlp' : 'none')).trim().toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter !== 'otlp' && exporter !== 'console') {
    throw new ConfigurationError([
      {
        setting: 'OTEL_TRACES_EXPORTER',
        message: `"${exporter}" is not a trace exporter duo-j1 has: use otlp (with OTEL_EXPORTER_OTLP_ENDPOINT), console, or none`,
      },
    ]);
  }
  const protocolSetting = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = env[protocolSetting]?.trim().toLowerCase();
  if (exporter === 'otlp' && protocol && protocol !== 'http/json' && protocol !== 'http/protobuf') {
    throw new ConfigurationError([
      {
        setting: protocolSetting,
        message: `"${protocol}" is not a protocol duo-j1 sends spans with: it sends OTLP over HTTP (JSON), which collectors accept on their HTTP port (4318); use http/json or leave it unset`,
      },
    ]);
  }
  return openTelemetry().tracingWith(exporter, env);
}

/** What a worker needs to trace: activity interceptors and the sink the workflow interceptors send spans to. */
export function tracingWorkerOptions(tracing: DuoJ1Tracing): Required<Pick<WorkerOptions, 'sinks'>> & {
  activityInterceptors: NonNullable<WorkerOptions['interceptors']>['activity'];
} {
  return openTelemetry().tracingWorkerOptions(tracing);
}
