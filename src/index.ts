/**
 * duo-j1 as a library, for teams that run their own workers: register the workflows and the
 * activities on your task queue (or let `createDuoJ1Workers` create the shared-queue and
 * host-queue workers), and start `duoIngestion` with `{ instanceId }`.
 *
 *   import { createActivities, createDuoJ1Workers, prebuiltWorkflowBundle, loadConfig } from 'duo-j1';
 */
export { createActivities, type ActivityDependencies, type DuoJ1Activities } from './activities';
export {
  loadConfig,
  resolveSecret,
  type AppConfig,
  type InstanceConfig,
  type PollingInterval,
} from './config/instances';
export { ConfigurationError } from './config/errors';
export { LocalDirectoryStagingStore } from './staging/local-directory-store';
export { ConversionAhead, type ConversionAheadOptions } from './graph/conversion-ahead';
export type { StagingStore, StagedRun } from './staging/store';
export { createDuoJ1Workers, sweepDeadRuns, type DuoJ1Workers, type DuoJ1WorkersOptions } from './worker/workers';
export { startWorkerRuntime, type WorkerRuntime, type WorkerRuntimeOptions } from './worker/runtime';
export { boundHeapGrowth } from './worker/memory';
export { prebuiltWorkflowBundle } from './worker/workflow-bundle';
export { resolveTemporalSettings, connectClient, connectWorker, type TemporalSettings } from './worker/connection';
/** The path to give `Worker.create({ workflowsPath })` when you bundle the workflows yourself. */
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
export { historyForReplay, runIdOfHistory } from './worker/replay';
