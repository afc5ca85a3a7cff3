import assert from 'node:assert/strict';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { tracingFromEnvironment } from '../src/telemetry/tracing';
import { prebuiltWorkflowBundle } from '../src/worker/workflow-bundle';
import { WORKFLOW_TYPE, type DuoIngestionResult } from '../src/workflows/contract';
import { modulesLoaded, waitFor } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig, uniqueTaskQueue } from './harness/temporal';

describe('tracing with OpenTelemetry', function () {
  it('is off unless the OTEL_* variables ask for it, and says which value is wrong', () => {
    assert.equal(tracingFromEnvironment({}), undefined);
    assert.equal(
      tracingFromEnvironment({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }),
      undefined,
    );
    assert.ok(tracingFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }));
    assert.ok(tracingFromEnvironment({ OTEL_TRACES_EXPORTER: 'console' }));
    assert.throws(() => tracingFromEnvironment({ OTEL_TRACES_EXPORTER: 'jaeger' }), /OTEL_TRACES_EXPORTER/);
    assert.throws(
      () =>
        tracingFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
      /OTEL_EXPORTER_OTLP_PROTOCOL.*4318/,
    );
    assert.ok(
      tracingFromEnvironment({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      }),
    );
  });

  it('loads the OpenTelemetry SDK only once tracing is on', async () => {
    // A fresh process: the worker as `duo-j1 worker` loads it, then tracing asked for.
    const tracing = path.resolve(__dirname, '..', 'src', 'telemetry', 'tracing');
    const lists = await modulesLoaded(
      ['worker/workers', 'cli/commands/worker'],
      `require(${JSON.stringify(tracing)}).tracingFromEnvironment({ OTEL_TRACES_EXPORTER: 'console' })`,
    );
    const [before, after] = [lists.before, lists.after].map(
      (files) => files.filter((file) => file.includes('opentelemetry')).length,
    );
    assert.equal(before, 0, 'no OpenTelemetry module before tracing is asked for');
    assert.ok(after > 0, 'the SDK is loaded for tracing');
  });

  it('sends a span for the run and for each of its activities, from the prebuilt traced bundle', async () => {
    const exporter = new InMemorySpanExporter();
    const duo = await startDuoSimulator({ users: 40, seed: 71 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)]);
    const workers = await startTestWorkers(config, {
      tracing: {
        spanProcessor: new SimpleSpanProcessor(exporter),
        resource: new Resource({ 'service.name': 'duo-j1-test' }),
      },
      workflowBundlePath: await prebuiltWorkflowBundle(path.join(tmpdir(), 'duo-j1-test-bundles'), { traced: true }),
    });
    const client = await testClient();
    const workflowId = `traced-${uniqueTaskQueue()}`;
    const result = (await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId,
      args: [{ instanceId: config.instances[0].id }],
    })) as DuoIngestionResult;
    assert.equal(result.outcome, 'success');

    const names = () => exporter.getFinishedSpans().map((span) => span.name);
    await waitFor(async () => names().some((name) => name === `RunWorkflow:${WORKFLOW_TYPE}`), 'the workflow span');
    const spans = exporter.getFinishedSpans();
    const run = spans.find((span) => span.name === `RunWorkflow:${WORKFLOW_TYPE}`);
    assert.ok(run);
    assert.equal(run.resource.attributes['service.name'], 'duo-j1-test');
    const fetches = spans.filter((span) => span.name === 'RunActivity:duoJ1.fetchResource');
    assert.ok(fetches.length >= 8, names().join(', '));
    // One trace: the activities' spans belong to the run's.
    for (const span of fetches) assert.equal(span.spanContext().traceId, run.spanContext().traceId);
    assert.ok(names().includes('StartActivity:duoJ1.fetchResource'), 'the workflow schedules them under its span');
    await workers.stop();
  });
});
