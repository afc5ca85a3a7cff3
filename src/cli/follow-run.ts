/**
 * Following a run from the command line: the phase comes from the workflow's `progress` query,
 * live per-resource counts from the heartbeat details of its pending fetch activities. On a
 * terminal it is one progress line redrawn in place; otherwise a plain line whenever something
 * changes (and at most every few seconds).
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  FailureType,
  RESOURCES,
  duoJ1ActivityName,
  progressQuery,
  type DuoIngestionProgress,
  type DuoIngestionResult,
  type ResourceOutcome,
} from '../workflows/contract';
import { ExitCode } from './exit-codes';

export type RunOutcome =
  { status: 'completed'; result: DuoIngestionResult } | { status: 'failed'; failureType?: string; message: string };

export interface LiveCounts {
  [resource: string]: { records: number; totalObjects?: number };
}

const FETCH_ACTIVITY = duoJ1ActivityName('fetchResource');

/** What `liveCounts` reads of a pending activity (`describe().raw.pendingActivities`). */
export interface PendingActivityLike {
  activityType?: { name?: string | null } | null;
  heartbeatDetails?: { payloads?: Payload[] | null } | null;
}

/**
 * Live record counts from the heartbeats of a run's pending fetch activities: only a fetch's count
 * what it has read (a build's details name the resource it is applying, with the records applied).
 */
export function fetchCountsOf(pendingActivities: readonly PendingActivityLike[]): LiveCounts {
  const counts: LiveCounts = {};
  for (const activity of pendingActivities) {
    if (activity.activityType?.name !== FETCH_ACTIVITY) continue;
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    try {
      const details = defaultPayloadConverter.fromPayload(payload) as {
        resource?: string;
        records?: number;
        totalObjects?: number;
      };
      if (details.resource && typeof details.records === 'number') {
        counts[details.resource] = { records: details.records, totalObjects: details.totalObjects };
      }
    } catch {
      // Details of another shape (an older worker's): nothing to count.
    }
  }
  return counts;
}

async function liveCounts(handle: WorkflowHandle): Promise<LiveCounts> {
  const description = await handle.describe();
  return fetchCountsOf(description.raw.pendingActivities ?? []);
}

function describeProgress(progress: DuoIngestionProgress, live: LiveCounts): string {
  const resources = RESOURCES.map((resource) => {
    const outcome = progress.resources[resource];
    if (outcome.status === 'complete') return `${resource} ${outcome.records ?? 0}✓`;
    if (outcome.status === 'failed') return `${resource} ✗`;
    if (outcome.status === 'off') return `${resource} off`;
    const now = live[resource];
    if (now) return `${resource} ${now.records}${now.totalObjects ? `/${now.totalObjects}` : ''}`;
    return outcome.status === 'running' ? `${resource} …` : resource;
  });
  const attempt = progress.attempt > 1 ? ` (attempt ${progress.attempt})` : '';
  return `[${progress.instanceId}] ${progress.phase}${attempt}: ${resources.join(' · ')}`;
}

