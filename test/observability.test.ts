import assert from 'node:assert/strict';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { freePort } from '../src/worker/dev-server';
import {
  WORKFLOW_TYPE,
  type DuoIngestionResult,
  type JupiterOneDeliveryReport,
  type LocalDeliveryReport,
} from '../src/workflows/contract';
import { waitFor } from './harness/inspect';
import { simulatorInstance, writeInstancesFile } from './harness/instances';
import { startTestJupiterOneSimulator } from './harness/jupiterone';
import { stopAtEnd } from './harness/root-hooks';
import { spawnWorkerProcess, testClient, testConfig, uniqueTaskQueue } from './harness/temporal';

/** The value of a Prometheus sample whose name and labels match, summed over the other labels. */
function sample(metrics: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) sum += Number(match[3]);
  }
  return sum;
}

/** Every label value of a metric's samples, by label name. */
function labelValues(metrics: string, prefix: string): Map<string, Set<string>> {
  const values = new Map<string, Set<string>>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    for (const [, name, value] of line.matchAll(/(\w+)="([^"]*)"/g)) {
      if (!values.has(name!)) values.set(name!, new Set());
      values.get(name!)!.add(value!);
    }
  }
  return values;
}

function parseLines(output: string[]): Record<string, unknown>[] {
  return output.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return assert.fail(`a log line that is not JSON: ${line}`);
    }
  });
}

