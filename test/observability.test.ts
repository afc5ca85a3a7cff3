import assert from 'node:assert/strict';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { freePort } from '../src/worker/dev-server';
import { WORKFLOW_TYPE, type DuoIngestionResult, type LocalDeliveryReport } from '../src/workflows/contract';
import { waitFor } from './harness/inspect';
import { simulatorInstance, writeInstancesFile } from './harness/instances';
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

describe('observability: one JSON log stream, duo-j1 metrics', function () {
  it('logs only JSON lines, the core’s warnings too, with each activity line naming its run; serves the run’s counts as metrics', async () => {
    const duo = await startDuoSimulator({
      users: 120,
      seed: 61,
      faults: { tooManyRequestsRate: 0.4, faultPaths: ['/admin/v1/users', '/admin/v1/phones'] },
    });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)]);
    const instanceId = config.instances[0].id;
    const { file, env } = writeInstancesFile(config.instances);
    const port = await freePort();
    const worker = await spawnWorkerProcess({
      config,
      instancesFile: file,
      env,
      extraArgs: ['--metrics', `127.0.0.1:${port}`, '--log-level', 'DEBUG'],
    });
    const client = await testClient();
    const workflowId = `observed-${uniqueTaskQueue()}`;
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId,
      args: [{ instanceId }],
    });
    const result = (await handle.result()) as DuoIngestionResult;
    assert.equal(result.outcome, 'success');

    // A workflow type no worker has: its worker fails the task and says so.
    await client.workflow.start('noSuchWorkflow', {
      taskQueue: config.taskQueue,
      workflowId: `unknown-${uniqueTaskQueue()}`,
    });
    await waitFor(
      async () => worker.output.some((line) => line.includes('"sdkComponent":"core"')),
      'the core to warn of the failed workflow task',
    );
    // One stream of JSON lines: ours, the SDK's, and its core's (the warning provoked above).
    const lines = worker.output.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return assert.fail(`a log line that is not JSON: ${line}`);
      }
    });
    assert.ok(
      lines.some((line) => line.sdkComponent === 'core' && line.level === 'warn'),
      'the core warning, as JSON',
    );
    // Every line an activity of ours logged names where it comes from.
    const activityLines = lines.filter((line) => line.workflowId === workflowId && line.sdkComponent === undefined);
    assert.ok(activityLines.some((line) => line.message === 'Graph built'));
    assert.ok(activityLines.some((line) => line.message === 'Duo request'));
    for (const line of activityLines) {
      assert.equal(line.runId, handle.firstExecutionRunId, JSON.stringify(line));
      assert.equal(line.instanceId, instanceId, JSON.stringify(line));
      assert.match(String(line.activityType), /^duoJ1\.\w+$/, JSON.stringify(line));
      assert.equal(typeof line.attempt, 'number', JSON.stringify(line));
    }

    // The run's counts, scraped over HTTP as Prometheus would.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const instance = { instance: instanceId };
    for (const [resource, outcome] of Object.entries(result.resources)) {
      assert.equal(sample(metrics, 'duo_j1_records_fetched', { ...instance, resource }), outcome.records, resource);
      assert.equal(sample(metrics, 'duo_j1_pages_fetched', { ...instance, resource }), outcome.pages, resource);
    }
    assert.equal(sample(metrics, 'duo_j1_runs', { ...instance, outcome: 'success' }), 1);
    const delivery = result.delivery as LocalDeliveryReport;
    assert.ok(delivery.changes.created > 0);
    assert.equal(sample(metrics, 'duo_j1_graph_changes', { ...instance, change: 'created' }), delivery.changes.created);
    assert.equal(sample(metrics, 'duo_j1_phase_duration_seconds_count', { ...instance, phase: 'fetch' }), 1);
    assert.equal(
      sample(metrics, 'duo_j1_phase_duration_seconds_bucket', { ...instance, phase: 'total', le: '+Inf' }),
      1,
    );
    assert.ok(
      metrics.includes('duo_j1_phase_duration_seconds_bucket{') && /le="21600"/.test(metrics),
      'buckets for seconds to hours',
    );
    // The simulator answered some of the users' and phones' requests 429: each retry is counted.
    assert.ok(sample(metrics, 'duo_j1_duo_retries', { ...instance, reason: 'rate-limit' }) > 0, 'the 429s are counted');
    for (const line of worker.output) assert.ok(!line.includes(duo.secretKey), 'no secret in the logs');
  });
});
