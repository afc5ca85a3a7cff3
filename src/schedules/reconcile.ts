/**
 * `schedule apply`: makes the schedules in Temporal match the configured instances.
 *
 *  - an instance with a polling interval gets its schedule created, or updated when its spec,
 *    action or policies differ (compared in canonical form, so an unchanged configuration sends no
 *    update at all and applying twice changes nothing);
 *  - an update keeps the schedule's state: a paused schedule stays paused, with its note;
 *  - a `DISABLED` instance, or one no longer configured, loses its schedule.
 *
 * Only duo-j1's own schedules are ever updated or deleted: those with the `duo-ingestion-` id prefix
 * AND the duo-j1 memo marker. Removed instances are found by listing the namespace's schedules,
 * and only those starting runs on this configuration's task queue are deleted, so deployments (or
 * test suites) sharing a namespace with their own task queues never delete each other's. Listing is
 * eventually consistent: a schedule created moments ago may only be seen by the next apply.
 */
import {
  type Client,
  type ScheduleDescription,
  ScheduleAlreadyRunning,
  type ScheduleHandle,
  ScheduleNotFoundError,
  type ScheduleOptions,
} from '@temporalio/client';
import type { AppConfig, InstanceConfig, PollingInterval } from '../config/instances';
import { scheduleId } from '../workflows/contract';
import { scheduleDifferences } from './compare';
import { describeWhen } from './format';
import { duoJ1InstanceOf, scheduleOptionsFor } from './spec';

export const APPLY_OUTCOMES = ['created', 'updated', 'unchanged', 'deleted', 'not-scheduled', 'conflict'] as const;
/**
 * `not-scheduled`: a `DISABLED` instance with no duo-j1 schedule, nothing to do.
 * `conflict`: a schedule with the instance's schedule id exists but is not duo-j1's; left alone.
 */
export type ApplyOutcome = (typeof APPLY_OUTCOMES)[number];

export interface ScheduleApplyResult {
  instanceId: string;
  scheduleId: string;
  outcome: ApplyOutcome;
  /** Absent for a schedule whose instance is no longer configured. */
  pollingInterval?: PollingInterval;
  /** When the schedule fires, in words. */
  when?: string;
  /** For `updated`: what differed (`spec.intervals`, `action.taskQueue`, …). */
  changes?: string[];
  /** For schedules that exist after apply: whether they are paused (apply never changes it). */
  paused?: boolean;
  reason?: string;
}

export interface ScheduleApplyReport {
  taskQueue: string;
  summary: Record<ApplyOutcome, number>;
  results: ScheduleApplyResult[];
}

export interface ApplyOptions {
  /** Task queue scheduled runs start on. Default: the configuration's. */
  taskQueue?: string;
  /** See `ScheduleBuildOptions.offsetSeed`. */
  offsetSeed?: string;
}

