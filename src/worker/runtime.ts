/**
 * Everything one duo-j1 worker process runs: the staging store in the data folder (swept of dead
 * runs at start), the activities, and the shared-queue and host-queue workers. Used by
 * `duo-j1 worker`, by `npm start` (in-process) and by the test suite's worker processes.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities';
import type { AppConfig } from '../config/instances';
import { ConversionAhead, type ConversionAheadOptions } from '../graph/conversion-ahead';
import { LocalDirectoryStagingStore } from '../staging/local-directory-store';
import { connectClient, connectWorker, type TemporalSettings } from './connection';
import { prebuiltWorkflowBundle } from './workflow-bundle';
import { createDuoJ1Workers, sweepDeadRuns, type DuoJ1Workers } from './workers';

export interface WorkerRuntimeOptions {
  config: AppConfig;
  temporal: TemporalSettings;
  /** Where secret references resolve; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** A prebuilt workflow bundle; default: built once and cached under `<data>/cache`. */
  workflowBundlePath?: string;
  log?: ActivityDependencies['log'];
  duoClientOptions?: ActivityDependencies['duoClientOptions'];
  jupiterOneClientOptions?: ActivityDependencies['jupiterOneClientOptions'];
  workerOptions?: Partial<WorkerOptions>;
  /** Converting staged parts while the fetches run (default: on, with its defaults); false turns it off. */
  conversionAhead?: ConversionAheadOptions | false;
}

export interface WorkerRuntime {
  workers: DuoJ1Workers;
  client: Client;
  staging: LocalDirectoryStagingStore;
  /** Resolves when both workers have shut down; rejects if one fails. */
  running: Promise<void>;
  /** Shuts the workers down gracefully and closes the connections. */
  stop(): Promise<void>;
}

export function stagingDirectory(config: AppConfig): string {
  return path.join(config.dataDir, 'staging');
}

export async function startWorkerRuntime(options: WorkerRuntimeOptions): Promise<WorkerRuntime> {
  const { config } = options;
  const staging = await LocalDirectoryStagingStore.open(stagingDirectory(config));
  const client = await connectClient(options.temporal);
  const swept = await sweepDeadRuns(staging, client);
  if (swept.length > 0) options.log?.('info', 'Removed the staged files of runs that are over', { runs: swept.length });

  const workflowBundlePath =
    options.workflowBundlePath ?? (await prebuiltWorkflowBundle(path.join(config.dataDir, 'cache')));
  const connection = await connectWorker(options.temporal);
  const conversionAhead =
    options.conversionAhead === false
      ? undefined
      : new ConversionAhead({
          log: (message, fields) => options.log?.('debug', message, fields),
          ...options.conversionAhead,
        });
  const activities = createActivities({
    config,
    staging,
    temporalClient: client,
    env: options.env,
    log: options.log,
    duoClientOptions: options.duoClientOptions,
    jupiterOneClientOptions: options.jupiterOneClientOptions,
    conversionAhead,
  });
  const workers = await createDuoJ1Workers({
    connection,
    namespace: options.temporal.namespace,
    taskQueue: config.taskQueue,
    activities,
    staging,
    workflowBundlePath,
    workerOptions: options.workerOptions,
  });
  const running = workers.run().finally(async () => {
    await conversionAhead?.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
    await client.connection.close().catch(() => undefined);
  });
  options.log?.('info', 'Worker started', {
    taskQueue: config.taskQueue,
    hostTaskQueue: workers.hostTaskQueue,
    namespace: options.temporal.namespace,
    instances: config.instances.map((i) => i.id),
  });
  return {
    workers,
    client,
    staging,
    running,
    async stop() {
      workers.shutdown();
      await running.catch(() => undefined);
    },
  };
}
