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
import type { DuoAuthenticationLogWindow, DuoClient } from '../duo/client';
import { DuoNotFoundError, DuoPermissionError } from '../duo/errors';
import { emptyAdministrationAggregates, foldActivityEvents, foldAdministratorEvents } from '../logs/administration';
import { administratorPageAt } from '../logs/administrator-paging';
import { emptyAggregates, foldAuthenticationEvents } from '../logs/aggregates';
import { emptyTrustMonitorAggregates, foldTrustMonitorEvents } from '../logs/trust-monitor';
import type { DuoActivityLogEvent, DuoTrustMonitorEvent } from '../duo/types';
import { DUO_LOG_ENDPOINTS } from '../resources/table';
import {
  aggregateFilePath,
  type AdministrationFileSection,
  type AggregateFile,
  readAggregateFile,
  removeAggregateFile,
  sameCursor,
  writeAggregateFile,
  type StoredAggregateFile,
} from '../logs/aggregate-file';
import { hostTaskQueue } from '../workflows/contract';
import {
  LOG_AGGREGATES_LOST,
  type FurtherLogStream,
  type LogCursor,
  type LogPageFolded,
} from '../workflows/log-tail-contract';
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

    /**
     * Reads one page of a log (`stream`, default the authentication log) at `cursor` and folds it
     * into the file named by `digest`.
     */
    async foldLogPage(input: {
      instanceId: string;
      digest: string;
      cursor: LogCursor;
      lagSeconds: number;
      pageSize: number;
      stream?: FurtherLogStream;
    }): Promise<LogPageFolded> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        const stored = await load(input.instanceId);
        if (!stored) throw lost(input.instanceId, 'are missing');
        if (stored.digest !== input.digest) {
          const parent = stored.file.parent;
          if (
            parent &&
            parent.digest === input.digest &&
            parent.stream === input.stream &&
            sameCursor(parent.cursor, input.cursor)
          ) {
            // This page was folded by an earlier attempt whose answer never reached Temporal.
            const cursor =
              input.stream === undefined ? stored.file.cursor : stored.file.administration!.cursors[input.stream]!;
            const refused = input.stream && stored.file.administration?.refused?.[input.stream];
            return {
              digest: stored.digest,
              cursor,
              events: parent.events,
              caughtUp: parent.caughtUp,
              ...(refused ? { refused } : {}),
            };
          }
          throw lost(input.instanceId, 'are not the ones the log tail recorded');
        }
        const completeUntil = Date.now() - input.lagSeconds * 1000;
        const client = duoClientFor(deps, instance);
        const signal = cancellationSignal();
        const write = async (
          file: Omit<AggregateFile, 'format' | 'instanceId' | 'parent'>,
          folded: { cursor: LogCursor; events: number; caughtUp: boolean },
        ): Promise<LogPageFolded> => {
          latest.delete(input.instanceId);
          const written = await writeAggregateFile(aggregateFilePath(deps.config.dataDir, input.instanceId), {
            format: 1,
            instanceId: input.instanceId,
            ...file,
            parent: {
              digest: input.digest,
              cursor: input.cursor,
              ...(input.stream === undefined ? {} : { stream: input.stream }),
              events: folded.events,
              caughtUp: folded.caughtUp,
            },
          });
          latest.set(input.instanceId, written);
          return { digest: written.digest, ...folded };
        };

        if (input.stream !== undefined) {
          return foldAdministrationPage(
            stored,
            input.stream,
            input.cursor,
            completeUntil,
            client,
            signal,
            write,
            (why) => deps.log?.('warn', why, { instanceId: input.instanceId, stream: input.stream }),
          );
        }

        const window = windowAt(input.cursor, completeUntil);
        if (!window) return { digest: stored.digest, cursor: input.cursor, events: 0, caughtUp: true };
        const page = await client.authenticationLogPage(window, { limit: input.pageSize, signal });
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
        return write(
          {
            from: stored.file.from,
            cursor,
            backfilled: stored.file.backfilled || caughtUp,
            authentication: foldAuthenticationEvents(stored.file.authentication, page.events),
            ...(stored.file.administration ? { administration: stored.file.administration } : {}),
          },
          { cursor, events: page.events.length, caughtUp },
        );
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

const LOG_ENDPOINT_OF = {
  administrator: 'administratorLog',
  activity: 'activityLog',
  trustMonitor: 'trustMonitor',
} as const satisfies Record<FurtherLogStream, keyof typeof DUO_LOG_ENDPOINTS>;