/** The description of a schedule, or undefined when there is none with this id. */
export async function describeIfExists(handle: ScheduleHandle): Promise<ScheduleDescription | undefined> {
  try {
    return await handle.describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}

function isOwned(description: ScheduleDescription): boolean {
  return duoJ1InstanceOf(description) !== undefined;
}

const NOT_OURS = 'a schedule with this id exists but was not created by duo-j1; it was left alone';

async function disableInstance(client: Client, instance: InstanceConfig): Promise<ScheduleApplyResult> {
  const id = scheduleId(instance.id);
  const base = { instanceId: instance.id, scheduleId: id, pollingInterval: instance.pollingInterval };
  const handle = client.schedule.getHandle(id);
  const existing = await describeIfExists(handle);
  if (!existing) return { ...base, outcome: 'not-scheduled' };
  if (!isOwned(existing)) return { ...base, outcome: 'not-scheduled', reason: NOT_OURS };
  await handle.delete();
  return { ...base, outcome: 'deleted', reason: 'its polling interval is DISABLED' };
}

async function convergeInstance(
  client: Client,
  instance: InstanceConfig,
  wanted: ScheduleOptions,
): Promise<ScheduleApplyResult> {
  const base = {
    instanceId: instance.id,
    scheduleId: wanted.scheduleId,
    pollingInterval: instance.pollingInterval,
    when: describeWhen(wanted.spec),
  };
  const handle = client.schedule.getHandle(wanted.scheduleId);
  let existing = await describeIfExists(handle);
  if (!existing) {
    try {
      await client.schedule.create(wanted);
      return { ...base, outcome: 'created', paused: false };
    } catch (error) {
      // Another apply created it in the meantime: converge to it like any existing schedule.
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      existing = await handle.describe();
    }
  }
  if (!isOwned(existing)) {
    return { ...base, outcome: 'conflict', reason: `${NOT_OURS}; delete or rename it, then apply again` };
  }
  const changes = scheduleDifferences(wanted, existing);
  if (changes.length === 0) return { ...base, outcome: 'unchanged', paused: existing.state.paused };
  let paused = existing.state.paused;
  await handle.update((previous) => {
    paused = previous.state.paused;
    return {
      spec: wanted.spec,
      action: wanted.action,
      policies: wanted.policies,
      // The state belongs to operators: keep pause, note and any limit on remaining runs.
      state: {
        paused: previous.state.paused,
        note: previous.state.note,
        remainingActions: previous.state.remainingActions,
      },
    };
  });
  return { ...base, outcome: 'updated', changes, paused };
}

/** duo-j1 schedules on `taskQueue` whose instance is not in `configuredIds`. */
async function schedulesOfRemovedInstances(
  client: Client,
  configuredIds: Set<string>,
  taskQueue: string,
): Promise<ScheduleDescription[]> {
  const candidates: string[] = [];
  for await (const summary of client.schedule.list()) {
    const instanceId = duoJ1InstanceOf(summary);
    if (instanceId !== undefined && !configuredIds.has(instanceId)) candidates.push(summary.scheduleId);
  }
  const removed: ScheduleDescription[] = [];
  for (const id of candidates) {
    // The listing does not say which task queue a schedule starts runs on; the description does.
    const description = await describeIfExists(client.schedule.getHandle(id));
    if (description && isOwned(description) && description.action.taskQueue === taskQueue) removed.push(description);
  }
  return removed;
}

export function summarise(results: ScheduleApplyResult[]): Record<ApplyOutcome, number> {
  const summary = Object.fromEntries(APPLY_OUTCOMES.map((outcome) => [outcome, 0])) as Record<ApplyOutcome, number>;
  for (const result of results) summary[result.outcome] += 1;
  return summary;
}

/** Reconciles the namespace's duo-j1 schedules with the configuration; see the module comment. */
export async function applySchedules(
  client: Client,
  config: AppConfig,
  options: ApplyOptions = {},
): Promise<ScheduleApplyReport> {
  const taskQueue = options.taskQueue ?? config.taskQueue;
  // Build every definition first: a configuration that cannot be scheduled changes nothing.
  const plans = config.instances.map((instance) => ({
    instance,
    wanted:
      instance.pollingInterval === 'DISABLED'
        ? undefined
        : scheduleOptionsFor(instance, { taskQueue, offsetSeed: options.offsetSeed }),
  }));
  const results = await Promise.all(
    plans.map(({ instance, wanted }) =>
      wanted ? convergeInstance(client, instance, wanted) : disableInstance(client, instance),
    ),
  );
  const configuredIds = new Set(config.instances.map((instance) => instance.id));
  for (const description of await schedulesOfRemovedInstances(client, configuredIds, taskQueue)) {
    try {
      await client.schedule.getHandle(description.scheduleId).delete();
    } catch (error) {
      // Deleted by someone else since it was listed: the outcome is the same.
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    results.push({
      instanceId: duoJ1InstanceOf(description) ?? description.scheduleId,
      scheduleId: description.scheduleId,
      outcome: 'deleted',
      when: describeWhen(description.spec),
      reason: 'its instance is no longer configured',
    });
  }
  return { taskQueue, summary: summarise(results), results };
}
