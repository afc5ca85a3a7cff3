/**
 * The log tail's activities (docs/logs.md): claim a host for the aggregates file, start the file,
 * and fold one page of Duo's authentication log into it. Each fold reads one page at the cursor
 * the tail gives, folds it into the file whose digest the tail gives, and returns the new digest
 * and cursor, which the tail records together in one workflow task. A fold retried after it
 * replaced the file (its worker died before Temporal heard back) recognises its own file by the
 * parent digest and cursor it recorded, and answers what the first attempt would have: the page
 * is never folded twice. Any other file — none, another lineage, one from ahead of a reset — is
 * not trusted: the tail starts the aggregates again from Duo's log.
 */
import { activityInfo, ApplicationFailure, cancellationSignal } from '@temporalio/activity';
import type { DuoAuthenticationLogWindow } from '../duo/client';
import { emptyAggregates, foldAuthenticationEvents } from '../logs/aggregates';
import {
  aggregateFilePath,
  readAggregateFile,
  removeAggregateFile,
  sameCursor,
  writeAggregateFile,
  type StoredAggregateFile,
} from '../logs/aggregate-file';
import { hostTaskQueue } from '../workflows/contract';
import { LOG_AGGREGATES_LOST, type LogCursor, type LogPageFolded } from '../workflows/log-tail-contract';
import { duoClientFor } from './clients';
import { findInstanceOrFail, type ActivityDependencies } from './dependencies';
import { classified } from './failures';

export function createLogActivities(deps: ActivityDependencies) {
  // The file last written or read per instance on this worker: the next fold starts from it
  // instead of reading and parsing megabytes again. Dropped before a fold changes it, so a fold
  // that fails half-way leaves nothing stale behind.
  const latest = new Map<string, StoredAggregateFile>();

  const load = async (instanceId: string): Promise<StoredAggregateFile | undefined> => {
    const cached = latest.get(instanceId);
    if (cached) return cached;
    const stored = await readAggregateFile(aggregateFilePath(deps.config.dataDir, instanceId)).catch((error) => {
      deps.log?.('warn', 'The log aggregates file is damaged; the log tail starts it again', {
        instanceId,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    });
    if (stored) latest.set(instanceId, stored);
    return stored;
  };

  const lost = (instanceId: string, why: string) =>
    ApplicationFailure.create({
      type: LOG_AGGREGATES_LOST,
      message: `The log aggregates of instance "${instanceId}" on this worker ${why}; they are started again from Duo's log.`,
      nonRetryable: true,
    });

  return {
    /** The host queue of the worker that takes this task: the tail's reads go there from now on. */
    async claimLogHost(input: { instanceId: string }): Promise<{ hostTaskQueue: string }> {
      findInstanceOrFail(deps, input.instanceId);
      return { hostTaskQueue: hostTaskQueue(activityInfo().taskQueue, deps.staging.id) };
    },

    /** Starts the aggregates afresh (empty) with reading to begin at `cursor`; returns the file's digest. */
    async startLogAggregates(input: { instanceId: string; cursor: LogCursor }): Promise<{ digest: string }> {
      return classified(async () => {
        findInstanceOrFail(deps, input.instanceId);
        latest.delete(input.instanceId);
        const stored = await writeAggregateFile(aggregateFilePath(deps.config.dataDir, input.instanceId), {
          format: 1,
          instanceId: input.instanceId,
          from: input.cursor.mintime,
          cursor: input.cursor,
          backfilled: false,
          authentication: emptyAggregates(),
        });
        latest.set(input.instanceId, stored);
        return { digest: stored.digest };
      });
    },

    /** Reads one page of the authentication log at `cursor` and folds it into the file named by `digest`. */
    async foldLogPage(input: {
      instanceId: string;
      digest: string;
      cursor: LogCursor;
      lagSeconds: number;
      pageSize: number;
    }): Promise<LogPageFolded> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        const stored = await load(input.instanceId);
        if (!stored) throw lost(input.instanceId, 'are missing');
        if (stored.digest !== input.digest) {
          const parent = stored.file.parent;
          if (parent && parent.digest === input.digest && sameCursor(parent.cursor, input.cursor)) {
            // This page was folded by an earlier attempt whose answer never reached Temporal.
            return {
              digest: stored.digest,
              cursor: stored.file.cursor,
              events: parent.events,
              caughtUp: parent.caughtUp,
            };
          }
          throw lost(input.instanceId, 'are not the ones the log tail recorded');
        }

        const window = windowAt(input.cursor, Date.now() - input.lagSeconds * 1000);
        if (!window) return { digest: stored.digest, cursor: input.cursor, events: 0, caughtUp: true };
        const page = await duoClientFor(deps, instance).authenticationLogPage(window, {
          limit: input.pageSize,
          signal: cancellationSignal(),
        });
        const cursor: LogCursor =
          page.nextOffset === undefined
            ? { mintime: window.maxtime + 1 }
            : { mintime: window.mintime, maxtime: window.maxtime, nextOffset: page.nextOffset };
        const caughtUp = page.nextOffset === undefined;
        if (page.events.length === 0 && stored.file.backfilled) {
          // Nothing to fold: the aggregates stay as they are, under the same digest, and only the
          // cursor moves (a retry reads the same empty window again). Writing megabytes every poll
          // of a quiet tenant would be waste.
          return { digest: stored.digest, cursor, events: 0, caughtUp };
        }

        latest.delete(input.instanceId);
        const authentication = foldAuthenticationEvents(stored.file.authentication, page.events);
        const written = await writeAggregateFile(aggregateFilePath(deps.config.dataDir, input.instanceId), {
          format: 1,
          instanceId: input.instanceId,
          from: stored.file.from,
          cursor,
          backfilled: stored.file.backfilled || caughtUp,
          parent: { digest: input.digest, cursor: input.cursor, events: page.events.length, caughtUp },
          authentication,
        });
        latest.set(input.instanceId, written);
        return { digest: written.digest, cursor, events: page.events.length, caughtUp };
      });
    },

    /** Removes an instance's aggregates (its logs were switched off). */
    async removeLogAggregates(input: { instanceId: string }): Promise<void> {
      latest.delete(input.instanceId);
      await removeAggregateFile(aggregateFilePath(deps.config.dataDir, input.instanceId));
    },
  };
}

/**
 * The window to read at `cursor`: the one being paged through, or a new one from `mintime` to
 * `completeUntil` (where Duo's log is complete); undefined when there is nothing new yet.
 */
function windowAt(cursor: LogCursor, completeUntil: number): DuoAuthenticationLogWindow | undefined {
  if (cursor.nextOffset !== undefined && cursor.maxtime !== undefined) {
    return { mintime: cursor.mintime, maxtime: cursor.maxtime, nextOffset: cursor.nextOffset };
  }
  if (completeUntil < cursor.mintime) return undefined;
  return { mintime: cursor.mintime, maxtime: completeUntil };
}