// Unconfirmed which editions have which log: Duo's pricing pages list Trust Monitor with Duo
// Advantage and Premier; the activity log is a public preview.
const EDITION_NOTE: Record<FurtherLogStream, string> = {
  administrator: "the account's edition or the application's permissions do not include the administrator log",
  activity: "the account's edition does not include the activity log (a public preview)",
  trustMonitor: "Trust Monitor comes with Duo's Advantage and Premier editions, which this account does not have",
};

/**
 * One page of the administrator or the activity log folded into the file's administration
 * section (started empty at `cursor` the first time). A log Duo does not have for the account's
 * edition (403 or 404) is answered `refused`, and the tail reads the others.
 */
async function foldAdministrationPage(
  stored: StoredAggregateFile,
  stream: FurtherLogStream,
  at: LogCursor,
  completeUntil: number,
  client: DuoClient,
  signal: AbortSignal,
  write: (
    file: Omit<AggregateFile, 'format' | 'instanceId' | 'parent'>,
    folded: { cursor: LogCursor; events: number; caughtUp: boolean },
  ) => Promise<LogPageFolded>,
  warn: (message: string) => void,
): Promise<LogPageFolded> {
  const section: AdministrationFileSection = stored.file.administration ?? {
    from: {},
    cursors: {},
    backfilled: {},
    aggregates: emptyAdministrationAggregates(),
  };
  let page: { events: number; cursor: LogCursor; caughtUp: boolean; fold: () => void };
  try {
    if (stream === 'administrator') {
      const answer = await client.administratorLogPage(Math.floor(at.mintime / 1000), { signal });
      const read = administratorPageAt(at, answer, completeUntil, DUO_LOG_ENDPOINTS.administratorLog.maxPageSize);
      if (read.unreachable) {
        warn(
          `More than ${DUO_LOG_ENDPOINTS.administratorLog.maxPageSize} administrator log events in the second ` +
            `${new Date(read.unreachable.second * 1000).toISOString()}: Duo's paging cannot reach the rest of that second, which is passed over.`,
        );
      }
      page = {
        events: read.events.length,
        cursor: read.cursor,
        caughtUp: read.caughtUp,
        fold: () => foldAdministratorEvents(section.aggregates, read.events),
      };
    } else {
      const window = windowAt(at, completeUntil);
      if (!window) return { digest: stored.digest, cursor: at, events: 0, caughtUp: true };
      const answer =
        stream === 'activity'
          ? await client.activityLogPage(window, { signal })
          : await client.trustMonitorPage(window, { signal });
      page = {
        events: answer.events.length,
        cursor:
          answer.nextOffset === undefined
            ? { mintime: window.maxtime + 1 }
            : { mintime: window.mintime, maxtime: window.maxtime, nextOffset: answer.nextOffset },
        caughtUp: answer.nextOffset === undefined,
        fold: () =>
          stream === 'activity'
            ? foldActivityEvents(section.aggregates, answer.events as DuoActivityLogEvent[])
            : foldTrustMonitorEvents(
                (section.trustMonitor ??= emptyTrustMonitorAggregates()),
                answer.events as DuoTrustMonitorEvent[],
              ),
      };
    }
  } catch (error) {
    if (!(error instanceof DuoPermissionError || error instanceof DuoNotFoundError)) throw error;
    // Recorded in the file too: the build reports what the refused log makes partial, and why.
    const refused = `Duo refused ${DUO_LOG_ENDPOINTS[LOG_ENDPOINT_OF[stream]].path} (${error.status}): ${EDITION_NOTE[stream]}`;
    section.refused = { ...section.refused, [stream]: refused };
    section.cursors[stream] = at;
    const { parent: _parent, format: _format, instanceId: _instanceId, ...file } = stored.file;
    return {
      ...(await write({ ...file, administration: section }, { cursor: at, events: 0, caughtUp: true })),
      refused,
    };
  }
  if (page.events === 0 && section.backfilled[stream]) {
    return { digest: stored.digest, cursor: page.cursor, events: 0, caughtUp: page.caughtUp };
  }
  section.from[stream] ??= Math.floor(at.mintime / 1000) * 1000;
  page.fold();
  section.cursors[stream] = page.cursor;
  section.backfilled[stream] = (section.backfilled[stream] ?? false) || page.caughtUp;
  const { parent: _parent, format: _format, instanceId: _instanceId, ...file } = stored.file;
  return write({ ...file, administration: section }, page);
}
