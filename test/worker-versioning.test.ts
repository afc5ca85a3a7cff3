import assert from 'node:assert/strict';
import { temporal } from '@temporalio/proto';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { DUO_J1_VERSION } from '../src/util/user-agent';
import { workerDeploymentFromEnvironment } from '../src/worker/versioning';
import { coordinatorWorkflowId } from '../src/workflows/coordination-contract';
import { WORKFLOW_TYPE, type DuoIngestionResult } from '../src/workflows/contract';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig, testServer, uniqueTaskQueue } from './harness/temporal';

const { VersioningBehavior } = temporal.api.enums.v1;

describe('Worker Versioning', function () {
  it('is opt-in, declares the package version when on, and names a wrong setting', () => {
    assert.equal(workerDeploymentFromEnvironment('duo-j1', {}), undefined);
    assert.deepEqual(
      workerDeploymentFromEnvironment('q', { DUO_J1_WORKER_VERSIONING: 'on', DUO_J1_BUILD_ID: '2.0.0-rc1' }),
      {
        version: { deploymentName: 'q', buildId: '2.0.0-rc1' },
        useWorkerVersioning: true,
        defaultVersioningBehavior: 'AUTO_UPGRADE',
      },
    );
    assert.throws(
      () => workerDeploymentFromEnvironment('q', { DUO_J1_WORKER_VERSIONING: 'yes' }),
      /DUO_J1_WORKER_VERSIONING/,
    );
  });

  it('with versioning on, runs are pinned to their version and the coordinator moves with each new one', async () => {
    const duo = await startDuoSimulator({ users: 30, seed: 81 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)], { taskQueue: uniqueTaskQueue('versioned') });
    const deployment = workerDeploymentFromEnvironment(config.taskQueue, { DUO_J1_WORKER_VERSIONING: 'on' });
    assert.ok(deployment);
    await startTestWorkers(config, { workerOptions: { workerDeploymentOptions: deployment } });
    // As `temporal worker deployment set-current-version` does, once the version's workers poll.
    const client = await testClient();
    const { namespace } = await testServer();
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await client.workflowService.setWorkerDeploymentCurrentVersion({
          namespace,
          deploymentName: deployment.version.deploymentName,
          buildId: deployment.version.buildId,
          identity: 'worker-versioning test',
        });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `versioned-${uniqueTaskQueue()}`,
      args: [{ instanceId: config.instances[0].id }],
    });
    assert.equal(((await handle.result()) as DuoIngestionResult).outcome, 'success');
    const behaviorOf = async (workflowId: string) => {
      const { raw } = await client.workflow.getHandle(workflowId).describe();
      const info = raw.workflowExecutionInfo?.versioningInfo;
      return { behavior: info?.behavior, buildId: info?.deploymentVersion?.buildId };
    };
    assert.deepEqual(await behaviorOf(handle.workflowId), {
      behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
      buildId: DUO_J1_VERSION,
    });
    assert.deepEqual(await behaviorOf(coordinatorWorkflowId(config.instances[0].id)), {
      behavior: VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE,
      buildId: DUO_J1_VERSION,
    });
  });
});
