/**
 * The two workers every duo-j1 process runs, in one call, for library users and for our own
 * commands alike:
 *
 *  - the shared-queue worker (`duo-j1`, or your task queue): the workflows, and the activities that
 *    need no staged files (claiming staging, JupiterOne job calls) — beside your own workflows and
 *    activities, if you give them;
 *  - the host-queue worker (`<task queue>-host-<staging store id>`): the activities that read or
 *    write this host's staged files. A run routes them here after claiming this host's staging.
 *
 * Creating them also does what a duo-j1 worker process does at start: it removes the staged files
 * of runs that are over and bounds the heap's growth.
 */
import path from 'node:path';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { Runtime, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDependencies, type DuoJ1Activities } from '../activities';
import type { Logger } from '../activities/dependencies';
import { ConfigurationError } from '../config/errors';
import type { AppConfig } from '../config/instances';
import { LocalDirectoryStagingStore } from '../staging/local-directory-store';
import type { StagingStore } from '../staging/store';
import { activityContextInterceptor, withActivityContext } from '../telemetry/activity-context';
import { createDuoJ1Metrics } from '../telemetry/activity-metrics';
import { tracingWorkerOptions, type DuoJ1Tracing } from '../telemetry/tracing';
import { hostTaskQueue } from '../workflows/contract';
import { runOfKey } from '../workflows/run-key';
import { boundHeapGrowth } from './memory';
import { prebuiltWorkflowBundle } from './workflow-bundle';

/** How long running activities may finish after a shutdown starts, before they are cancelled (default). */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Where the shared-queue worker's workflows come from. */
export type DuoJ1WorkflowSource =
  /**
   * A workflows file of yours that re-exports duo-j1's beside your own
   * (`export { duoIngestion, duoInstanceCoordinator, duoLogTail } from 'duo-j1/workflows'`). The worker bundles it
   * with your `workerOptions` (workflow interceptor modules, payload converter, bundler options).
   */
  | { workflowsPath: string }
  /** A bundle built beforehand (`bundleWorkflowCode`, or `prebuiltWorkflowBundle()`). */
  | { workflowBundlePath: string };

/** Options of both workers that `createDuoJ1Workers` sets itself. */
type OwnWorkerOption = 'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowsPath' | 'workflowBundle';

export interface DuoJ1WorkersOptions {
  /** The workers' connection to Temporal (`NativeConnection.connect`). */
  connection: NativeConnection;
  /** Default `default`. */
  namespace?: string;
  /** The task queue runs are started on, and that the shared-queue worker polls. Default `config.taskQueue`. */
  taskQueue?: string;
  /** The Duo instances and the data folder (`loadConfig()`). */
  config: AppConfig;
  /** Where secret references (`{ "env": … }`) resolve. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where runs stage their data. Default: a local directory, `<data folder>/staging`. */
  staging?: StagingStore;
  /** Default: duo-j1's workflows alone, from the bundle shipped in the package. */
  workflows?: DuoJ1WorkflowSource;
  /**
   * Your own activities, registered beside duo-j1's on the shared-queue worker. duo-j1's are all
   * named `duoJ1.<name>`; one of yours with such a name is refused here, not silently replaced.
   */
  activities?: object;
  /** Bound the V8 heap's growth as a duo-j1 worker process does (`boundHeapGrowth`). Default true. */
  boundHeapGrowth?: boolean;
  /**
   * OpenTelemetry tracing (`tracingFromEnvironment()`): spans for runs and activities. The workflow
   * bundle must hold OpenTelemetry's workflow interceptors: the default one does when this is set.
   */
  tracing?: DuoJ1Tracing;
  /** Structured log lines (swept runs, parts that could not be converted ahead, ...). */
  log?: Logger;
  duoClientOptions?: ActivityDependencies['duoClientOptions'];
  jupiterOneClientOptions?: ActivityDependencies['jupiterOneClientOptions'];
  /** More options for both workers: identity, concurrency, shutdown grace time, interceptors, data converter, ... */
  workerOptions?: Omit<Partial<WorkerOptions>, OwnWorkerOption>;
}

export interface DuoJ1Workers {
  sharedWorker: Worker;
  hostWorker: Worker;
  taskQueue: string;
  hostTaskQueue: string;
  staging: StagingStore;
  /** True while both workers poll their task queues. */
  readonly polling: boolean;
  /**
   * Runs both workers until `shutdown()` (or the runtime's shutdown signals). Rejects with the
   * first failure, after stopping the other worker too.
   */
  run(): Promise<void>;
  /** Starts a graceful shutdown: polling stops, running activities get the shutdown grace time. */
  shutdown(): void;
}

