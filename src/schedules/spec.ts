/**
 * The polling schedule of an instance, as a Temporal Schedule: pure functions from an instance's
 * configuration to the `ScheduleOptions` that `schedule apply` creates or converges to.
 *
 * One schedule per instance, id `duo-ingestion-<instanceId>`, starting `duoIngestion` with
 * `[{ instanceId }]`. Polling intervals map to times like this (all UTC):
 *
 *  - `THIRTY_MINUTES` … `TWELVE_HOURS`: an interval aligned to the Unix epoch, shifted by a
 *    per-instance offset of whole minutes within the interval (a hash of the instance id), so that
 *    instances sharing an interval do not all call Duo at the same instant.
 *  - `ONE_DAY`: every day at the instance's `schedule.hour` (default 02 UTC).
 *  - `ONE_WEEK`: every week on the instance's `schedule.dayOfWeek` (default Sunday) at that hour.
 *    Both also get a per-instance minute offset within that hour, for the same reason.
 *  - `DISABLED`: no schedule.
 */
import { createHash } from 'node:crypto';
import type { CalendarSpec, IntervalSpec, ScheduleOptions, ScheduleSpec } from '@temporalio/client';
import type { InstanceConfig, PollingInterval } from '../config/instances';
import {
  type DuoIngestionInput,
  EXECUTION_TIMEOUT_BACKSTOP_SECONDS,
  WORKFLOW_TYPE,
  ingestionWorkflowId,
  scheduleId,
} from '../workflows/contract';

/** Every duo-j1 schedule id starts with this (see `scheduleId` in the workflow contract). */
export const SCHEDULE_ID_PREFIX = scheduleId('');

/**
 * Schedule memo marking a schedule as duo-j1's. Together with the id prefix it is how `apply`
 * recognises the schedules it may update or delete: a schedule someone created by hand with a
 * similar id carries no such memo and is never touched. (A schedule's own memo cannot be changed
 * after creation, which suits a marker.)
 */
export const MANAGED_BY = 'duo-j1';

