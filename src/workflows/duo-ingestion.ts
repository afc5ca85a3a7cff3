/**
 * duoIngestion: one complete read of a Duo account, delivered to JupiterOne or the local graph
 * directory. Orchestration only; every side effect is an activity.
 *
 *   check the input and the instance ─► acquire the instance from its coordinator ─► claim a
 *   worker's staging ─► validate ─► fetch every resource in parallel ─► build the graph ─► deliver
 *   ─► clean up staging ─► release the instance
 *
 * The build runs beside the fetch, and a JupiterOne run's build uploads into the job as it goes:
 * at Duo's rate limits, finalizing is then all that is left once the last page is read.
 *
 * All activities after the claim run on the claiming worker's own task queue, because that worker
 * holds the staged files. If that worker never comes back, or staged inputs turn out to be gone,
 * the pipeline starts again from the claim on whichever worker is alive.
 *
 * Nothing is made final that was not read and delivered whole (docs/completeness.md): a resource
 * Duo did not list to its end fails and makes its types partial; a delivery short of the objects
 * built is refused, its job aborted, and the pipeline starts over. And nothing is removed while
 * something still writes it: a cancelled or failed run waits for its activities to end before it
 * removes its staging.
 *
 * Exclusivity and resets (docs/exclusivity.md): the grant names this run by its run id. A reset run
 * replays the grant of the run it replaced; the activities that touch the outside world check the
 * grant against the run they work for and fail `StaleGrant`, and before reporting its result the run
 * checks the grant once more. Either way the run acquires the instance again and starts the
 * pipeline over, so it never uploads into, or reports, the replaced run's delivery.
 *
 * Deadline: from each grant, `tuning.deadlineSeconds`; past it the pipeline is cancelled, the
 * JupiterOne job aborted, the instance freed, and the run fails `RunDeadlineExceeded`.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import type { DuoJ1ActivityFunctions } from '../activities';
import type { RunEnding } from '../jupiterone/job-events';
import { RESOURCE_TABLE } from '../resources/table';
import { failureType, isHostLost } from './activity-failures';
import { proxyDuoJ1Activities } from './activity-proxies';
import type { InstanceGrant } from './coordination-contract';
import {
  BUILD_FOLLOWS_FETCH_PATCH,
  FailureType,
  PROGRESS_QUERY_DESCRIPTION,
  RESOURCES,
  SEARCH_ATTRIBUTES,
  UPLOAD_FOLLOWS_BUILD_PATCH,
  progressQuery,
  type DuoIngestionInput,
  type DuoIngestionProgress,
  type DuoIngestionResult,
  type IngestionTuning,
  type JupiterOneDeliveryReport,
  type LocalDeliveryReport,
  type ResourceName,
  type ResourceOutcome,
  type RunOutcomeLabel,
} from './contract';
import { inputProblems, progressLine, withDefaults, type ValidInput } from './input';
import { runKey as stagingKey } from './run-key';
import { recordRun } from './run-metrics';
import { versionedOnly } from './versioning-behavior';

type Activities = DuoJ1ActivityFunctions;
type GraphSummary = Awaited<ReturnType<Activities['buildGraph']>>;
type UploadSummary = Awaited<ReturnType<Activities['uploadGraph']>>;

/** Errors after which retrying is pointless: a person has to act. */
const NON_RETRYABLE = [
  FailureType.Configuration,
  FailureType.UnknownInstance,
  FailureType.DuoAuthentication,
  FailureType.DuoPermission,
  FailureType.StagedInputMissing,
];

/** Activities on the shared task queue: quick calls that need no staged files. */
const sharedOptions: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '2s',
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};
/** A shared-queue activity with the summary the Temporal UI shows for it. */
function sharedActivity(summary: string): Activities {
  return proxyDuoJ1Activities({ ...sharedOptions, summary });
}

/**
 * Thrown inside the pipeline when it must start over: on another worker when its host was lost
 * (`hostLost`), after acquiring the instance again when the grant is not this run's (`regrant`).
 */
class PipelineRestart extends Error {
  constructor(
    message: string,
    readonly why: { hostLost?: boolean; regrant?: boolean } = {},
  ) {
    super(message);
  }
  get hostLost(): boolean {
    return this.why.hostLost === true;
  }
  get regrant(): boolean {
    return this.why.regrant === true;
  }
}