/** The default staging store's folder: `<data folder>/staging`. */
export function stagingDirectory(config: Pick<AppConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'staging');
}

/** Refuses activities of the caller's that would take the name of one of ours, naming every one. */
function mergeActivities(ours: DuoJ1Activities, theirs: object | undefined): object {
  if (!theirs) return ours;
  const taken = Object.keys(theirs).filter((name) => Object.hasOwn(ours, name));
  if (taken.length > 0) {
    throw new ConfigurationError(
      taken.map((name) => ({
        setting: 'createDuoJ1Workers({ activities })',
        message: `registers "${name}", the name of one of duo-j1's own activities: rename yours (duo-j1 names all of its activities "duoJ1.<name>" and registers them itself)`,
      })),
    );
  }
  return { ...theirs, ...ours };
}

export async function createDuoJ1Workers(options: DuoJ1WorkersOptions): Promise<DuoJ1Workers> {
  const { config, connection } = options;
  const namespace = options.namespace ?? 'default';
  const taskQueue = options.taskQueue ?? config.taskQueue;
  if (options.boundHeapGrowth !== false) boundHeapGrowth();

  const staging = options.staging ?? (await LocalDirectoryStagingStore.open(stagingDirectory(config)));
  // The activities that coordinate runs call Temporal too: with the workers' data converter, so a
  // payload codec of yours applies to what they send.
  const temporalClient = new Client({ connection, namespace, dataConverter: options.workerOptions?.dataConverter });
  const swept = await sweepDeadRuns(staging, temporalClient);
  if (swept.length > 0) options.log?.('info', 'Removed the staged files of runs that are over', { runs: swept.length });

  // duo-j1's metrics go out through the SDK's exporter (a no-op when none is configured).
  const metrics = createDuoJ1Metrics(Runtime.instance().metricMeter);
  const ours = createActivities({
    config,
    staging,
    temporalClient,
    env: options.env,
    // Each line an activity logs names its workflow, run, activity type, attempt and instance.
    log: options.log && withActivityContext(options.log),
    metrics,
    duoClientOptions: options.duoClientOptions,
    jupiterOneClientOptions: options.jupiterOneClientOptions,
  });
  const hostQueue = hostTaskQueue(taskQueue, staging.id);
  const traced = options.tracing && tracingWorkerOptions(options.tracing);
  const common = {
    shutdownGraceTime: SHUTDOWN_GRACE_MS,
    // Heartbeats reach the server at least every 2 s (the SDK's default waits up to 80 % of the
    // heartbeat timeout, 48 s at 60 s): a cancelled activity learns of it within seconds, so a
    // cancelled run is not kept waiting, and the details the server keeps stay current.
    maxHeartbeatThrottleInterval: '2 seconds',
    ...options.workerOptions,
    interceptors: {
      ...options.workerOptions?.interceptors,
      activity: [
        ...(traced?.activityInterceptors ?? []),
        activityContextInterceptor(metrics),
        ...(options.workerOptions?.interceptors?.activity ?? []),
      ],
    },
    sinks: { ...options.workerOptions?.sinks, ...traced?.sinks },
    connection,
    namespace,
  } satisfies Partial<WorkerOptions>;
  const workflows = options.workflows ?? {
    workflowBundlePath: await prebuiltWorkflowBundle(undefined, { traced: Boolean(options.tracing) }),
  };

  const sharedWorker = await Worker.create({
    ...common,
    taskQueue,
    activities: mergeActivities(ours, options.activities),
    ...('workflowsPath' in workflows
      ? { workflowsPath: workflows.workflowsPath }
      : { workflowBundle: { codePath: workflows.workflowBundlePath } }),
  });
  const hostWorker = await Worker.create({ ...common, taskQueue: hostQueue, activities: ours });
  return runnableWorkers(sharedWorker, hostWorker, { taskQueue, hostTaskQueue: hostQueue, staging });
}

function runnableWorkers(
  sharedWorker: Worker,
  hostWorker: Worker,
  parts: Pick<DuoJ1Workers, 'taskQueue' | 'hostTaskQueue' | 'staging'>,
): DuoJ1Workers {
  const workers = [sharedWorker, hostWorker];
  const shutdown = () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  return {
    sharedWorker,
    hostWorker,
    taskQueue: parts.taskQueue,
    hostTaskQueue: parts.hostTaskQueue,
    staging: parts.staging,
    get polling() {
      return workers.every((worker) => worker.getState() === 'RUNNING');
    },
    async run() {
      // When one worker stops or fails, the other stops too: half a duo-j1 worker runs no run.
      const outcomes = await Promise.allSettled(workers.map((worker) => worker.run().finally(shutdown)));
      const failure = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failure) throw failure.reason;
    },
    shutdown,
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
