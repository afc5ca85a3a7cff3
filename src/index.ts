/**
 * duo-j1 as a library, for teams that run their own workers. One call creates the workers — the
 * shared-queue worker (duo-j1's workflows, beside yours if you like) and this host's staged-file
 * worker — and does what `duo-j1 worker` does at start:
 *
 *   import { NativeConnection } from '@temporalio/worker';
 *   import { createDuoJ1Workers, loadConfig } from 'duo-j1';
 *
 *   const connection = await NativeConnection.connect({ address: 'temporal.internal:7233' });
 *   const workers = await createDuoJ1Workers({
 *     connection,
 *     namespace: 'security',
 *     taskQueue: 'security-jobs',
 *     config: loadConfig(), // DUO_* or DUO_J1_INSTANCES, DUO_J1_DATA_DIR
 *   });
 *   await workers.run();
 *
 * Start `duoIngestion` with `{ instanceId }` on that task queue. To bundle duo-j1's workflows with
 * your own, re-export them from your workflows file (`export { duoIngestion, duoInstanceCoordinator, duoLogTail } from
 * 'duo-j1/workflows'`) and pass `workflows: { workflowsPath }`.
 */
export {
  createActivities,
  type ActivityDependencies,
  type DuoJ1Activities,
  type DuoJ1ActivityFunctions,
} from './activities';
export {
  loadConfig,
  resolveSecret,
  type AppConfig,
  type InstanceConfig,
  type PollingInterval,
} from './config/instances';
export { ConfigurationError } from './config/errors';
export { LocalDirectoryStagingStore } from './staging/local-directory-store';
export type { StagingStore, StagedRun } from './staging/store';
export {
  createDuoJ1Workers,
  stagingDirectory,
  sweepDeadRuns,
  type DuoJ1Workers,
  type DuoJ1WorkersOptions,
  type DuoJ1WorkflowSource,
} from './worker/workers';
export { startWorkerRuntime, type WorkerRuntime, type WorkerRuntimeOptions } from './worker/runtime';
export { boundHeapGrowth } from './worker/memory';
export { prebuiltWorkflowBundle, type WorkflowBundleFlavour } from './worker/workflow-bundle';
export { tracingFromEnvironment, type DuoJ1Tracing } from './telemetry/tracing';
export { resolveTemporalSettings, connectClient, type TemporalSettings } from './worker/connection';
export { checkWorkerAccess, connectWorker, connectWorkerChecked, TemporalAccessError } from './worker/temporal-access';
/**
 * The compiled workflows (also importable as `duo-j1/workflows`), for `Worker.create({ workflowsPath })`
 * or `bundleWorkflowCode({ workflowsPath })` when you bundle duo-j1's workflows alone yourself.
 */
export const workflowsPath = require.resolve('./workflows');
export * from './workflows/contract';
export {
  COORDINATOR_WORKFLOW_TYPE,
  coordinatorWorkflowId,
  coordinatorStateQuery,
  type CoordinatorState,
  type InstanceGrant,
} from './workflows/coordination-contract';
/** Prepares a history for replay outside a worker (a reset run replays under its own run id). */
export {
  historyForReplay,
  runIdOfHistory,
  replayRecentExecutions,
  DEFAULT_REPLAY_QUERY,
  type ReplayOutcome,
} from './worker/replay';