describe('observability: one JSON log stream, duo-j1 metrics', function () {
  it('logs only JSON lines, the core’s warnings too, with each activity line naming its run; serves the runs’ counts as metrics', async () => {
    const duo = await startDuoSimulator({
      users: 120,
      seed: 61,
      faults: { tooManyRequestsRate: 0.4, faultPaths: ['/admin/v1/users', '/admin/v1/phones'] },
    });
    stopAtEnd(() => duo.close());
    const j1 = await startTestJupiterOneSimulator();
    const config = testConfig([simulatorInstance(duo), simulatorInstance(duo, { jupiterone: j1 })]);
    const { file, env } = writeInstancesFile(config.instances);
    const port = await freePort();
    const worker = await spawnWorkerProcess({
      config,
      instancesFile: file,
      env,
      extraArgs: ['--metrics', `127.0.0.1:${port}`, '--log-level', 'DEBUG'],
    });
    const client = await testClient();
    const runs = await Promise.all(
      config.instances.map(async (instance) => {
        const handle = await client.workflow.start(WORKFLOW_TYPE, {
          taskQueue: config.taskQueue,
          workflowId: `observed-${uniqueTaskQueue()}`,
          args: [{ instanceId: instance.id }],
        });
        const result = (await handle.result()) as DuoIngestionResult;
        assert.equal(result.outcome, 'success');
        return { instanceId: instance.id, workflowId: handle.workflowId, runId: handle.firstExecutionRunId, result };
      }),
    );

    // A workflow type no worker has: the SDK's core fails the workflow task and warns of it.
    await client.workflow.start('noSuchWorkflow', {
      taskQueue: config.taskQueue,
      workflowId: `unknown-${uniqueTaskQueue()}`,
    });
    await waitFor(
      async () => worker.output.some((line) => line.includes('Failing workflow task')),
      'the core to warn of the failed workflow task',
    );
    // One stream of JSON lines, stdout and stderr alike: ours, the SDK's, and its core's.
    const lines = parseLines(worker.output);
    assert.ok(
      lines.some((line) => line.sdkComponent === 'core' && line.level === 'warn'),
      'the core warning, as JSON',
    );

    for (const run of runs) {
      // Every line an activity of ours logged names where it comes from.
      const ours = lines.filter((line) => line.workflowId === run.workflowId && line.sdkComponent === undefined);
      assert.ok(ours.some((line) => line.message === 'Graph built'));
      assert.ok(ours.some((line) => line.message === 'Duo request'));
      for (const line of ours) {
        assert.equal(line.runId, run.runId, JSON.stringify(line));
        assert.equal(line.instanceId, run.instanceId, JSON.stringify(line));
        assert.match(String(line.activityType), /^duoJ1\.\w+$/, JSON.stringify(line));
        assert.equal(typeof line.attempt, 'number', JSON.stringify(line));
      }
      // The SDK's own lines about those activities carry the same fields, once the input is read.
      const sdks = lines.filter(
        (line) =>
          line.workflowId === run.workflowId &&
          line.sdkComponent !== undefined &&
          typeof line.activityType === 'string' &&
          line.message !== 'Activity started',
      );
      assert.ok(
        sdks.some((line) => line.message === 'Activity completed'),
        'the SDK logs completed activities',
      );
      for (const line of sdks) {
        assert.equal(line.runId, run.runId, JSON.stringify(line));
        assert.equal(line.instanceId, run.instanceId, JSON.stringify(line));
        assert.equal(typeof line.attempt, 'number', JSON.stringify(line));
      }
    }

    // The runs' counts, scraped over HTTP as Prometheus would.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const { instanceId, result } of runs) {
      const instance = { instance: instanceId };
      for (const [resource, outcome] of Object.entries(result.resources)) {
        if (outcome.status !== 'complete') continue;
        assert.equal(sample(metrics, 'duo_j1_records_fetched', { ...instance, resource }), outcome.records, resource);
        assert.equal(sample(metrics, 'duo_j1_pages_fetched', { ...instance, resource }), outcome.pages, resource);
      }
      assert.equal(sample(metrics, 'duo_j1_runs', { ...instance, outcome: 'success' }), 1);
      assert.equal(sample(metrics, 'duo_j1_phase_duration_seconds_count', { ...instance, phase: 'fetch' }), 1);
      assert.equal(
        sample(metrics, 'duo_j1_phase_duration_seconds_bucket', { ...instance, phase: 'total', le: '+Inf' }),
        1,
      );
    }
    const [local, jupiterone] = runs as [(typeof runs)[number], (typeof runs)[number]];
    const written = local.result.delivery as LocalDeliveryReport;
    assert.ok(written.changes.created > 0);
    assert.equal(
      sample(metrics, 'duo_j1_graph_changes', { instance: local.instanceId, kind: 'object', change: 'created' }),
      written.changes.created,
    );
    const delivered = jupiterone.result.delivery as JupiterOneDeliveryReport;
    assert.ok(delivered.entities.created > 0 && delivered.uploaded.batches > 0);
    const j1Instance = { instance: jupiterone.instanceId };
    assert.equal(sample(metrics, 'duo_j1_upload_bytes', j1Instance), delivered.uploaded.bytes);
    assert.equal(sample(metrics, 'duo_j1_upload_batches', j1Instance), delivered.uploaded.batches);
    for (const [kind, counts] of [
      ['entity', delivered.entities],
      ['relationship', delivered.relationships],
    ] as const) {
      assert.equal(
        sample(metrics, 'duo_j1_graph_changes', { ...j1Instance, kind, change: 'created' }),
        counts.created,
        kind,
      );
    }
    assert.ok(
      metrics.includes('duo_j1_phase_duration_seconds_bucket{') && /le="21600"/.test(metrics),
      'buckets for seconds to hours',
    );
    // The simulator answered some of the users' and phones' requests 429: each retry is counted.
    const retries = runs.map(({ instanceId }) =>
      sample(metrics, 'duo_j1_duo_retries', { instance: instanceId, reason: 'rate-limit' }),
    );
    assert.ok(retries[0]! + retries[1]! > 0, 'the 429s are counted');
    // Bounded labels: instances, resources, kinds of change; never a run, a workflow or a user.
    const labels = labelValues(metrics, 'duo_j1_');
    for (const forbidden of ['runId', 'workflowId', 'run_id', 'workflow_id', 'user', 'jobId']) {
      assert.ok(!labels.has(forbidden), `no ${forbidden} label`);
    }
    assert.deepEqual([...(labels.get('instance') ?? [])].sort(), config.instances.map((i) => i.id).sort());

    for (const line of worker.output) {
      assert.ok(!line.includes(duo.secretKey), 'no Duo secret in the logs');
      assert.ok(!line.includes(j1.apiKey), 'no JupiterOne key in the logs');
    }
  });
});
