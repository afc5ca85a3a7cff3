/**
 * duoInstanceCoordinator: grants an instance to one ingestion run at a time and frees it when that
 * run is gone, whatever ended it. Why this shape holds under reset, terminate, cancel, schedules and
 * lost workers is in docs/exclusivity.md; in short:
 *
 *  - It is nobody's child. Runs reach it only through activities (update-with-start with the Temporal
 *    client), so a reset, which reconnects children and skips parent close policies, changes nothing
 *    here.
 *  - A grant names a run by workflow id AND run id. A reset run has a new run id, so the grant it
 *    replays is not its own; the activities that act on the outside world check that.
 *  - It never trusts a holder to say goodbye: when someone else asks for the instance, and every
 *    `holderCheckSeconds` while it is held, it describes the holder, and once the holder is closed it
 *    aborts the holder's JupiterOne job, removes its staging and frees the instance. A holder still
 *    running long past its deadline is terminated.
 *  - Nothing lives forever: idle for `idleSeconds`, it completes; busy for long, it continues as new.
 *
 * All decisions go through one queue (`serially`), so two runs asking at the same moment, or a
 * release crossing a liveness check, are decided one after the other.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { proxyDuoJ1Activities } from './activity-proxies';
import { versionedOnly } from './versioning-behavior';
import {
  acquireUpdate,
  coordinatorStateQuery,
  releaseUpdate,
  reportUpdate,
  type AcquireAnswer,
  type CoordinatorInput,
  type CoordinatorState,
  type HolderCleanup,
  type HolderRequest,
  type InstanceGrant,
} from './coordination-contract';
import { FailureType } from './contract';

/** How long past its deadline a holder may still run before it is terminated. */
const DEADLINE_GRACE_MS = 10 * 60_000;
/** Continue as new after this many events, well before Temporal's suggestion at 4,096. */
const HISTORY_EVENTS_BEFORE_CONTINUE = 2_000;

const temporal = proxyDuoJ1Activities({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
});