/** Failures after which the pipeline starts over from fetch: what was staged or delivered cannot be trusted. */
const RESTART_FAILURES: readonly string[] = [FailureType.StagedInputMissing, FailureType.DeliveryIncomplete];

/** An activity in flight when its run was reset fails with this type (Temporal's reset failure). */
const RESET_FAILURE = 'ResetWorkflow';

/** Failures after which the run acquires its instance again, then starts the pipeline over. */
const REGRANT_FAILURES: readonly string[] = [FailureType.StaleGrant, RESET_FAILURE];

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

/** Re-throws errors that must end the run; staged-input loss and a lost host restart the pipeline. */
function classify(error: unknown): never {
  if (isCancellation(error)) throw error;
  if (isHostLost(error)) throw new PipelineRestart(failureMessage(error), { hostLost: true });
  const type = failureType(error);
  if (type && RESTART_FAILURES.includes(type)) throw new PipelineRestart(failureMessage(error));
  if (type && REGRANT_FAILURES.includes(type)) throw new PipelineRestart(failureMessage(error), { regrant: true });
  if (type) throw ApplicationFailure.create({ type, message: failureMessage(error), nonRetryable: true });
  throw error;
}

const instanceIdAttribute = defineSearchAttributeKey(SEARCH_ATTRIBUTES.instanceId, SearchAttributeType.KEYWORD);
const outcomeAttribute = defineSearchAttributeKey(SEARCH_ATTRIBUTES.outcome, SearchAttributeType.KEYWORD);

/** What `DuoOutcome` says about a run that failed. */
function outcomeOfFailure(error: unknown): RunOutcomeLabel {
  if (isCancellation(error)) return 'cancelled';
  const type = failureType(error);
  if (type === FailureType.InstanceBusy) return 'busy';
  if (type === FailureType.DeadlineExceeded) return 'deadline-exceeded';
  return 'failed';
}

// A run finishes on the code it started on (with Worker Versioning on; docs/deploying.md). Only
// a versioned worker may say so: the server refuses a behaviour from an unversioned one.
setWorkflowOptions(() => versionedOnly('PINNED'), duoIngestion);
export async function duoIngestion(input: DuoIngestionInput): Promise<DuoIngestionResult> {
  // The whole input first: a run that cannot run must not take the instance.
  const problems = inputProblems(input);
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `The workflow input is not valid: ${problems.join('; ')}. Example: {"instanceId": "corp", "tuning": {"deadlineSeconds": 7200}}`,
      FailureType.Configuration,
    );
  }
  const valid = withDefaults(input);
  const { instanceId } = valid;
  const progress: DuoIngestionProgress = {
    instanceId,
    phase: 'checking',
    attempt: 0,
    resources: Object.fromEntries(RESOURCES.map((r) => [r, { status: 'pending' }])) as Record<
      ResourceName,
      ResourceOutcome
    >,
  };
  setHandler(progressQuery, () => progress, { description: PROGRESS_QUERY_DESCRIPTION });
  // Runs started from the UI get the same memo as schedule and CLI starts.
  upsertMemo({ instanceId });
  setCurrentDetails(progressLine(progress));

  // The instance must be known here before it is taken; the answer also says whether the
  // namespace has duo-j1's search attributes (upserting an unregistered one would fail every
  // workflow task of the run).
  const check = await sharedActivity('check the instance').checkInstance({ instanceId }).catch(classify);
  const searchable = check.missingSearchAttributes.length === 0;
  if (searchable) upsertSearchAttributes([{ key: instanceIdAttribute, value: instanceId }]);
  else
    log.warn(
      `Search attributes ${check.missingSearchAttributes.join(', ')} are not registered in this namespace: the run is not searchable by instance or outcome. Run "duo-j1 cluster setup".`,
    );
  const label = (outcome: RunOutcomeLabel) => {
    if (searchable) upsertSearchAttributes([{ key: outcomeAttribute, value: outcome }]);
  };

  try {
    const result = await ingestHoldingInstance(valid, progress);
    label(result.outcome);
    recordRun(instanceId, result.outcome, result);
    return result;
  } catch (error) {
    label(outcomeOfFailure(error));
    recordRun(instanceId, outcomeOfFailure(error));
    throw error;
  }
}

