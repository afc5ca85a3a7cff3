import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { DUO_J1_VERSION } from '../src/util/user-agent';
import { temporalCliPath } from '../src/worker/dev-server';
import { workerDeploymentFromEnvironment } from '../src/worker/versioning';
import { coordinatorWorkflowId } from '../src/workflows/coordination-contract';
import { WORKFLOW_TYPE, progressQuery, type DuoIngestionResult } from '../src/workflows/contract';
import { waitFor } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import {
  startTestWorkers,
  temporaryDirectory,
  testClient,
  testConfig,
  testServer,
  uniqueTaskQueue,
} from './harness/temporal';

const { VersioningBehavior } = temporal.api.enums.v1;

const execute = promisify(execFile);

/** The Temporal CLI against the test server, as docs/deploying.md has operators run it. */
async function temporalCli(args: string[]): Promise<string> {
  const { address, namespace } = await testServer();
  const { stdout } = await execute(temporalCliPath(), [...args, '--address', address, '--namespace', namespace]);
  return stdout;
}

/**
 * Makes a version current with `temporal worker deployment set-current-version`, once its workers
 * poll (the server refuses a version it has not seen poll yet).
 */
async function setCurrentVersion({ version }: WorkerDeploymentOptions, extraArgs: string[] = []): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      // prettier-ignore
      await temporalCli([
        'worker', 'deployment', 'set-current-version',
        '--deployment-name', version.deploymentName, '--build-id', version.buildId, '--yes', ...extraArgs,
      ]);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function versioningOf(client: Client, workflowId: string) {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  return { behavior: info?.behavior, buildId: info?.deploymentVersion?.buildId };
}

describe('Worker Versioning', function () {
  it('is opt-in, declares the package version when on, and names a wrong setting', () => {
    assert.equal(workerDeploymentFromEnvironment('duo-j1', {}), undefined);
    assert.equal(workerDeploymentFromEnvironment('duo-j1', { DUO_J1_WORKER_VERSIONING: 'off' }), undefined);
    assert.deepEqual(workerDeploymentFromEnvironment('duo-j1', { DUO_J1_WORKER_VERSIONING: 'on' }), {
      version: { deploymentName: 'duo-j1', buildId: DUO_J1_VERSION },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'AUTO_UPGRADE',
    });
    assert.deepEqual(
      workerDeploymentFromEnvironment('q', {
        DUO_J1_WORKER_VERSIONING: 'on',
        DUO_J1_BUILD_ID: '2.0.0-rc1',
        DUO_J1_DEPLOYMENT_NAME: 'security-duo',
      })?.version,
      { deploymentName: 'security-duo', buildId: '2.0.0-rc1' },
    );
    assert.throws(
      () => workerDeploymentFromEnvironment('q', { DUO_J1_WORKER_VERSIONING: 'yes' }),
      /DUO_J1_WORKER_VERSIONING/,
    );
  });

  it('a deploy: a run in flight finishes on its version, new runs start on the new one, the coordinator moves', async () => {
    const duo = await startDuoSimulator({ users: 60, seed: 81 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)], { taskQueue: uniqueTaskQueue('versioned') });
    const instanceId = config.instances[0]!.id;
    const versionOf = (buildId: string) =>
      workerDeploymentFromEnvironment(config.taskQueue, { DUO_J1_WORKER_VERSIONING: 'on', DUO_J1_BUILD_ID: buildId })!;
    const client = await testClient();

    // Version 1: its workers poll, and it is made current.
    const v1 = versionOf('1.0.0');
    const v1Workers = await startTestWorkers(config, { workerOptions: { workerDeploymentOptions: v1 } });
    await setCurrentVersion(v1);

    // Version 2 on another host (its own data folder, so its own host queue): its workers poll
    // before it is current, as in a deploy, and get no task yet. Version 1's host queue is one
    // version 2 does not poll, which the server calls a missing task queue.
    const v2 = versionOf('2.0.0');
    const v2Workers = await startTestWorkers(
      { ...config, dataDir: temporaryDirectory('duo-j1-data-v2-') },
      { workerOptions: { workerDeploymentOptions: v2 } },
    );

    // A run starts on version 1 and is still fetching (slowly) when version 2 becomes current.
    duo.setLatency(2000);
    const inFlight = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `versioned-${uniqueTaskQueue()}`,
      args: [{ instanceId }],
    });
    await waitFor(async () => (await inFlight.query(progressQuery)).phase === 'fetching', 'the run to fetch');
    await setCurrentVersion(v2, ['--ignore-missing-task-queues']);
    assert.equal((await inFlight.describe()).status.name, 'RUNNING', 'the run is in flight across the deploy');
    duo.setLatency(0);

    assert.equal(((await inFlight.result()) as DuoIngestionResult).outcome, 'success');
    assert.deepEqual(await versioningOf(client, inFlight.workflowId), {
      behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
      buildId: '1.0.0',
    });
    const described = await temporalCli([
      'worker',
      'deployment',
      'describe-version',
      '--deployment-name',
      v1.version.deploymentName,
      '--build-id',
      '1.0.0',
      '--output',
      'json',
    ]);
    // What an operator watches before taking version 1's workers down: it drains, then is drained.
    const { drainageInfo, taskQueuesInfos } = JSON.parse(described) as {
      drainageInfo?: { drainageStatus?: string };
      taskQueuesInfos: { name: string }[];
    };
    assert.match(drainageInfo?.drainageStatus ?? '', /^drain(ing|ed)$/);
    assert.ok(
      taskQueuesInfos.some(({ name }) => name.startsWith(`${config.taskQueue}-host-`)),
      described,
    );

    const next = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `versioned-${uniqueTaskQueue()}`,
      args: [{ instanceId }],
    });
    assert.equal(((await next.result()) as DuoIngestionResult).outcome, 'success');
    assert.deepEqual(await versioningOf(client, next.workflowId), {
      behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
      buildId: '2.0.0',
    });
    // The coordinator granted the instance to both runs; it is not stranded on version 1.
    assert.deepEqual(await versioningOf(client, coordinatorWorkflowId(instanceId)), {
      behavior: VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE,
      buildId: '2.0.0',
    });
    await Promise.all([v1Workers.stop(), v2Workers.stop()]);
  });
});
