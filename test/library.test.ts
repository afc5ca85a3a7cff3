import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { ConfigurationError } from '../src/config/errors';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { LocalDirectoryStagingStore } from '../src/staging/local-directory-store';
import { createDuoJ1Workers, stagingDirectory } from '../src/worker/workers';
import { WORKFLOW_TYPE, progressQuery, type DuoIngestionResult } from '../src/workflows/contract';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import {
  installRuntime,
  testClient,
  testConfig,
  testServer,
  testWorkflowBundle,
  uniqueTaskQueue,
} from './harness/temporal';

/** A worker connection to the test server, closed at the end of the run. */
async function workerConnection(): Promise<NativeConnection> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: (await testServer()).address });
  stopAtEnd(() => connection.close());
  return connection;
}

describe('createDuoJ1Workers, as a library user calls it', function () {
  it('runs on the task queue it is given, whatever the configuration names, and sweeps dead runs at creation', async () => {
    const duo = await startDuoSimulator({ users: 30, seed: 71 });
    stopAtEnd(() => duo.close());
    // The configuration keeps the default queue name; the team runs the workers on its own queue.
    const config = testConfig([simulatorInstance(duo)], { taskQueue: 'duo-j1' });
    const teamQueue = uniqueTaskQueue('security-jobs');
    const deadRun = `${config.instances[0].id}~a-run-that-is-over~${randomUUID()}~1`;
    const staging = await LocalDirectoryStagingStore.open(stagingDirectory(config));
    await staging.openRun(deadRun).writeFile('left-behind.jsonl', Buffer.from('{}\n'));
    const deadRunFolder = path.join(stagingDirectory(config), 'runs', encodeURIComponent(deadRun));
    assert.ok(existsSync(deadRunFolder));

    const workers = await createDuoJ1Workers({
      connection: await workerConnection(),
      namespace: (await testServer()).namespace,
      taskQueue: teamQueue,
      config,
      workflows: { workflowBundlePath: await testWorkflowBundle() },
      boundHeapGrowth: false,
    });
    assert.ok(!existsSync(deadRunFolder), 'the staging of a run that is over is removed at creation');
    assert.equal(workers.polling, false, 'not polling before run()');
    const running = workers.run();
    stopAtEnd(async () => {
      workers.shutdown();
      await running.catch(() => undefined);
    });
    assert.equal(workers.polling, true);

    const client = await testClient();
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: teamQueue,
      workflowId: `library-${teamQueue}`,
      // Without a worker on the host queue the run would give up after 5 s instead of 5 minutes.
      args: [{ instanceId: config.instances[0].id, tuning: { hostScheduleToStartSeconds: 5, maxPipelineRestarts: 0 } }],
    });
    const result = (await handle.result()) as DuoIngestionResult;
    assert.equal(result.outcome, 'success');
    assert.equal(result.pipelineAttempts, 1);
    assert.equal((await handle.query(progressQuery)).hostTaskQueue, workers.hostTaskQueue);
    assert.ok(workers.hostTaskQueue.startsWith(`${teamQueue}-host-`), workers.hostTaskQueue);

    workers.shutdown();
    await running;
    assert.equal(workers.polling, false);
  });

  it('refuses an activity of the caller’s that takes the name of one of duo-j1’s, naming it', async () => {
    const config = testConfig([]);
    const creating = createDuoJ1Workers({
      connection: await workerConnection(),
      namespace: (await testServer()).namespace,
      taskQueue: uniqueTaskQueue('collide'),
      config,
      workflows: { workflowBundlePath: await testWorkflowBundle() },
      boundHeapGrowth: false,
      activities: {
        async fetchResource() {
          return 'a name of our own is fine';
        },
        async 'duoJ1.buildGraph'() {
          return 'this one would replace duo-j1’s';
        },
      },
    });
    await assert.rejects(creating, (error: Error) => {
      assert.ok(error instanceof ConfigurationError);
      assert.match(error.message, /createDuoJ1Workers\(\{ activities \}\) registers "duoJ1\.buildGraph"/);
      assert.doesNotMatch(error.message, /fetchResource/);
      return true;
    });
  });
});