/**
 * Acquires the instance, runs the pipeline under the grant's deadline, releases the instance.
 * Acquires again and starts over when the grant turns out not to be this run's.
 */
async function ingestHoldingInstance(
  { instanceId, tuning }: ValidInput,
  progress: DuoIngestionProgress,
): Promise<DuoIngestionResult> {
  const startedAt = Date.now();
  const maxRestarts = tuning.maxPipelineRestarts ?? 3;
  const show = () => setCurrentDetails(progressLine(progress));
  let attempt = 0;
  let restarts = 0;
  const restartOrFail = (error: PipelineRestart) => {
    restarts += 1;
    if (restarts > maxRestarts) {
      throw ApplicationFailure.nonRetryable(
        `The pipeline started over ${maxRestarts} times and still lost its worker, its staged data or its instance, or could not deliver the graph whole: ${error.message}`,
        FailureType.PipelineRestartsExhausted,
      );
    }
    for (const resource of RESOURCES) progress.resources[resource] = { status: 'pending' };
    progress.jobId = undefined;
  };

  for (;;) {
    progress.phase = 'acquiring';
    show();
    const grant = await sharedActivity('acquire the instance')
      .acquireInstance({ instanceId, deadlineSeconds: tuning.deadlineSeconds })
      .catch(classify);
    progress.deadline = new Date(grant.deadline).toISOString();

    // The deadline cancels the pipeline scope; the pipeline's own clean-up (abort the job, remove
    // the staging) runs in non-cancellable scopes, and the instance is released after it.
    const pipeline = new CancellationScope();
    const timer = new CancellationScope();
    let deadlinePassed = false;
    timer
      .run(() => sleep(Math.max(1, grant.deadline - Date.now())))
      .then(
        () => {
          deadlinePassed = true;
          pipeline.cancel();
        },
        () => undefined,
      );

    try {
      const result = await pipeline.run(() =>
        runPipeline({
          instanceId,
          tuning,
          grant,
          progress,
          show,
          startedAt,
          nextAttempt: () => ++attempt,
          restartOrFail,
          deadlinePassed: () => deadlinePassed,
        }),
      );
      timer.cancel();
      progress.phase = 'releasing';
      show();
      await sharedActivity('release the instance').releaseInstance({ grant }).catch(classify);
      // Checked here, in the run's last workflow task, so that a reset to that task (whose copied
      // history holds the replaced run's grant and delivery) starts over instead of reporting them.
      if (grant.runId !== workflowInfo().runId) {
        throw new PipelineRestart('the grant replayed from the run this one replaced is not this run’s', {
          regrant: true,
        });
      }
      progress.phase = 'done';
      show();
      return result;
    } catch (error) {
      timer.cancel();
      if (error instanceof PipelineRestart && error.regrant) {
        restartOrFail(error);
        continue;
      }
      progress.phase = 'failed';
      show();
      await CancellationScope.nonCancellable(() =>
        sharedActivity('release the instance')
          .releaseInstance({ grant })
          .catch(() => undefined),
      );
      if (deadlinePassed) {
        // A deadline that passed on a grant replayed from a replaced run says nothing about this
        // run: acquire the instance and start over.
        if (grant.runId !== workflowInfo().runId) {
          restartOrFail(new PipelineRestart('the replayed grant’s deadline passed', { regrant: true }));
          continue;
        }
        throw ApplicationFailure.nonRetryable(
          `The run passed its deadline of ${tuning.deadlineSeconds} s (at ${progress.deadline}) in phase ${progressPhaseBeforeFailure(error)}: its JupiterOne job was aborted and the instance freed. Raise tuning.deadlineSeconds if runs of this instance need longer.`,
          FailureType.DeadlineExceeded,
        );
      }
      throw error;
    }
  }
}

function progressPhaseBeforeFailure(error: unknown): string {
  return isCancellation(error) ? 'in progress' : failureMessage(error);
}

interface PipelineContext {
  instanceId: string;
  tuning: ValidInput['tuning'];
  grant: InstanceGrant;
  progress: DuoIngestionProgress;
  show: () => void;
  startedAt: number;
  nextAttempt: () => number;
  restartOrFail: (error: PipelineRestart) => void;
  deadlinePassed: () => boolean;
}