/** Follows a started run until it closes; returns its result or its failure. */
export async function followRun(
  handle: WorkflowHandle,
  options: { quiet?: boolean; out?: NodeJS.WriteStream } = {},
): Promise<RunOutcome> {
  const out = options.out ?? process.stderr;
  const tty = Boolean(out.isTTY);
  let last = '';
  let lastPrinted = 0;
  let done = false;
  const result = handle.result().finally(() => (done = true));
  const poll = async () => {
    while (!done) {
      try {
        const [progress, live] = await Promise.all([handle.query(progressQuery), liveCounts(handle)]);
        const line = describeProgress(progress, live);
        if (!options.quiet && line !== last) {
          if (tty) out.write(`\r\x1b[2K${line.slice(0, (out.columns ?? 120) - 1)}`);
          else if (Date.now() - lastPrinted > 3000 || progress.phase !== last.split(':')[0]) {
            out.write(`${line}\n`);
            lastPrinted = Date.now();
          }
          last = line;
        }
      } catch {
        // No worker has answered the query yet, or the run just closed.
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const polling = poll();
  try {
    const value = (await result) as DuoIngestionResult;
    return { status: 'completed', result: value };
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      const cause = error.cause;
      const failureType = cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
      return { status: 'failed', failureType, message: cause?.message ?? error.message };
    }
    throw error;
  } finally {
    await polling;
    if (tty && !options.quiet && last) out.write('\n');
  }
}

export function exitCodeOf(outcome: RunOutcome): ExitCode {
  if (outcome.status === 'completed') return outcome.result.outcome === 'partial' ? ExitCode.Partial : ExitCode.Success;
  return outcome.failureType === FailureType.InstanceBusy ? ExitCode.Busy : ExitCode.Failure;
}

/** The readable summary of a finished run. */
function outcomeInWords(outcome: ResourceOutcome): string {
  if (outcome.status === 'complete') return String(outcome.records ?? 0);
  return outcome.status === 'off' ? 'off' : 'FAILED';
}

export function formatRunSummary(outcome: RunOutcome): string {
  if (outcome.status === 'failed')
    return `Run failed${outcome.failureType ? ` (${outcome.failureType})` : ''}: ${outcome.message}`;
  const { result } = outcome;
  const lines: string[] = [];
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);
  lines.push(
    `Instance ${result.instanceId}: ${result.outcome === 'success' ? 'delivered' : 'delivered, with partial data'} — ` +
      `${total(result.entities).toLocaleString('en-US')} entities, ${total(result.relationships).toLocaleString('en-US')} relationships ` +
      `in ${(result.durationsMs.total / 1000).toFixed(1)} s (fetch ${(result.durationsMs.fetch / 1000).toFixed(1)} s, ` +
      `build ${(result.durationsMs.build / 1000).toFixed(1)} s, deliver ${(result.durationsMs.deliver / 1000).toFixed(1)} s)`,
  );
  lines.push(`  resources: ${RESOURCES.map((r) => `${r} ${outcomeInWords(result.resources[r])}`).join(', ')}`);
  for (const resource of RESOURCES) {
    const outcomeOf = result.resources[resource];
    if (outcomeOf.status === 'failed') lines.push(`  ! ${resource}: ${outcomeOf.reason}`);
  }
  if (result.partialTypes.length > 0) {
    lines.push(`  partial types (their previous data is kept): ${result.partialTypes.map((p) => p.type).join(', ')}`);
  }
  if (result.dropped.count > 0) {
    lines.push(
      `  dropped as invalid: ${result.dropped.count} (e.g. ${result.dropped.examples
        .slice(0, 3)
        .map((e) => `${e.key}: ${e.error}`)
        .join('; ')})`,
    );
  }
  const delivery = result.delivery;
  if (delivery.target === 'local') {
    lines.push(`  output folder: ${delivery.outputDir}`);
    lines.push(`  HTML picture:  ${delivery.graphHtml}`);
    lines.push(`  change report: ${delivery.changesFile}`);
    lines.push(
      `  changes: ${delivery.changes.created} created, ${delivery.changes.updated} updated, ${delivery.changes.deleted} deleted`,
    );
    lines.push(...delivery.changeSummary.split('\n').map((line) => `    ${line}`));
  } else {
    lines.push(`  JupiterOne job ${delivery.jobId}: ${delivery.status}`);
    lines.push(
      `  uploaded ${delivery.uploaded.entities} entities and ${delivery.uploaded.relationships} relationships in ${delivery.uploaded.batches} batches`,
    );
    const c = (x: { created: number; updated: number; deleted: number }) =>
      `${x.created} created, ${x.updated} updated, ${x.deleted} deleted`;
    lines.push(
      `  entities: ${c(delivery.entities)}; relationships: ${c(delivery.relationships)}; mapped: ${c(delivery.mappedRelationships)}`,
    );
  }
  return lines.join('\n');
}
