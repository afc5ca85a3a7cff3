/**
 * What operators do with one instance's schedule — describe, pause, unpause, trigger, delete — and
 * the list of every duo-j1 schedule. Each refuses to act on a schedule duo-j1 did not create.
 */
import {
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  ScheduleNotFoundError,
  type ScheduleSpecDescription,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { coordinatorStateQuery, coordinatorWorkflowId } from '../workflows/coordination-contract';
import { type DuoIngestionResult, scheduleId } from '../workflows/contract';
import { describeWhen } from './format';
import { describeIfExists } from './reconcile';
import { duoJ1InstanceOf } from './spec';

/** The instance has no schedule (never applied, `DISABLED`, or deleted). */
export class ScheduleMissingError extends Error {
  constructor(readonly instanceId: string) {
    super(
      `Instance ${instanceId} has no schedule (${scheduleId(instanceId)}): give it a polling interval other than DISABLED and run "duo-j1 schedule apply"`,
    );
    this.name = 'ScheduleMissingError';
  }
}

/** A schedule with the instance's schedule id exists, but duo-j1 did not create it. */
export class ScheduleNotManagedError extends Error {
  constructor(readonly instanceId: string) {
    super(
      `Schedule ${scheduleId(instanceId)} was not created by duo-j1 (it lacks duo-j1's memo marker), so duo-j1 leaves it alone; manage it with the Temporal UI or CLI`,
    );
    this.name = 'ScheduleNotManagedError';
  }
}

export interface OwnedSchedule {
  handle: ScheduleHandle;
  description: ScheduleDescription;
}

/** The instance's schedule, checked to be duo-j1's. */
export async function ownedSchedule(client: Client, instanceId: string): Promise<OwnedSchedule> {
  const handle = client.schedule.getHandle(scheduleId(instanceId));
  const description = await describeIfExists(handle);
  if (!description) throw new ScheduleMissingError(instanceId);
  if (duoJ1InstanceOf(description) !== instanceId) throw new ScheduleNotManagedError(instanceId);
  return { handle, description };
}

export interface RecentRun {
  scheduledAt: string;
  takenAt: string;
  workflowId: string;
  runId: string;
  /** Temporal's execution status (`RUNNING`, `COMPLETED`, `FAILED`, …), or `UNKNOWN` once the run left retention. */
  status: string;
  /** For completed runs: `success` or `partial` (see the run's result). */
  outcome?: DuoIngestionResult['outcome'];
  /** For failed runs: the failure type (`InstanceBusy`, `DuoAuthenticationError`, …) and message. */
  failureType?: string;
  failureMessage?: string;
}

export interface ScheduleView {
  instanceId: string;
  scheduleId: string;
  when: string;
  spec: ScheduleSpecDescription;
  workflowType: string;
  taskQueue: string;
  paused: boolean;
  note?: string;
  overlap: string;
  catchupWindowMs: number;
  nextActionTimes: string[];
  /** Oldest first, as Temporal keeps them (its most recent few). */
  recentRuns: RecentRun[];
  runningWorkflowIds: string[];
  actionsTaken: number;
  actionsSkippedForOverlap: number;
  actionsMissedCatchupWindow: number;
  createdAt: string;
  lastUpdatedAt?: string;
}

/** The status and outcome of one run started by the schedule. */
async function recentRun(
  client: Client,
  action: ScheduleDescription['info']['recentActions'][number],
): Promise<RecentRun> {
  const { workflowId, firstExecutionRunId } = action.action.workflow;
  const run: RecentRun = {
    scheduledAt: action.scheduledAt.toISOString(),
    takenAt: action.takenAt.toISOString(),
    workflowId,
    runId: firstExecutionRunId,
    status: 'UNKNOWN',
  };
  // Scheduled runs get ids of their own (the action time is appended), so the latest run with this
  // id is the one the schedule started, or its continuation.
  const handle = client.workflow.getHandle(workflowId);
  try {
    run.status = (await handle.describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return run;
    throw error;
  }
  if (run.status === 'COMPLETED') {
    const result = (await handle.result()) as DuoIngestionResult | undefined;
    run.outcome = result?.outcome;
  } else if (run.status === 'FAILED') {
    try {
      await handle.result();
    } catch (error) {
      const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
      if (cause instanceof ApplicationFailure) run.failureType = cause.type ?? undefined;
      run.failureMessage = cause?.message ?? (error as Error).message;
    }
  }
  return run;
}

export async function describeInstanceSchedule(client: Client, instanceId: string): Promise<ScheduleView> {
  const { description } = await ownedSchedule(client, instanceId);
  const { info, state, policies, action } = description;
  return {
    instanceId,
    scheduleId: description.scheduleId,
    when: describeWhen(description.spec),
    spec: description.spec,
    workflowType: action.workflowType,
    taskQueue: action.taskQueue,
    paused: state.paused,
    note: state.note || undefined,
    // The server always reports a policy; SKIP is also what it means when it is left unset.
    overlap: policies.overlap ?? 'SKIP',
    catchupWindowMs: policies.catchupWindow,
    nextActionTimes: info.nextActionTimes.map((time) => time.toISOString()),
    recentRuns: await Promise.all(info.recentActions.map((recent) => recentRun(client, recent))),
    runningWorkflowIds: info.runningActions.map((running) => running.workflow.workflowId),
    actionsTaken: info.numActionsTaken,
    actionsSkippedForOverlap: info.numActionsSkippedOverlap,
    actionsMissedCatchupWindow: info.numActionsMissedCatchupWindow,
    createdAt: info.createdAt.toISOString(),
    lastUpdatedAt: info.lastUpdatedAt?.toISOString(),
  };
}

export interface ScheduleListEntry {
  instanceId: string;
  scheduleId: string;
  when: string;
  paused: boolean;
  note?: string;
  nextRunAt?: string;
  lastRun?: { takenAt: string; workflowId: string };
}

/**
 * Every duo-j1 schedule in the namespace, by instance id. Comes from Temporal's visibility store,
 * which is eventually consistent: a change made a moment ago may not show yet.
 */
export async function listDuoJ1Schedules(client: Client): Promise<ScheduleListEntry[]> {
  const entries: ScheduleListEntry[] = [];
  for await (const summary of client.schedule.list()) {
    const instanceId = duoJ1InstanceOf(summary);
    if (instanceId === undefined) continue;
    const last = summary.info.recentActions.at(-1);
    entries.push({
      instanceId,
      scheduleId: summary.scheduleId,
      when: summary.spec ? describeWhen(summary.spec) : 'unknown',
      paused: summary.state.paused,
      note: summary.state.note || undefined,
      nextRunAt: summary.info.nextActionTimes[0]?.toISOString(),
      lastRun: last ? { takenAt: last.takenAt.toISOString(), workflowId: last.action.workflow.workflowId } : undefined,
    });
  }
  return entries.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}

export async function pauseInstanceSchedule(client: Client, instanceId: string, note: string): Promise<void> {
  const { handle } = await ownedSchedule(client, instanceId);
  await handle.pause(note);
}

export async function unpauseInstanceSchedule(client: Client, instanceId: string, note: string): Promise<void> {
  const { handle } = await ownedSchedule(client, instanceId);
  await handle.unpause(note);
}

/**
 * Deletes the instance's schedule. Deleting one that is not there (deleted already, never
 * created, or deleted by someone else meanwhile) succeeds and returns false, so that uninstall
 * scripts may run it twice; a schedule duo-j1 did not create is still refused.
 */
export async function deleteInstanceSchedule(client: Client, instanceId: string): Promise<boolean> {
  let owned: OwnedSchedule;
  try {
    owned = await ownedSchedule(client, instanceId);
  } catch (error) {
    if (error instanceof ScheduleMissingError) return false;
    throw error;
  }
  try {
    await owned.handle.delete();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
  return true;
}

export interface TriggerResult {
  instanceId: string;
  scheduleId: string;
  /**
   * `started`: the schedule started a run (`workflowId`). `skipped`: a run it started earlier is
   * still in progress (`runningWorkflowIds`), so none was started. `requested`: the trigger was
   * accepted but its effect was not visible within the wait.
   */
  outcome: 'started' | 'skipped' | 'requested';
  workflowId?: string;
  runningWorkflowIds: string[];
}

export interface TriggerOptions {
  /** How long to wait for the schedule to show the trigger's effect (default 10 s). */
  waitMs?: number;
  pollIntervalMs?: number;
}

/**
 * The run holding the instance, as its coordinator knows it, when that run is still running;
 * undefined when the instance is free (or no worker answers the question).
 */
export async function runHoldingInstance(
  client: Client,
  instanceId: string,
): Promise<{ workflowId: string; runId: string } | undefined> {
  let holder;
  try {
    holder = (await client.workflow.getHandle(coordinatorWorkflowId(instanceId)).query(coordinatorStateQuery)).holder;
  } catch {
    return undefined;
  }
  if (!holder) return undefined;
  try {
    const status = (await client.workflow.getHandle(holder.workflowId, holder.runId).describe()).status.name;
    return status === 'RUNNING' ? { workflowId: holder.workflowId, runId: holder.runId } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a run now through the schedule with overlap SKIP, so that Temporal itself refuses a second
 * run while one the schedule started is in progress. A run started by other means (`duo-j1 run`,
 * the UI) is unknown to the schedule, so the instance's coordinator is asked first: while such a
 * run holds the instance, the trigger is skipped too, instead of starting a run that would fail
 * `InstanceBusy`.
 */
export async function triggerInstanceSchedule(
  client: Client,
  instanceId: string,
  options: TriggerOptions = {},
): Promise<TriggerResult> {
  const { handle, description: before } = await ownedSchedule(client, instanceId);
  const holder = await runHoldingInstance(client, instanceId);
  const startedBySchedule = before.info.runningActions.some(
    (running) => running.workflow.workflowId === holder?.workflowId,
  );
  if (holder && !startedBySchedule) {
    return {
      instanceId,
      scheduleId: handle.scheduleId,
      outcome: 'skipped',
      runningWorkflowIds: [holder.workflowId],
    };
  }
  const seen = new Set(before.info.recentActions.map((recent) => recent.action.workflow.workflowId));
  const skippedBefore = before.info.numActionsSkippedOverlap;
  await handle.trigger('SKIP');
  const result: TriggerResult = {
    instanceId,
    scheduleId: handle.scheduleId,
    outcome: 'requested',
    runningWorkflowIds: [],
  };
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  for (;;) {
    const after = await handle.describe();
    result.runningWorkflowIds = after.info.runningActions.map((running) => running.workflow.workflowId);
    const started = after.info.recentActions.find((recent) => !seen.has(recent.action.workflow.workflowId));
    if (started) return { ...result, outcome: 'started', workflowId: started.action.workflow.workflowId };
    if (after.info.numActionsSkippedOverlap > skippedBefore) return { ...result, outcome: 'skipped' };
    if (Date.now() >= deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 100));
  }
}