/**
 * The pipeline under one grant: starts over on another worker when the host or its staged data is
 * lost; throws `PipelineRestart` with `regrant` when the instance must be acquired again.
 */
async function runPipeline(context: PipelineContext): Promise<DuoIngestionResult> {
  const { instanceId, tuning, grant, progress, show, startedAt } = context;
  let jobId: string | undefined;
  let hostQueue: string | undefined;
  let runKey: string | undefined;
  const host = (summary: string): Activities =>
    proxyDuoJ1Activities({ ...hostActivityOptions(hostQueue!, tuning), summary });

  try {
    for (;;) {
      const attempt = context.nextAttempt();
      progress.attempt = attempt;
      const durations = { validate: 0, fetch: 0, build: 0, deliver: 0, total: 0 };
      try {
        runKey = stagingKey({
          instanceId,
          workflowId: workflowInfo().workflowId,
          runId: workflowInfo().runId,
          attempt,
        });
        const claim = await sharedActivity('claim a worker’s staging').claimStaging({ grant, runKey }).catch(classify);
        hostQueue = claim.hostTaskQueue;
        progress.hostTaskQueue = hostQueue;

        progress.phase = 'validating';
        show();
        let mark = Date.now();
        // JupiterOne first: a wrong key, account or target ends the run before Duo is read. The job
        // id is chosen here (where the target allows it) so that a retried start finds its job.
        const validation = await host('check JupiterOne, then Duo')
          .validateInstance({ instanceId, grant, integrationJobId: uuid4() })
          .catch(classify);
        if (validation.jobId) {
          jobId = validation.jobId;
          progress.jobId = jobId;
        }
        durations.validate = Date.now() - mark;

        progress.phase = 'fetching';
        show();
        mark = Date.now();
        const fetched = startFetching(progress);
        // The graph is built as the fetch stages it, and uploaded into the run's job as it is built.
        // A run recorded before either version builds or uploads once the step before is over, as
        // it did.
        const buildFollows = patched(BUILD_FOLLOWS_FETCH_PATCH);
        const uploadInto =
          buildFollows && validation.target === 'jupiterone' && jobId && patched(UPLOAD_FOLLOWS_BUILD_PATCH)
            ? { jobId, grant }
            : undefined;
        const following = buildFollows
          ? followTheFetch(hostQueue, tuning, {
              instanceId,
              runKey,
              outcomes: { ...progress.resources },
              ...(uploadInto ? { uploadInto } : {}),
            })
          : undefined;
        try {
          await fetchEveryResource(instanceId, runKey, hostQueue, tuning, progress, show, fetched);
        } catch (error) {
          await following?.stop();
          throw error;
        }
        durations.fetch = Date.now() - mark;

        progress.phase = 'building';
        show();
        mark = Date.now();
        const followed = await following?.graphFor(progress.resources);
        const graph =
          followed?.graph ??
          (await host('build the graph')
            .buildGraph({ instanceId, runKey, outcomes: progress.resources })
            .catch(classify));
        const uploadedAsBuilt = followed?.upload;
        if (uploadInto && !uploadedAsBuilt) {
          // The job may hold objects of a graph this run does not deliver (the build it was given
          // to was given up, retried or failed, or uploaded only some of it): the graph goes into a
          // new job.
          await abortJob(uploadInto.jobId, JOB_REPLACED, 'restarting');
          jobId = undefined;
          progress.jobId = undefined;
          const restarted = await host('start a new JupiterOne job')
            .validateInstance({ instanceId, grant, integrationJobId: uuid4(), replacingJobId: uploadInto.jobId })
            .catch(classify);
          jobId = restarted.jobId;
          progress.jobId = jobId;
        }
        durations.build = Date.now() - mark;
        const built = { ...graph.entities, ...graph.relationships };

        progress.phase = 'delivering';
        show();
        mark = Date.now();
        let delivery: LocalDeliveryReport | JupiterOneDeliveryReport;
        const partialTypes = [...graph.partialTypes];
        if (validation.target === 'jupiterone' && jobId) {
          const upload: UploadSummary =
            uploadedAsBuilt ??
            (await host('upload entities, then relationships')
              .uploadGraph({ instanceId, grant, runKey, jobId, built, resources: progress.resources })
              .catch(classify));
          for (const type of upload.rejectedTypes) {
            if (!partialTypes.some((p) => p.type === type))
              partialTypes.push({ type, reason: 'objects rejected by JupiterOne as too large' });
          }
          const finished = await sharedActivity('finalize the JupiterOne job')
            .finalizeSyncJob({
              instanceId,
              grant,
              jobId,
              partialTypes,
              built,
              delivered: upload.delivered,
              ...(uploadedAsBuilt
                ? { uploadedAsBuilt: { resources: progress.resources, uploaded: uploadedAsBuilt.uploaded } }
                : {}),
            })
            .catch(classify);
          delivery = { target: 'jupiterone', jobId, uploaded: upload.uploaded, rejected: upload.rejected, ...finished };
          jobId = undefined; // finalized: nothing left to abort
        } else {
          delivery = await host('write the local graph directory')
            .deliverLocal({ instanceId, grant, runKey, partialTypes, built })
            .catch(classify);
        }
        durations.deliver = Date.now() - mark;

        progress.phase = 'cleaning-up';
        show();
        await host('remove the staged files')
          .cleanupStaging({ runKey })
          .catch(() => undefined);
        runKey = undefined;
        durations.total = Date.now() - startedAt;
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
        if (!(error instanceof PipelineRestart)) throw error;
        // The worker holding the staged files is gone, or the files are, or they did not deliver
        // whole, or the grant is not this run's: start over (elsewhere, when the worker is gone;
        // after acquiring the instance again, when the grant is not this run's). What this
        // attempt staged goes.
        if (jobId) await abortJob(jobId, `restarting the pipeline: ${error.message}`, 'restarting');
        jobId = undefined;
        if (!error.hostLost && runKey && hostQueue) await removeStaging(hostQueue, runKey);
        runKey = undefined;
        if (error.regrant) throw error;
        context.restartOrFail(error);
        show();
      }
    }
  } catch (error) {
    if (error instanceof PipelineRestart) throw error;
    // Cancelled, past the deadline or failed: abort the JupiterOne job and remove staging even
    // while being cancelled.
    await CancellationScope.nonCancellable(async () => {
      if (jobId && context.deadlinePassed()) {
        await abortJob(jobId, `run past its deadline of ${tuning.deadlineSeconds} s`, 'failed');
      } else if (jobId && isCancellation(error)) await abortJob(jobId, 'run cancelled', 'cancelled');
      else if (jobId) await abortJob(jobId, `run failed: ${failureMessage(error)}`, 'failed');
      if (runKey && hostQueue) await removeStaging(hostQueue, runKey);
    });
    throw error;
  }

  async function abortJob(id: string, reason: string, ending: RunEnding): Promise<void> {
    await sharedActivity('abort the JupiterOne job')
      .abortSyncJob({ instanceId, jobId: id, reason, ending })
      .catch(() => undefined);
  }

  /** Removes an attempt's staging on its host, best effort (a worker sweeps what is left when it starts). */
  async function removeStaging(taskQueue: string, key: string): Promise<void> {
    await proxyDuoJ1Activities({
      ...hostActivityOptions(taskQueue, tuning),
      retry: { maximumAttempts: 2 },
      summary: 'remove the staged files',
    })
      .cleanupStaging({ runKey: key })
      .catch(() => undefined);
  }
}

