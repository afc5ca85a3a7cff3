/**
 * Everything one duo-j1 worker process runs: its connections to Temporal and the duo-j1 workers
 * (`createDuoJ1Workers`: staging in the data folder swept of dead runs, the
 * shared-queue and host-queue workers). Used by `duo-j1 worker`, by `npm start` (in-process) and by
 * the test suite's workers.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config/instances';
import { connectClient, type TemporalSettings } from './connection';
import { checkWorkerAccess, connectWorkerChecked, explainTemporalFailure } from './temporal-access';
import { prebuiltWorkflowBundle } from './workflow-bundle';
import { createDuoJ1Workers, type DuoJ1Workers, type DuoJ1WorkersOptions } from './workers';

export { stagingDirectory } from './workers';

export interface WorkerRuntimeOptions extends Pick<
  DuoJ1WorkersOptions,
  'env' | 'log' | 'duoClientOptions' | 'jupiterOneClientOptions' | 'workerOptions' | 'tracing'
> {
  config: AppConfig;
  temporal: TemporalSettings;
  /** A prebuilt workflow bundle; default: the package's, or one built once and cached under `<data>/cache`. */
  workflowBundlePath?: string;
  /** Bound the heap's growth (default false: the processes duo-j1 starts itself decide this at start). */
  boundHeapGrowth?: boolean;
}

export interface WorkerRuntime {
  workers: DuoJ1Workers;
  client: Client;
  staging: DuoJ1Workers['staging'];
  /** Resolves when both workers have shut down and the connections are closed; rejects if a worker failed. */
  running: Promise<void>;
  /** Shuts the workers down gracefully and closes the connections. */
  stop(): Promise<void>;
}

export async function startWorkerRuntime(options: WorkerRuntimeOptions): Promise<WorkerRuntime> {
  const { config } = options;
  // Fails within seconds, naming the setting, when Temporal cannot be reached or used.
  let saidWaiting = false;
  const connection = await connectWorkerChecked(options.temporal, {
    onRetry: (error) => {
      if (!saidWaiting) options.log?.('info', 'Waiting for Temporal', { reason: error.message });
      saidWaiting = true;
    },
  });
  let client: Client | undefined;
  let workers: DuoJ1Workers;
  try {
    await checkWorkerAccess(connection, options.temporal, config.taskQueue);
    client = await connectClient(options.temporal);
    workers = await createDuoJ1Workers({
      config,
      env: options.env,
      log: options.log,
      duoClientOptions: options.duoClientOptions,
      jupiterOneClientOptions: options.jupiterOneClientOptions,
      workerOptions: options.workerOptions,
      tracing: options.tracing,
      connection,
      namespace: options.temporal.namespace,
      taskQueue: config.taskQueue,
      boundHeapGrowth: options.boundHeapGrowth ?? false,
      workflows: {
        workflowBundlePath:
          options.workflowBundlePath ??
          (await prebuiltWorkflowBundle(path.join(config.dataDir, 'cache'), { traced: Boolean(options.tracing) })),
      },
    });
  } catch (error) {
    await connection.close().catch(() => undefined);
    await client?.connection.close().catch(() => undefined);
    throw explainTemporalFailure(error, options.temporal);
  }
  const connectedClient = client;
  const running = workers.run().finally(async () => {
    await connection.close().catch(() => undefined);
    await connectedClient.connection.close().catch(() => undefined);
  });
  options.log?.('info', 'Worker started', {
    taskQueue: workers.taskQueue,
    hostTaskQueue: workers.hostTaskQueue,
    namespace: options.temporal.namespace,
    instances: config.instances.map((i) => i.id),
  });
  return {
    workers,
    client: connectedClient,
    staging: workers.staging,
    running,
    async stop() {
      workers.shutdown();
      await running.catch(() => undefined);
    },
  };
}
