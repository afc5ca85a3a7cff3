/**
 * The two workers every duo-j1 process runs, for library users and for our own commands:
 *
 *  - the shared-queue worker (`duo-j1`, or your task queue): workflows, and the activities that
 *    need no staged files (claiming staging, JupiterOne job calls);
 *  - the host-queue worker (`<task queue>-host-<staging store id>`): the activities that read or
 *    write this host's staged files. A run routes them here after claiming this host's staging.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { createActivities } from '../activities';
import type { StagingStore } from '../staging/store';
import { hostTaskQueue } from '../workflows/contract';
import { runOfKey } from '../workflows/run-key';

export interface DuoJ1WorkersOptions {
  connection: NativeConnection;
  namespace: string;
  /** The shared task queue (default duo-j1). */
  taskQueue: string;
  activities: ReturnType<typeof createActivities>;
  staging: StagingStore;
  /** A prebuilt workflow bundle (see `prebuiltWorkflowBundle`). */
  workflowBundlePath: string;
  /** Extra worker options (identity, concurrency, shutdown grace time, ...). */
  workerOptions?: Partial<WorkerOptions>;
}

export interface DuoJ1Workers {
  sharedWorker: Worker;
  hostWorker: Worker;
  hostTaskQueue: string;
  /** Runs both workers until `shutdown()` (or a shutdown signal); rejects if either fails. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createDuoJ1Workers(options: DuoJ1WorkersOptions): Promise<DuoJ1Workers> {
  const hostQueue = hostTaskQueue(options.taskQueue, options.staging.id);
  const common: Omit<WorkerOptions, 'taskQueue'> = {
    connection: options.connection,
    namespace: options.namespace,
    activities: options.activities,
    shutdownGraceTime: '10 seconds',
    // Heartbeats reach the server at least every 2 s (the SDK's default waits up to 80 % of the
    // heartbeat timeout, 48 s at 60 s): a cancelled activity learns of it within seconds, so a
    // cancelled run is not kept waiting, and the details the server keeps stay current.
    maxHeartbeatThrottleInterval: '2 seconds',
    ...options.workerOptions,
  };
  const sharedWorker = await Worker.create({
    ...common,
    taskQueue: options.taskQueue,
    workflowBundle: { codePath: options.workflowBundlePath },
  });
  const hostWorker = await Worker.create({ ...common, taskQueue: hostQueue });
  return {
    sharedWorker,
    hostWorker,
    hostTaskQueue: hostQueue,
    async run() {
      await Promise.all([sharedWorker.run(), hostWorker.run()]);
    },
    shutdown() {
      for (const worker of [sharedWorker, hostWorker]) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      }
    },
  };
}

/**
 * Removes the staged files of runs that are over: the run key holds the workflow id and run id,
 * and a run that Temporal no longer reports as running will never read them again. A run whose
 * state cannot be read (Temporal unreachable) is kept.
 */
export async function sweepDeadRuns(staging: StagingStore, client: Client): Promise<string[]> {
  return staging.sweep(async (runKey) => {
    const run = runOfKey(runKey);
    if (!run) return false;
    const { workflowId, runId } = run;
    try {
      const description = await client.workflow.getHandle(workflowId, runId).describe();
      return description.status.name === 'RUNNING';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      return true;
    }
  });
}