export interface ScheduleMemo {
  managedBy: typeof MANAGED_BY;
  instanceId: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** Interval of each interval-based polling preset. */
export const INTERVAL_MS: Partial<Record<PollingInterval, number>> = {
  THIRTY_MINUTES: 30 * MINUTE_MS,
  ONE_HOUR: HOUR_MS,
  FOUR_HOURS: 4 * HOUR_MS,
  EIGHT_HOURS: 8 * HOUR_MS,
  TWELVE_HOURS: 12 * HOUR_MS,
};

/** Temporal refuses a catch-up window under 10 seconds. */
const MINIMUM_CATCHUP_WINDOW_MS = 10_000;

export interface ScheduleBuildOptions {
  /**
   * Mixed into the hash that spreads instances, so that two deployments sharing a Duo account's
   * rate budget can shift all of one's offsets away from the other's. Default: none.
   */
  offsetSeed?: string;
  /**
   * Replaces the instance's polling interval with this one (whole seconds, at least 1 s). Only for
   * tests and demonstrations that need a schedule to fire within seconds: users choose among the
   * `POLLING_INTERVALS` presets.
   */
  intervalOverrideMs?: number;
}

/** A number in [0, 2^32) derived from the instance id (and seed): the same on every machine and run. */
export function instanceHash(instanceId: string, offsetSeed = ''): number {
  return createHash('sha256').update(`${offsetSeed}\u0000${instanceId}`).digest().readUInt32BE(0);
}

/** Minute within the hour (0–59) at which a daily or weekly run of this instance starts. */
export function minuteOffset(instanceId: string, offsetSeed?: string): number {
  return instanceHash(instanceId, offsetSeed) % 60;
}

/**
 * Offset of an interval schedule: whole minutes within the interval (whole seconds when the
 * interval is shorter than two minutes, so a short test interval still spreads).
 */
export function intervalOffsetMs(instanceId: string, everyMs: number, offsetSeed?: string): number {
  const unit = everyMs >= 2 * MINUTE_MS ? MINUTE_MS : 1000;
  const slots = Math.max(1, Math.floor(everyMs / unit));
  return (instanceHash(instanceId, offsetSeed) % slots) * unit;
}

function twoDigits(value: number): string {
  return String(value).padStart(2, '0');
}

function checkIntervalOverride(everyMs: number): void {
  if (!Number.isInteger(everyMs) || everyMs < 1000 || everyMs % 1000 !== 0) {
    throw new RangeError(`intervalOverrideMs must be a whole number of seconds of at least 1000 ms, not ${everyMs}`);
  }
}

/** When the instance's runs happen; throws for `DISABLED`, which has no schedule. */
export function scheduleSpecFor(instance: InstanceConfig, options: ScheduleBuildOptions = {}): ScheduleSpec {
  const { offsetSeed, intervalOverrideMs } = options;
  if (intervalOverrideMs !== undefined) {
    checkIntervalOverride(intervalOverrideMs);
    return {
      intervals: [{ every: intervalOverrideMs, offset: intervalOffsetMs(instance.id, intervalOverrideMs, offsetSeed) }],
    };
  }
  const interval = instance.pollingInterval;
  const everyMs = INTERVAL_MS[interval];
  if (everyMs !== undefined) {
    const spec: IntervalSpec = { every: everyMs, offset: intervalOffsetMs(instance.id, everyMs, offsetSeed) };
    return { intervals: [spec] };
  }
  const minute = minuteOffset(instance.id, offsetSeed);
  const at = `${twoDigits(instance.schedule.hour)}:${twoDigits(minute)} UTC`;
  if (interval === 'ONE_DAY') {
    const calendar: CalendarSpec = {
      hour: instance.schedule.hour,
      minute,
      comment: `duo-j1 ONE_DAY: every day at ${at}`,
    };
    return { calendars: [calendar] };
  }
  if (interval === 'ONE_WEEK') {
    const day = instance.schedule.dayOfWeek;
    const calendar: CalendarSpec = {
      dayOfWeek: day,
      hour: instance.schedule.hour,
      minute,
      comment: `duo-j1 ONE_WEEK: every ${day} at ${at}`,
    };
    return { calendars: [calendar] };
  }
  throw new RangeError(`Instance ${instance.id} has polling interval ${interval}: it has no schedule`);
}

/**
 * How late a missed run may still start after the Temporal server was unavailable: the interval,
 * capped at one hour (and at least Temporal's 10-second minimum).
 *
 * Why not Temporal's default of one year: after an outage every instance would catch up at the
 * same moment, undoing the per-instance offsets and drawing on the Duo rate budget all at once.
 * Why not longer than the interval: a window of one interval makes at most one missed run
 * eligible, and the overlap policy (SKIP) drops the rest anyway. Why at most an hour: a daily or
 * weekly run missed by more than that waits for its next slot rather than firing at an arbitrary
 * hour (operators can always `schedule trigger` it).
 */
export function catchupWindowMs(instance: InstanceConfig, options: ScheduleBuildOptions = {}): number {
  const everyMs = options.intervalOverrideMs ?? INTERVAL_MS[instance.pollingInterval] ?? Number.POSITIVE_INFINITY;
  return Math.max(MINIMUM_CATCHUP_WINDOW_MS, Math.min(everyMs, HOUR_MS));
}

export interface InstanceScheduleOptions extends ScheduleBuildOptions {
  /** Task queue the scheduled runs are started on (the workers' shared queue). */
  taskQueue: string;
}

/** The complete definition of an instance's schedule, as `client.schedule.create` takes it. */
export function scheduleOptionsFor(instance: InstanceConfig, options: InstanceScheduleOptions): ScheduleOptions {
  const input: DuoIngestionInput = { instanceId: instance.id };
  const memo: ScheduleMemo = { managedBy: MANAGED_BY, instanceId: instance.id };
  return {
    scheduleId: scheduleId(instance.id),
    spec: scheduleSpecFor(instance, options),
    action: {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPE,
      taskQueue: options.taskQueue,
      // Temporal appends each action's timestamp to this id, so every scheduled run has its own.
      workflowId: ingestionWorkflowId(instance.id),
      args: [input],
      memo: { instanceId: instance.id },
      // A backstop behind the run's own deadline: with overlap SKIP, a run that never ended would
      // silently skip every later tick.
      workflowExecutionTimeout: EXECUTION_TIMEOUT_BACKSTOP_SECONDS * 1000,
    },
    policies: {
      // A run still in progress when the next one is due (a large tenant, a slow JupiterOne job)
      // simply lets that one go: the following run reads everything again anyway.
      overlap: 'SKIP',
      catchupWindow: catchupWindowMs(instance, options),
      // A failed run (Duo down, credentials rotated) must not silence the schedule: the next run
      // may well succeed, and failures are visible in the runs themselves.
      pauseOnFailure: false,
    },
    memo: { ...memo },
  };
}

/** Whether a schedule (its id and memo) is one duo-j1 created, and for which instance. */
export function duoJ1InstanceOf(schedule: { scheduleId: string; memo?: Record<string, unknown> }): string | undefined {
  if (!schedule.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) return undefined;
  const memo = schedule.memo ?? {};
  const instanceId = schedule.scheduleId.slice(SCHEDULE_ID_PREFIX.length);
  return memo.managedBy === MANAGED_BY && memo.instanceId === instanceId ? instanceId : undefined;
}
