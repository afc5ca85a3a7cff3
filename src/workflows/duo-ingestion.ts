/**
 * duoIngestion: one complete read of a Duo account, delivered to JupiterOne or the local graph
 * directory. Orchestration only; every side effect is an activity.
 *
 *   acquire the instance lock ─► claim a worker's staging ─► validate ─► fetch every resource in
 *   parallel ─► build the graph ─► deliver ─► clean up staging ─► release the lock
 *
 * All activities after the claim run on the claiming worker's own task queue, because that worker
 * holds the staged files. If that worker never comes back, or staged inputs turn out to be gone
 * (after a reset, say), the pipeline starts again from the claim on whichever worker is alive.
 *
 * Nothing is made final that was not read and delivered whole (docs/completeness.md): a resource
 * Duo did not list to its end fails and makes its types partial; a delivery short of the objects
 * built is refused, its job aborted, and the pipeline starts over. And nothing is removed while
 * something still writes it: a cancelled or failed run waits for its activities to end before it
 * removes its staging.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  ParentClosePolicy,
  TimeoutFailure,
  isCancellation,
  patched,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
  type ActivityOptions,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { TimeoutType, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { DuoJ1ActivityFunctions } from '../activities';
import { INSTANCE_ID_RULE, isInstanceId } from '../config/instance-id';
import type { RunEnding } from '../jupiterone/job-events';
import { RESOURCE_NAMES as RESOURCES, RESOURCE_TABLE } from '../resources/table';
import { proxyDuoJ1Activities } from './activity-proxies';
import {
  FailureType,
  instanceLockWorkflowId,
  progressQuery,
  lockStateSignal,
  releaseLockSignal,
  type DuoIngestionInput,
  type DuoIngestionProgress,
  type DuoIngestionResult,
  type IngestionTuning,
  type JupiterOneDeliveryReport,
  type LocalDeliveryReport,
  type ResourceName,
  type ResourceOutcome,
} from './contract';
import { duoInstanceLock } from './instance-lock';
import { runKey as stagingKey } from './run-key';

type Activities = DuoJ1ActivityFunctions;

/** Errors after which retrying is pointless: a person has to act. */
const NON_RETRYABLE = [
  FailureType.Configuration,
  FailureType.UnknownInstance,
  FailureType.DuoAuthentication,
  FailureType.DuoPermission,
  FailureType.StagedInputMissing,
];

