import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { temporalCliPath } from '../src/worker/dev-server';
import {
  WORKFLOW_TYPE,
  ingestionWorkflowId,
  type DuoIngestionResult,
  type LocalDeliveryReport,
} from '../src/workflows/contract';
import { ingestionHistory, keepHistory } from './harness/histories';
import { waitFor } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig, testServer, uniqueTaskQueue } from './harness/temporal';
import { DUO_J1_ARGS } from './harness/cli';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '..');

describe('runs and re-runs', function () {
  it('runs from the CLI and by type name with the UI’s JSON input; a second run of the instance is refused as busy', async () => {
    const duo = await startDuoSimulator({ users: 1500, seed: 31, latencyMs: 60 });
    stopAtEnd(() => duo.close());
    const instance = simulatorInstance(duo);
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const { address } = await testServer();
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TEMPORAL_ADDRESS: address,
      DUO_J1_TASK_QUEUE: config.taskQueue,
    };

    // `duo-j1 run` starts duo-ingestion-<id> and follows it.
    const cli = run(process.execPath, [...DUO_J1_ARGS, 'run', '--instance', instance.id, '--json'], {
      env,
      cwd: REPO,
    });
    const client = await testClient();
    await waitFor(async () => {
      try {
        await client.workflow.getHandle(ingestionWorkflowId(instance.id)).describe();
        return true;
      } catch {
        return false;
      }
    }, 'the CLI run to start');

    // The same CLI command again: the workflow id is taken → exit code 4 (busy).
    const again = await run(process.execPath, [...DUO_J1_ARGS, 'run', '--instance', instance.id], {
      env,
      cwd: REPO,
    }).then(
      () => assert.fail('a second run must be refused'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(again.code, 4);
    assert.match(again.stderr, /busy/);

    // As from the Temporal UI or `temporal workflow start`: by type name, JSON input, another id.
    const { stdout } = await run(temporalCliPath(), [
      'workflow',
      'start',
      '--address',
      address,
      '--type',
      'duoIngestion',
      '--task-queue',
      config.taskQueue,
      '--workflow-id',
      `from-the-ui-${uniqueTaskQueue()}`,
      '--input',
      JSON.stringify({ instanceId: instance.id }),
      '--output',
      'json',
    ]);
    const started = JSON.parse(stdout) as { workflowId: string };
    const busy = await client.workflow
      .getHandle(started.workflowId)
      .result()
      .then(
        () => assert.fail('the concurrent run must fail'),
        (error: unknown) => error,
      );
    assert.ok(busy instanceof WorkflowFailedError && busy.cause instanceof ApplicationFailure);
    assert.equal(busy.cause.type, 'InstanceBusy');

    const { stdout: json } = await cli;
    const result = JSON.parse(json) as DuoIngestionResult;
    assert.equal(result.outcome, 'success');
    assert.equal(result.entities.duo_user, duo.tenant.users.length);

    // Once the first run is over, a run by type name with the UI's input behaves like a CLI run.
    const { stdout: second } = await run(temporalCliPath(), [
      'workflow',
      'execute',
      '--address',
      address,
      '--type',
      WORKFLOW_TYPE,
      '--task-queue',
      config.taskQueue,
      '--workflow-id',
      `from-the-ui-${uniqueTaskQueue()}`,
      '--input',
      JSON.stringify({ instanceId: instance.id }),
      '--output',
      'json',
    ]);
    const executed = JSON.parse(second) as { result: DuoIngestionResult };
    assert.equal(executed.result.outcome, 'success');
    assert.deepEqual((executed.result.delivery as LocalDeliveryReport).changes, { created: 0, updated: 0, deleted: 0 });
  });

  it('resets a finished run to its start and delivers the same graph', async () => {
    const duo = await startDuoSimulator({ users: 300, seed: 32 });
    stopAtEnd(() => duo.close());
    const instance = simulatorInstance(duo);
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();
    const workflowId = `reset-${uniqueTaskQueue()}`;
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId,
      args: [{ instanceId: instance.id }],
    });
    const first = (await handle.result()) as DuoIngestionResult;
    await keepHistory(
      ingestionHistory('local-delivery'),
      'a complete run delivering to the local graph directory',
      handle,
    );
    const { address } = await testServer();
    await run(temporalCliPath(), [
      'workflow',
      'reset',
      '--address',
      address,
      '--workflow-id',
      workflowId,
      '--type',
      'FirstWorkflowTask',
      '--reason',
      'test: re-run from the start',
    ]);
    await waitFor(
      async () => (await client.workflow.getHandle(workflowId).describe()).runId !== handle.firstExecutionRunId,
      'the reset run',
    );
    const reset = (await client.workflow.getHandle(workflowId).result()) as DuoIngestionResult;
    assert.deepEqual(reset.entities, first.entities);
    assert.deepEqual(reset.relationships, first.relationships);
    assert.deepEqual(
      (reset.delivery as LocalDeliveryReport).changes,
      { created: 0, updated: 0, deleted: 0 },
      'the same graph',
    );
  });

  it('runs many runs of several instances correctly on two workers with separate staging folders', async () => {
    const tenants = await Promise.all([33, 34, 35].map((seed) => startDuoSimulator({ users: 200 + seed, seed })));
    for (const duo of tenants) stopAtEnd(() => duo.close());
    const instances = tenants.map((duo) => simulatorInstance(duo));
    const config = testConfig(instances);
    const hostA = await startTestWorkers(config);
    const hostB = await startTestWorkers(testConfig(instances, { taskQueue: config.taskQueue }));
    assert.notEqual(hostA.workers.hostTaskQueue, hostB.workers.hostTaskQueue);
    const client = await testClient();
    const results = await Promise.all(
      instances.map(async (instance, index) => {
        const outcomes: DuoIngestionResult[] = [];
        for (let round = 0; round < 3; round += 1) {
          outcomes.push(
            (await client.workflow.execute(WORKFLOW_TYPE, {
              taskQueue: config.taskQueue,
              workflowId: `many-${instance.id}-${round}`,
              args: [{ instanceId: instance.id }],
            })) as DuoIngestionResult,
          );
        }
        return { index, outcomes };
      }),
    );
    for (const { index, outcomes } of results) {
      for (const outcome of outcomes) {
        assert.equal(outcome.outcome, 'success');
        assert.equal(outcome.entities.duo_user, tenants[index].tenant.users.length);
        assert.equal(outcome.entities.duo_phone, tenants[index].tenant.phones.length);
      }
    }
  });
});
