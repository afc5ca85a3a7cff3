/**
 * `duo-j1 schedule apply|describe|pause|unpause|trigger|delete|list`: the polling schedules, one per
 * configured instance. Secrets are not needed here (they live with the workers), so secret
 * references are not resolved.
 */
import type { Client } from '@temporalio/client';
import { type AppConfig, type InstanceConfig, loadConfig } from '../../config/instances';
import { ConfigurationError } from '../../config/errors';
import { applyLogTails, formatLogTailChanges } from '../../logs/tails';
import {
  ScheduleMissingError,
  type ScheduleListEntry,
  type ScheduleView,
  type TriggerResult,
  applySchedules,
  deleteInstanceSchedule,
  describeInstanceSchedule,
  formatApplyReport,
  formatDuration,
  listDuoJ1Schedules,
  pauseInstanceSchedule,
  triggerInstanceSchedule,
  unpauseInstanceSchedule,
} from '../../schedules';
import { connectClient, resolveTemporalSettings } from '../../worker/connection';
import { scheduleId } from '../../workflows/contract';
import { describePath, describeValue } from '../../util/redact';
import { ExitCode } from '../exit-codes';
import { printJson } from '../output';

export interface ScheduleFlags {
  instances?: string;
  taskQueue?: string;
  address?: string;
  namespace?: string;
  profile?: string;
  json?: boolean;
  instance?: string;
}

function loadScheduleConfig(flags: ScheduleFlags, allowNoInstances = false): AppConfig {
  const env = { ...process.env, ...(flags.taskQueue ? { DUO_J1_TASK_QUEUE: flags.taskQueue } : {}) };
  return loadConfig(env, { instancesFile: flags.instances, checkSecrets: false, allowNoInstances });
}

async function withClient<T>(flags: ScheduleFlags, use: (client: Client) => Promise<T>): Promise<T> {
  const settings = resolveTemporalSettings(flags);
  let client: Client;
  try {
    client = await connectClient(settings);
  } catch (error) {
    throw new Error(
      `Cannot reach Temporal at ${settings.address} (namespace ${settings.namespace}): ${(error as Error).message}. Set TEMPORAL_ADDRESS or --address (and TEMPORAL_NAMESPACE or --namespace, or a --profile).`,
      { cause: error },
    );
  }
  try {
    return await use(client);
  } finally {
    await client.connection.close();
  }
}

/** The instances a command acts on: the one named by --instance, or every configured one. */
function selectInstances(config: AppConfig, instanceId: string | undefined): InstanceConfig[] {
  if (instanceId === undefined) return config.instances;
  const instance = config.instances.find((candidate) => candidate.id === instanceId);
  if (!instance) {
    const known = config.instances.map((candidate) => candidate.id).join(', ') || 'none';
    throw new ConfigurationError([
      {
        setting: '--instance',
        message: `${describeValue(instanceId)} is not a configured instance (configured in ${describePath(config.source)}: ${known})`,
      },
    ]);
  }
  return [instance];
}

interface InstanceOutcome<T> {
  instanceId: string;
  scheduleId: string;
  /** The operation's result, when it ran. */
  value?: T;
  /** `not-scheduled`: a DISABLED instance without a schedule, skipped when acting on every instance. */
  skipped?: 'not-scheduled';
  error?: string;
}

/**
 * Runs an operation for each selected instance, collecting failures instead of stopping at the
 * first. A `DISABLED` instance without a schedule is skipped, unless it was named explicitly.
 */