/** Activities on the shared task queue: quick calls that need no staged files. */
const shared = proxyDuoJ1Activities({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '2s',
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** Thrown inside the pipeline when it must start over (on another worker when its host was lost). */
class PipelineRestart extends Error {
  constructor(
    message: string,
    readonly hostLost: boolean,
  ) {
    super(message);
  }
}

/** Failures after which the pipeline starts over from fetch: what was staged or delivered cannot be trusted. */
const RESTART_FAILURES: readonly string[] = [FailureType.StagedInputMissing, FailureType.DeliveryIncomplete];

function isHostLost(error: unknown): boolean {
  return (
    error instanceof ActivityFailure &&
    error.cause instanceof TimeoutFailure &&
    error.cause.timeoutType === TimeoutType.SCHEDULE_TO_START
  );
}

function failureType(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure || error instanceof ChildWorkflowFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

/** The Duo grant a permission failure names (the fetch activity puts it in the failure's details). */
function missingGrantOf(error: unknown): { missingGrant?: string } {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== FailureType.DuoPermission) return {};
  const grant = (cause.details?.[0] as { grant?: unknown } | undefined)?.grant;
  return typeof grant === 'string' ? { missingGrant: grant } : {};
}

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof TimeoutFailure) return `timed out (${cause.timeoutType ?? 'unknown'})`;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * Re-throws errors that must end the run; a lost host, staged input lost or damaged, and a delivery
 * short of the graph built restart the pipeline.
 */
function classify(error: unknown): never {
  if (isCancellation(error)) throw error;
  if (isHostLost(error)) throw new PipelineRestart(failureMessage(error), true);
  const type = failureType(error);
  if (type && RESTART_FAILURES.includes(type)) throw new PipelineRestart(failureMessage(error), false);
  if (type) throw ApplicationFailure.create({ type, message: failureMessage(error), nonRetryable: true });
  throw error;
}

export async function duoIngestion(input: DuoIngestionInput): Promise<DuoIngestionResult> {
  const instanceId = typeof input?.instanceId === 'string' ? input.instanceId : '';
  if (!isInstanceId(instanceId)) {
    throw ApplicationFailure.nonRetryable(
      `The workflow input must be {"instanceId": "<id>"} with an id of ${INSTANCE_ID_RULE}; got ${JSON.stringify(input)?.slice(0, 200)}`,
      FailureType.Configuration,
    );
  }
  const tuning = input.tuning ?? {};
  const startedAt = Date.now();
  const progress: DuoIngestionProgress = {
    instanceId,
    phase: 'starting',
    attempt: 0,
    resources: Object.fromEntries(RESOURCES.map((r) => [r, { status: 'pending' }])) as Record<
      ResourceName,
      ResourceOutcome
    >,
  };
  setHandler(progressQuery, () => progress);

  progress.phase = 'acquiring';
  const lock = await acquireInstanceLock(instanceId);
  let jobId: string | undefined;
  let hostQueue: string | undefined;
  let runKey: string | undefined;
  const host = (): Activities => proxyDuoJ1Activities(hostActivityOptions(hostQueue!, tuning));

  try {
    const maxRestarts = tuning.maxPipelineRestarts ?? 3;
    for (let attempt = 1; ; attempt += 1) {
      progress.attempt = attempt;
      const durations = { validate: 0, fetch: 0, build: 0, deliver: 0, total: 0 };
      try {
        const claim = await shared.claimStaging();
        hostQueue = claim.hostTaskQueue;
        progress.hostTaskQueue = hostQueue;
        runKey = stagingKey({
          instanceId,
          workflowId: workflowInfo().workflowId,
          runId: workflowInfo().runId,
          attempt,
        });
        await lock.signal(lockStateSignal, { instanceId, hostTaskQueue: hostQueue, runKey });

        progress.phase = 'validating';
        let mark = Date.now();
        // JupiterOne first: a wrong key, account or target ends the run before Duo is read. The job
        // id is chosen here (where the target allows it) so that a retried start finds its job.
        const validation = await host().validateInstance({ instanceId, integrationJobId: uuid4() }).catch(classify);
        if (validation.jobId) {
          jobId = validation.jobId;
          progress.jobId = jobId;
          await lock.signal(lockStateSignal, { instanceId, hostTaskQueue: hostQueue, runKey, jobId });
        }
        durations.validate = Date.now() - mark;

        progress.phase = 'fetching';
        mark = Date.now();
        await fetchEveryResource(instanceId, runKey, hostQueue, tuning, progress);
        durations.fetch = Date.now() - mark;

        progress.phase = 'building';
        mark = Date.now();
        const graph = await host().buildGraph({ instanceId, runKey, outcomes: progress.resources }).catch(classify);
        durations.build = Date.now() - mark;
        const built = { ...graph.entities, ...graph.relationships };

        progress.phase = 'delivering';
        mark = Date.now();
        let delivery: LocalDeliveryReport | JupiterOneDeliveryReport;
        const partialTypes = [...graph.partialTypes];
        if (validation.target === 'jupiterone' && jobId) {
          const upload = await host()
            .uploadGraph({ instanceId, runKey, jobId, built, resources: progress.resources })
            .catch(classify);
          for (const type of upload.rejectedTypes) {
            if (!partialTypes.some((p) => p.type === type))
              partialTypes.push({ type, reason: 'objects rejected by JupiterOne as too large' });
          }
          const finished = await shared
            .finalizeSyncJob({
              instanceId,
              jobId,
              partialTypes,
              built,
              delivered: upload.delivered,
            })
            .catch(classify);
          delivery = { target: 'jupiterone', jobId, uploaded: upload.uploaded, rejected: upload.rejected, ...finished };
          jobId = undefined; // finalized: nothing left to abort
        } else {
          delivery = await host().deliverLocal({ instanceId, runKey, partialTypes, built }).catch(classify);
        }
        durations.deliver = Date.now() - mark;

        progress.phase = 'cleaning-up';
        await host()
          .cleanupStaging({ runKey })
          .catch(() => undefined);
        runKey = undefined;
        durations.total = Date.now() - startedAt;
        progress.phase = 'done';
        return {
          instanceId,
          outcome: partialTypes.length > 0 ? 'partial' : 'success',
          resources: progress.resources,
          entities: graph.entities,
          relationships: graph.relationships,
          partialTypes,
          dropped: graph.dropped,
          durationsMs: durations,
          delivery,
          pipelineAttempts: attempt,
        };
      } catch (error) {
        if (!(error instanceof PipelineRestart) || attempt > maxRestarts) {
          if (error instanceof PipelineRestart) {
            throw ApplicationFailure.nonRetryable(
              `The pipeline started over ${maxRestarts} times and still lost its worker or its staged data, or could not deliver the graph whole: ${error.message}`,
              FailureType.PipelineRestartsExhausted,
            );
          }
          throw error;
        }
        // The worker holding the staged files is gone, or the files are, or they did not deliver
        // whole: start over (elsewhere, when the worker is gone). What this attempt staged goes.
        if (jobId) await abortJob(jobId, `restarting the pipeline: ${error.message}`, 'restarting');
        jobId = undefined;
        progress.jobId = undefined;
        if (!error.hostLost && runKey && hostQueue) await removeStaging(hostQueue, runKey);
        runKey = undefined;
        for (const resource of RESOURCES) progress.resources[resource] = { status: 'pending' };
      }
    }
  } catch (error) {
    progress.phase = 'failed';
    // Cancelled or failed: abort the JupiterOne job and remove staging even while being cancelled.
    await CancellationScope.nonCancellable(async () => {
      if (jobId && isCancellation(error)) await abortJob(jobId, 'run cancelled', 'cancelled');
      else if (jobId) await abortJob(jobId, `run failed: ${failureMessage(error)}`, 'failed');
      if (runKey && hostQueue) await removeStaging(hostQueue, runKey);
    });
    throw error;
  } finally {
    // Wait for the lock to close, so that a run started right after this one finds it free.
    await CancellationScope.nonCancellable(async () => {
      await lock.signal(releaseLockSignal).catch(() => undefined);
      await lock.result().catch(() => undefined);
    });
  }

  async function abortJob(id: string, reason: string, ending: RunEnding): Promise<void> {
    await shared.abortSyncJob({ instanceId, jobId: id, reason, ending }).catch(() => undefined);
  }

  /** Removes an attempt's staging on its host, best effort (a worker sweeps what is left when it starts). */
  async function removeStaging(taskQueue: string, key: string): Promise<void> {
    await proxyDuoJ1Activities({ ...hostActivityOptions(taskQueue, tuning), retry: { maximumAttempts: 2 } })
      .cleanupStaging({ runKey: key })
      .catch(() => undefined);
  }
}

/**
 * Fetches every resource in parallel. A resource that fails for good is recorded as failed (its
 * types become partial); a failure that concerns every resource (bad credentials, a lost host)
 * cancels the other fetches and ends the pipeline. Either way, and when the run is cancelled,
 * this returns only after every fetch activity has ended: they write the run's staging, and
 * nothing may be cleaned up under them.
 */
async function fetchEveryResource(
  instanceId: string,
  runKey: string,
  hostQueue: string,
  tuning: IngestionTuning,
  progress: DuoIngestionProgress,
): Promise<void> {
  const fetches = proxyDuoJ1Activities({
    ...hostActivityOptions(hostQueue, tuning),
    heartbeatTimeout: `${tuning.fetchHeartbeatTimeoutSeconds ?? 10} seconds`,
  });
  const scope = new CancellationScope();
  let runEnding: unknown;
  let cancelled: unknown;
  const fetched = resourcesThisRunReads();
  for (const resource of RESOURCES) {
    progress.resources[resource] = fetched.includes(resource)
      ? { status: 'running' }
      : { status: 'failed', reason: NOT_READ_BY_THIS_RUN };
  }
  await scope.run(() =>
    Promise.all(
      fetched.map(async (resource) => {
        try {
          const summary = await fetches.fetchResource({ instanceId, runKey, resource });
          progress.resources[resource] = { status: 'complete', records: summary.records, pages: summary.pages };
        } catch (error) {
          const type = failureType(error);
          if (isCancellation(error)) {
            cancelled ??= error;
            progress.resources[resource] = { status: 'failed', reason: 'cancelled' };
          } else if (isHostLost(error) || (type !== undefined && RUN_ENDING_FETCH_FAILURES.includes(type))) {
            runEnding ??= error;
            progress.resources[resource] = { status: 'failed', reason: failureMessage(error), errorType: type };
            scope.cancel();
          } else {
            progress.resources[resource] = {
              status: 'failed',
              reason: failureMessage(error),
              errorType: type,
              ...missingGrantOf(error),
            };
          }
        }
      }),
    ),
  );
  if (runEnding !== undefined) classify(runEnding);
  if (cancelled !== undefined) throw cancelled;
}

const NOT_READ_BY_THIS_RUN =
  'not read by this run: it started before this version of duo-j1 read the resource (the next run will)';

/**
 * Every resource of the table, but those introduced after this run started. A resource added to
 * the table is fetched only where `patched()` says the run is new enough: replaying the recorded
 * history of an older run (a deploy while it runs, a replay check) must schedule the very fetches
 * it recorded. Its types are then partial for that run, so JupiterOne keeps what it holds of them.
 */
function resourcesThisRunReads(): ResourceName[] {
  return RESOURCES.filter((resource) => {
    const introducedWith = RESOURCE_TABLE[resource].introducedWith;
    return introducedWith === undefined || patched(introducedWith);
  });
}

/** Fetch failures that concern every resource: they end the pipeline instead of one resource. */
const RUN_ENDING_FETCH_FAILURES: readonly string[] = [
  FailureType.DuoAuthentication,
  FailureType.Configuration,
  FailureType.StagedInputMissing,
];

function hostActivityOptions(taskQueue: string, tuning: IngestionTuning = {}): ActivityOptions {
  return {
    taskQueue,
    // A cancelled run waits until its activities have ended: they write its staging, which the
    // run removes next. They learn of the cancellation through their heartbeats, within seconds.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // The worker that holds the staged files must pick the task up; if it does not come back in
    // time, the run starts over on another worker instead of waiting forever.
    scheduleToStartTimeout: `${tuning.hostScheduleToStartSeconds ?? 300} seconds`,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: `${tuning.heartbeatTimeoutSeconds ?? 60} seconds`,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      maximumAttempts: 12,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  };
}

/**
 * One run per instance at a time, whoever started it and with whatever workflow id: the run starts
 * a lock workflow whose id is derived from the instance. Starting it fails while another run holds
 * it. If this run is terminated, the lock is asked to cancel and cleans up after it.
 */
async function acquireInstanceLock(instanceId: string): Promise<ChildWorkflowHandle<typeof duoInstanceLock>> {
  try {
    // Started outside the run's cancellation scope: cancelling the run must not release the lock
    // before the run has aborted its job; the finally block above releases it.
    return await CancellationScope.nonCancellable(() =>
      startChild(duoInstanceLock, {
        workflowId: instanceLockWorkflowId(instanceId),
        args: [{ instanceId }],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      }),
    );
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw ApplicationFailure.nonRetryable(
        `Instance "${instanceId}" is busy: another run is ingesting it (see workflow ${instanceLockWorkflowId(instanceId)} and its parent). Try again when it finishes.`,
        FailureType.InstanceBusy,
      );
    }
    throw error;
  }
}
