/**
 * Worker Versioning, opt-in (`DUO_J1_WORKER_VERSIONING=on`): each worker names the deployment
 * version it runs — deployment `<task queue>` (or `DUO_J1_DEPLOYMENT_NAME`), build id the package
 * version (or `DUO_J1_BUILD_ID`) — and Temporal routes tasks by it. A versioned worker gets no task
 * until its version is made current (`temporal worker deployment set-current-version`), a step
 * the embedded dev server of `npm start` must not need. With it on:
 *
 *  - duoIngestion is PINNED: a run finishes on the code it started on, so a deploy never replays a
 *    run on changed code; it is bounded by its deadline, after which the old version drains;
 *  - duoInstanceCoordinator is AUTO_UPGRADE: it lives as long as its instance is used, and must not
 *    be pinned to a version that is taken down; it moves to the current version, so a change to it
 *    goes behind `patched()`.
 *
 * The procedure is in docs/deploying.md.
 */
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import { ConfigurationError } from '../config/errors';
import { DUO_J1_VERSION } from '../util/user-agent';

export function workerDeploymentFromEnvironment(
  taskQueue: string,
  env: NodeJS.ProcessEnv = process.env,
): WorkerDeploymentOptions | undefined {
  const version = {
    deploymentName: env.DUO_J1_DEPLOYMENT_NAME || taskQueue,
    buildId: env.DUO_J1_BUILD_ID || DUO_J1_VERSION,
  };
  const setting = (env.DUO_J1_WORKER_VERSIONING ?? 'off').trim().toLowerCase();
  // Off: the workers declare no version at all, so the workflows declare no behaviour (see
  // src/workflows/versioning-behavior.ts): the server refuses one from an unversioned worker.
  if (setting === 'off' || setting === '') return undefined;
  if (setting === 'on') {
    // Workflows of yours on the same worker, unannotated, move to each new version.
    return { version, useWorkerVersioning: true, defaultVersioningBehavior: 'AUTO_UPGRADE' };
  }
  throw new ConfigurationError([
    { setting: 'DUO_J1_WORKER_VERSIONING', message: `must be on or off (got "${setting}"); see docs/deploying.md` },
  ]);
}