async function forEachInstance<T>(
  instances: InstanceConfig[],
  explicit: boolean,
  operation: (instance: InstanceConfig) => Promise<T>,
): Promise<InstanceOutcome<T>[]> {
  const outcomes: InstanceOutcome<T>[] = [];
  for (const instance of instances) {
    const base = { instanceId: instance.id, scheduleId: scheduleId(instance.id) };
    try {
      outcomes.push({ ...base, value: await operation(instance) });
    } catch (error) {
      if (error instanceof ScheduleMissingError && instance.pollingInterval === 'DISABLED' && !explicit) {
        outcomes.push({ ...base, skipped: 'not-scheduled' });
      } else {
        outcomes.push({ ...base, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  return outcomes;
}

function exitCodeOf(outcomes: InstanceOutcome<unknown>[]): number {
  return outcomes.some((outcome) => outcome.error !== undefined) ? ExitCode.Failure : ExitCode.Success;
}

function printFailures(outcomes: InstanceOutcome<unknown>[]): void {
  for (const outcome of outcomes) {
    if (outcome.error !== undefined) process.stderr.write(`${outcome.scheduleId}: ${outcome.error}\n`);
    else if (outcome.skipped) console.log(`${outcome.scheduleId}: not scheduled (polling interval DISABLED)`);
  }
}

/** Who did it and when, for the note Temporal shows beside a paused schedule. */
function operatorNote(verb: 'Paused' | 'Unpaused'): string {
  const user = process.env.USER || process.env.USERNAME;
  const command = verb === 'Paused' ? 'pause' : 'unpause';
  return `${verb} with "duo-j1 schedule ${command}"${user ? ` by ${user}` : ''} at ${new Date().toISOString()}`;
}

async function apply(flags: ScheduleFlags): Promise<number> {
  const config = loadScheduleConfig(flags);
  const { report, tails } = await withClient(flags, async (client) => ({
    report: await applySchedules(client, config, { taskQueue: config.taskQueue }),
    tails: await applyLogTails(client, config, { taskQueue: config.taskQueue }),
  }));
  if (flags.json) printJson({ ...report, logTails: tails });
  else {
    console.log(formatApplyReport(report));
    const tailLines = formatLogTailChanges(tails);
    if (tailLines) console.log(tailLines);
  }
  return report.summary.conflict > 0 ? ExitCode.Failure : ExitCode.Success;
}

function formatRun(run: ScheduleView['recentRuns'][number]): string {
  const detail =
    run.outcome ?? (run.failureType ? `${run.failureType}: ${run.failureMessage ?? ''}` : (run.failureMessage ?? ''));
  return `    ${run.takenAt}  ${run.workflowId}  ${run.status}${detail ? `  ${detail}` : ''}`;
}

function formatView(view: ScheduleView): string {
  const lines = [
    `Schedule ${view.scheduleId} (instance ${view.instanceId})`,
    `  when:        ${view.when}`,
    `  state:       ${view.paused ? `PAUSED${view.note ? ` — ${view.note}` : ''}` : 'active'}`,
    `  action:      ${view.workflowType} on task queue ${view.taskQueue}; overlap ${view.overlap}; catch-up window ${formatDuration(view.catchupWindowMs)}`,
    `  next runs:   ${view.paused ? '(paused) ' : ''}${view.nextActionTimes.slice(0, 3).join(', ') || 'none'}`,
    `  running:     ${view.runningWorkflowIds.join(', ') || 'none'}`,
    `  counts:      ${view.actionsTaken} started, ${view.actionsSkippedForOverlap} skipped (a run was in progress), ${view.actionsMissedCatchupWindow} missed (outside the catch-up window)`,
    `  recent runs: ${view.recentRuns.length === 0 ? 'none' : ''}`.trimEnd(),
    ...view.recentRuns.map(formatRun),
  ];
  return lines.join('\n');
}

async function describe(flags: ScheduleFlags): Promise<number> {
  const config = loadScheduleConfig(flags);
  const instances = selectInstances(config, flags.instance);
  const outcomes = await withClient(flags, (client) =>
    forEachInstance(instances, flags.instance !== undefined, (instance) =>
      describeInstanceSchedule(client, instance.id),
    ),
  );
  if (flags.json) printJson(outcomes);
  else {
    for (const outcome of outcomes) if (outcome.value) console.log(formatView(outcome.value));
    printFailures(outcomes);
  }
  return exitCodeOf(outcomes);
}

function stateChange(
  verb: 'Paused' | 'Unpaused',
  act: (client: Client, instanceId: string, note: string) => Promise<void>,
) {
  return async (flags: ScheduleFlags): Promise<number> => {
    const config = loadScheduleConfig(flags);
    const instances = selectInstances(config, flags.instance);
    const note = operatorNote(verb);
    const outcomes = await withClient(flags, (client) =>
      forEachInstance(instances, flags.instance !== undefined, async (instance) => {
        await act(client, instance.id, note);
        return { state: verb.toLowerCase(), note };
      }),
    );
    if (flags.json) printJson(outcomes);
    else {
      for (const outcome of outcomes)
        if (outcome.value) console.log(`${verb.toLowerCase()} ${outcome.scheduleId} (note: ${note})`);
      printFailures(outcomes);
    }
    return exitCodeOf(outcomes);
  };
}

function formatTrigger(result: TriggerResult): string {
  if (result.outcome === 'started') return `triggered ${result.scheduleId}: started run ${result.workflowId}`;
  if (result.outcome === 'skipped') {
    return `triggered ${result.scheduleId}: skipped, a run is in progress (${result.runningWorkflowIds.join(', ')}); the overlap policy is SKIP`;
  }
  return `triggered ${result.scheduleId}: requested; see "duo-j1 schedule describe --instance ${result.instanceId}" for the run`;
}

async function trigger(flags: ScheduleFlags): Promise<number> {
  const config = loadScheduleConfig(flags);
  const instances = selectInstances(config, flags.instance);
  const outcomes = await withClient(flags, (client) =>
    forEachInstance(instances, flags.instance !== undefined, (instance) =>
      triggerInstanceSchedule(client, instance.id),
    ),
  );
  if (flags.json) printJson(outcomes);
  else {
    for (const outcome of outcomes) if (outcome.value) console.log(formatTrigger(outcome.value));
    printFailures(outcomes);
  }
  const failed = exitCodeOf(outcomes);
  if (failed !== ExitCode.Success) return failed;
  // Like `run`: the instance was busy, so nothing new started.
  return outcomes.some((outcome) => outcome.value?.outcome === 'skipped') ? ExitCode.Busy : ExitCode.Success;
}

async function remove(flags: ScheduleFlags): Promise<number> {
  const config = loadScheduleConfig(flags);
  const instances = selectInstances(config, flags.instance);
  const outcomes = await withClient(flags, (client) =>
    forEachInstance(instances, flags.instance !== undefined, async (instance) => ({
      deleted: await deleteInstanceSchedule(client, instance.id),
    })),
  );
  if (flags.json) printJson(outcomes);
  else {
    for (const outcome of outcomes) {
      if (outcome.value?.deleted)
        console.log(`deleted ${outcome.scheduleId} (runs in progress continue; "duo-j1 schedule apply" recreates it)`);
      else if (outcome.value)
        console.log(`${outcome.scheduleId}: no schedule to delete (deleted already or never created)`);
    }
    printFailures(outcomes);
  }
  return exitCodeOf(outcomes);
}

function formatList(entries: ScheduleListEntry[], configuredIds: Set<string>): string {
  if (entries.length === 0) return 'No duo-j1 schedules in this namespace.';
  const rows = entries.map((entry) => [
    entry.scheduleId,
    entry.paused ? 'PAUSED' : 'active',
    entry.nextRunAt ?? '-',
    entry.lastRun ? `${entry.lastRun.takenAt} ${entry.lastRun.workflowId}` : '-',
    `${entry.when}${configuredIds.has(entry.instanceId) ? '' : ' (instance not in this configuration)'}`,
  ]);
  const header = ['SCHEDULE', 'STATE', 'NEXT RUN', 'LAST RUN', 'WHEN'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

async function list(flags: ScheduleFlags): Promise<number> {
  const config = loadScheduleConfig(flags, true);
  const entries = await withClient(flags, (client) => listDuoJ1Schedules(client));
  const configuredIds = new Set(config.instances.map((instance) => instance.id));
  if (flags.json) printJson(entries.map((entry) => ({ ...entry, configured: configuredIds.has(entry.instanceId) })));
  else console.log(formatList(entries, configuredIds));
  return ExitCode.Success;
}

export const scheduleCommands: Record<string, (flags: ScheduleFlags) => Promise<number>> = {
  apply,
  describe,
  pause: stateChange('Paused', pauseInstanceSchedule),
  unpause: stateChange('Unpaused', unpauseInstanceSchedule),
  trigger,
  delete: remove,
  list,
};
