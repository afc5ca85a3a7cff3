import assert from 'node:assert/strict';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { freePort } from '../src/worker/dev-server';
import { WORKFLOW_TYPE, type DuoIngestionResult } from '../src/workflows/contract';
import { simulatorInstance, writeInstancesFile } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { spawnWorkerProcess, testClient, testConfig, uniqueTaskQueue } from './harness/temporal';

describe('duo-j1 worker', function () {
  it('serves Prometheus metrics, logs JSON lines and shuts down gracefully on SIGTERM', async () => {
    const duo = await startDuoSimulator({ users: 20, seed: 51 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)]);
    const { file, env } = writeInstancesFile(config.instances);
    const port = await freePort();
    const worker = await spawnWorkerProcess({
      config,
      instancesFile: file,
      env,
      extraArgs: ['--metrics', `127.0.0.1:${port}`],
    });
    const client = await testClient();
    const result = (await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `worker-${uniqueTaskQueue()}`,
      args: [{ instanceId: config.instances[0].id }],
    })) as DuoIngestionResult;
    assert.equal(result.outcome, 'success');

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /temporal_activity_execution_latency/);
    assert.match(metrics, /activity_type="duoJ1\.fetchResource"/);

    const started = worker.output.map(
      (line) => JSON.parse(line) as { level: string; message: string; hostTaskQueue?: string },
    );
    const startLine = started.find((line) => line.message === 'Worker started');
    assert.ok(
      startLine?.hostTaskQueue?.startsWith(`${config.taskQueue}-host-`),
      'structured start line with the host queue',
    );

    worker.process.kill('SIGTERM');
    assert.equal(await worker.exited, 0, 'graceful shutdown exits 0');
    assert.ok(worker.output.some((line) => line.includes('Worker stopped')));
    for (const line of worker.output) assert.ok(!line.includes(duo.secretKey), 'no secret in the logs');
  });
});