// Long-lived: it moves to each new worker version (with Worker Versioning on; docs/deploying.md).
setWorkflowOptions(() => versionedOnly('AUTO_UPGRADE'), duoInstanceCoordinator);
export async function duoInstanceCoordinator(input: CoordinatorInput): Promise<CoordinatorState> {
  const state: CoordinatorState = input.state ?? { instanceId: input.instanceId, grants: 0 };
  const holderCheckMs = (input.holderCheckSeconds ?? 30) * 1000;
  const idleMs = (input.idleSeconds ?? 300) * 1000;
  /** Bumped on every change of holder, so the main loop wakes up. */
  let changes = 0;
  const cleanups: Promise<void>[] = [];

  let queue: Promise<unknown> = Promise.resolve();
  function serially<T>(decide: () => Promise<T>): Promise<T> {
    const decision = queue.then(decide);
    queue = decision.catch(() => undefined);
    return decision;
  }

  function isHolder(request: HolderRequest): boolean {
    const holder = state.holder;
    return (
      holder !== undefined &&
      holder.grantId === request.grantId &&
      holder.workflowId === request.workflowId &&
      holder.runId === request.runId
    );
  }

  function show(): void {
    const holder = state.holder;
    setCurrentDetails(
      holder
        ? `Instance ${state.instanceId} is held by run ${holder.workflowId} (${holder.runId}) since ${new Date(holder.grantedAt).toISOString()}`
        : `Instance ${state.instanceId} is free`,
    );
  }

  function setHolder(holder: CoordinatorState['holder']): void {
    state.holder = holder;
    changes += 1;
    show();
  }

  /**
   * Frees the instance when its holder is closed (or has overstayed its deadline and is ended);
   * true when the instance is free afterwards.
   */
  async function freeIfHolderGone(): Promise<boolean> {
    const holder = state.holder;
    if (!holder) return true;
    const { status } = await temporal.describeRun({ workflowId: holder.workflowId, runId: holder.runId });
    if (status === 'RUNNING') {
      if (Date.now() < holder.deadline + DEADLINE_GRACE_MS) return false;
      await temporal.terminateRun({
        workflowId: holder.workflowId,
        runId: holder.runId,
        reason: `duo-j1: the run is past its deadline (${new Date(holder.deadline).toISOString()}) and did not end itself`,
      });
    }
    setHolder(undefined);
    // The job first, so that nobody's new job meets an open one; the staging at leisure (its host
    // may be gone, and then that host's worker sweeps it when it starts again).
    if (holder.jobId) {
      await temporal
        .abortSyncJob({
          instanceId: state.instanceId,
          jobId: holder.jobId,
          reason: `the run ${holder.workflowId} (${holder.runId}) ended without finishing its job (${status.toLowerCase()})`,
        })
        .catch(() => undefined);
    }
    if (holder.hostTaskQueue && holder.runKey) cleanups.push(removeStaging(holder));
    return true;
  }

  setHandler(coordinatorStateQuery, () => state, {
    description: 'Which run holds the instance (workflow id, run id, deadline), and how many grants were given.',
  });

  setHandler(
    acquireUpdate,
    (request) =>
      serially(async (): Promise<AcquireAnswer> => {
        const holder = state.holder;
        if (holder && holder.workflowId === request.workflowId && holder.runId === request.runId) {
          // The same run asking again (an activity retry, a pipeline restart): same grant.
          return { granted: true, grant: grantOf(holder) };
        }
        if (!(await freeIfHolderGone())) {
          const busy = state.holder!;
          return {
            granted: false,
            holder: { workflowId: busy.workflowId, runId: busy.runId, grantedAt: busy.grantedAt },
          };
        }
        const now = Date.now();
        const grant: InstanceGrant = {
          instanceId: state.instanceId,
          grantId: uuid4(),
          workflowId: request.workflowId,
          runId: request.runId,
          grantedAt: now,
          deadline: now + request.deadlineSeconds * 1000,
        };
        state.grants += 1;
        setHolder(grant);
        return { granted: true, grant };
      }),
    { description: 'Grants the instance to a run, or answers who holds it.' },
  );

  setHandler(
    reportUpdate,
    (request) =>
      serially(async () => {
        if (!isHolder(request)) throw staleGrant(request);
        const cleanup: HolderCleanup = {};
        if (request.hostTaskQueue !== undefined) cleanup.hostTaskQueue = request.hostTaskQueue;
        if (request.runKey !== undefined) cleanup.runKey = request.runKey;
        if (request.jobId !== undefined) cleanup.jobId = request.jobId;
        state.holder = { ...state.holder!, ...cleanup };
      }),
    { description: 'The holder reports what would need cleaning up; fails when the grant is not the holder’s.' },
  );

  setHandler(
    releaseUpdate,
    (request) =>
      serially(async () => {
        if (!isHolder(request)) return false;
        setHolder(undefined);
        return true;
      }),
    { description: 'The holder frees the instance.' },
  );

  show();
  const startedAt = Date.now();
  for (;;) {
    const seen = changes;
    if (state.holder) {
      const changed = await condition(() => changes !== seen, holderCheckMs);
      if (!changed) await serially(freeIfHolderGone);
    } else {
      const changed = await condition(() => changes !== seen || state.holder !== undefined, idleMs);
      if (!changed && !state.holder && allHandlersFinished()) break;
    }
    const info = workflowInfo();
    if (
      info.continueAsNewSuggested ||
      info.historyLength > HISTORY_EVENTS_BEFORE_CONTINUE ||
      Date.now() - startedAt > 12 * 3600_000
    ) {
      await condition(allHandlersFinished);
      await Promise.all(cleanups);
      await continueAsNew<typeof duoInstanceCoordinator>({ ...input, state });
    }
  }
  await Promise.all(cleanups);
  await condition(allHandlersFinished);
  return state;

  async function removeStaging(holder: HolderCleanup): Promise<void> {
    const host = proxyDuoJ1Activities({
      taskQueue: holder.hostTaskQueue,
      scheduleToStartTimeout: '1 minute',
      startToCloseTimeout: '1 minute',
      retry: { maximumAttempts: 2 },
      summary: 'remove the staging of a run that ended',
    });
    await host.cleanupStaging({ runKey: holder.runKey! }).catch(() => undefined);
  }
}

function grantOf(holder: InstanceGrant & HolderCleanup): InstanceGrant {
  const { instanceId, grantId, workflowId, runId, grantedAt, deadline } = holder;
  return { instanceId, grantId, workflowId, runId, grantedAt, deadline };
}

function staleGrant(request: HolderRequest): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `The run ${request.workflowId} (${request.runId}) no longer holds the instance (grant ${request.grantId})`,
    FailureType.StaleGrant,
  );
}