/** Marks every resource the run reads `running` (the others failed: not read); returns those it reads. */
function startFetching(progress: DuoIngestionProgress): ResourceName[] {
  const fetched = resourcesThisRunReads();
  for (const resource of RESOURCES) {
    progress.resources[resource] = fetched.includes(resource)
      ? { status: 'running' }
      : { status: 'failed', reason: NOT_READ_BY_THIS_RUN };
  }
  return fetched;
}

/**
 * Fetches every resource in parallel. A resource that fails for good is recorded as failed (its
 * types become partial); a failure that concerns every resource (bad credentials, a lost host, a
 * grant that is not this run's) cancels the other fetches and ends the pipeline. Either way, and
 * when the run is cancelled, this returns only after every fetch activity has ended: they write
 * the run's staging, and nothing may be cleaned up under them.
 */
async function fetchEveryResource(
  instanceId: string,
  runKey: string,
  hostQueue: string,
  tuning: IngestionTuning,
  progress: DuoIngestionProgress,
  show: () => void,
  fetched: readonly ResourceName[],
): Promise<void> {
  const fetchOf = (resource: ResourceName) =>
    proxyDuoJ1Activities({
      ...hostActivityOptions(hostQueue, tuning),
      heartbeatTimeout: `${tuning.fetchHeartbeatTimeoutSeconds ?? 10} seconds`,
      summary: `fetch ${resource}`,
    });
  const scope = new CancellationScope();
  let runEnding: unknown;
  let cancelled: unknown;
  await scope.run(() =>
    Promise.all(
      fetched.map(async (resource) => {
        try {
          const summary = await fetchOf(resource).fetchResource({ instanceId, runKey, resource });
          progress.resources[resource] = summary.switchedOff
            ? { status: 'off', reason: SWITCHED_OFF }
            : { status: 'complete', records: summary.records, pages: summary.pages };
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
        show();
      }),
    ),
  );
  if (runEnding !== undefined) classify(runEnding);
  if (cancelled !== undefined) throw cancelled;
}

/** Why a run's job is aborted for a new one after its build uploaded into it (the job log's words). */
const JOB_REPLACED =
  'the graph uploaded while it was built is not the graph this run delivers, whole (a resource failed, the build was given up, retried or failed, or its upload failed): it is uploaded into a new job';

/** The build that runs while the fetch goes on, and what the pipeline does with it once the fetch is over. */
interface FollowingBuild {
  /**
   * Its graph, when the fetch ended as it assumed (every resource read complete or switched off),
   * with what it uploaded into the run's job when it uploaded all of it; undefined when the graph
   * must be built now: the fetch ended otherwise (the build is stopped), or the build gave up or
   * failed. A lost host or a reset restarts the pipeline (`classify`); a cancelled run, cancels.
   */
  graphFor(
    outcomes: Record<ResourceName, ResourceOutcome>,
  ): Promise<{ graph: GraphSummary; upload?: UploadSummary } | undefined>;
  /** Stops the build and resolves once its activity has ended (it writes the run's staging). */
  stop(): Promise<void>;
}

/**
 * Starts `buildGraphAsFetched` beside the fetches: each converted page is applied soon after it is
 * staged, in the time the fetch leaves idle, so that, with Duo's rate limit setting the pace, the
 * graph is built moments after the last page is read instead of in the seconds after it.
 */
function followTheFetch(
  hostQueue: string,
  tuning: IngestionTuning,
  input: Parameters<Activities['buildGraphAsFetched']>[0],
): FollowingBuild {
  const options = hostActivityOptions(hostQueue, tuning);
  const activities = proxyDuoJ1Activities({
    ...options,
    summary: 'build the graph as the fetch stages it',
    // A worker of a version without this activity answers `NotFoundError` (during a deploy): the
    // graph is then built after the fetch, without waiting for retries.
    retry: { ...options.retry, nonRetryableErrorTypes: [...NON_RETRYABLE, 'NotFoundError'] },
  });
  const scope = new CancellationScope();
  const settled = scope
    .run(() => activities.buildGraphAsFetched(input))
    .then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
  const stop = async (): Promise<void> => {
    scope.cancel();
    await settled;
  };
  return {
    stop,
    async graphFor(outcomes) {
      // A resource the build waits for failed: its manifest never comes.
      if (RESOURCES.some((r) => input.outcomes[r].status === 'running' && outcomes[r].status === 'failed')) {
        await stop();
        return undefined;
      }
      const ended = await settled;
      if ('error' in ended) {
        // What would end or restart the pipeline after any activity does so here too.
        const type = failureType(ended.error);
        if (isCancellation(ended.error) || isHostLost(ended.error) || (type && REGRANT_FAILURES.includes(type))) {
          classify(ended.error);
        }
        log.warn('The graph is built after the fetch: building it as the fetch staged it failed', {
          error: failureMessage(ended.error),
        });
        return undefined;
      }
      if ('gaveUp' in ended.result) return undefined;
      const { graph, assumed, upload } = ended.result;
      if (!RESOURCES.every((r) => assumed[r] === outcomes[r].status)) return undefined;
      return upload ? { graph, upload } : { graph };
    },
  };
}

const SWITCHED_OFF =
  'switched off in the instance’s configuration (DUO_SOURCES, or "sources" in the instances file): not read, and its types delivered empty';

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
  ...REGRANT_FAILURES,
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
