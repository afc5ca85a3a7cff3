/**
 * duoLogTail: reads an instance's Duo authentication log, page by page, for as long as its logs are
 * switched on, and keeps its aggregates (docs/logs.md). Orchestration only.
 *
 *   claim a host ─► start the aggregates at now − backfill ─► fold a page ─► … ─► caught up: wait
 *   ─► fold the next pages ─► … (continue as new now and then; stop on the `stop` signal)
 *
 * Exactly once: the cursor lives in this workflow's state and moves only with the digest of the
 * aggregates file the page was folded into, both taken from one activity result in one workflow
 * task. A worker lost after folding is recognised by the retried fold (activities/logs.ts); a reset
 * replays the state of its reset point, whose digest then no longer names the file on disk, and
 * the aggregates are started again from Duo's log, as after a lost host. Nothing is counted twice,
 * nothing skipped.
 */
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { failureType, isHostLost } from './activity-failures';
import { proxyDuoJ1Activities } from './activity-proxies';
import { versionedOnly } from './versioning-behavior';
import { FailureType } from './contract';
import {
  ADMINISTRATION_LOGS_PATCH,
  FURTHER_LOG_STREAMS,
  LOG_AGGREGATES_LOST,
  logTailStateQuery,
  stopLogTailSignal,
  type DuoLogTailInput,
  type LogCursor,
  type LogStream,
  type LogTailState,
} from './log-tail-contract';

const DAY_MS = 24 * 3600_000;
/** Continue as new after this many events: far below Temporal's limits, and quick to replay. */
const HISTORY_EVENTS_BEFORE_CONTINUE = 2_000;

/** Failures no retry can fix: a person has to act (credentials, grants, configuration). */
const NON_RETRYABLE = [
  FailureType.Configuration,
  FailureType.UnknownInstance,
  FailureType.DuoAuthentication,
  FailureType.DuoPermission,
  LOG_AGGREGATES_LOST,
];

const shared = proxyDuoJ1Activities({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
});

// Long-lived, like the coordinator: it moves to each new worker version (with Worker Versioning on;
// docs/deploying.md), so a change to it goes behind `patched()`.
setWorkflowOptions(() => versionedOnly('AUTO_UPGRADE'), duoLogTail);
export async function duoLogTail(input: DuoLogTailInput): Promise<LogTailState> {
  const { instanceId } = input;
  if (typeof instanceId !== 'string' || instanceId === '') {
    throw ApplicationFailure.nonRetryable(
      'The workflow input needs an instanceId, e.g. {"instanceId": "corp"}.',
      FailureType.Configuration,
    );
  }
  const tuning = input.tuning ?? {};
  const lagSeconds = tuning.lagSeconds ?? 180;
  const pollMs = (tuning.pollSeconds ?? 60) * 1000;
  const pageSize = tuning.pageSize ?? 1000;
  const backfillDays = input.backfillDays ?? 30;
  const state: LogTailState = input.state ?? { pages: 0, events: 0, rebuilds: 0 };
  // Tails started before the administrators' logs were read replay without them.
  const administration = patched(ADMINISTRATION_LOGS_PATCH);
  let stopping = false;
  setHandler(logTailStateQuery, () => state);
  setHandler(stopLogTailSignal, () => {
    stopping = true;
  });
  const show = () =>
    setCurrentDetails(
      `Log tail of ${instanceId}: ${state.events.toLocaleString('en-US')} events in ${state.pages} pages` +
        (state.caughtUpAt ? `; caught up at ${new Date(state.caughtUpAt).toISOString()}` : '; catching up'),
    );

  while (!stopping) {
    state.hostTaskQueue ??= (await shared.claimLogHost({ instanceId })).hostTaskQueue;
    const host = proxyDuoJ1Activities({
      taskQueue: state.hostTaskQueue,
      // The host's file is what the state agrees with: wait for it a while, then rebuild elsewhere.
      scheduleToStartTimeout: `${tuning.hostScheduleToStartSeconds ?? 300} seconds`,
      // A read may wait a minute for the log budget, then back off on 429s for another.
      startToCloseTimeout: `${tuning.readTimeoutSeconds ?? 300} seconds`,
      retry: {
        initialInterval: '5s',
        backoffCoefficient: 2,
        maximumInterval: '5 minutes',
        nonRetryableErrorTypes: NON_RETRYABLE,
      },
    });
    try {
      if (state.digest === undefined || state.cursor === undefined) {
        const cursor = { mintime: Date.now() - backfillDays * DAY_MS };
        const { digest } = await host.startLogAggregates({ instanceId, cursor });
        Object.assign(state, { digest, cursor, pages: 0, events: 0, caughtUpAt: undefined });
        if (administration) {
          state.streams = startedStreams(cursor.mintime);
          state.authenticationCaughtUp = undefined;
        }
      }
      const fold = (stream: LogStream, cursor: LogCursor) =>
        host.foldLogPage({
          instanceId,
          digest: state.digest!,
          cursor,
          lagSeconds,
          pageSize,
          ...(stream === 'authentication' ? {} : { stream }),
        });
      // The fold and the cursor move together, in this one workflow task.
      const foldAuthentication = async () => {
        const folded = await fold('authentication', state.cursor!);
        state.digest = folded.digest;
        state.cursor = folded.cursor;
        state.events += folded.events;
        if (folded.events > 0) state.pages += 1;
        return folded;
      };
      if (!administration) {
        const folded = await foldAuthentication();
        if (folded.caughtUp) state.caughtUpAt = Date.now();
        show();
        if (folded.caughtUp) await condition(() => stopping, pollMs);
      } else {
        // A state from before the administrators' logs were read starts them now.
        const streams = (state.streams ??= startedStreams(Date.now() - backfillDays * DAY_MS));
        // One round reads each log up to Duo's delay, a page at a time, a log that is there
        // already waiting for the others (each log has a budget of its own); then the tail polls.
        if (!state.authenticationCaughtUp) state.authenticationCaughtUp = (await foldAuthentication()).caughtUp;
        for (const stream of FURTHER_LOG_STREAMS) {
          // A log added after this state was made starts where a new tail would.
          const read = (streams[stream] ??= { cursor: { mintime: Date.now() - backfillDays * DAY_MS } });
          if (read.refused !== undefined || read.caughtUp || stopping) continue;
          const folded = await fold(stream, read.cursor);
          state.digest = folded.digest;
          read.cursor = folded.cursor;
          read.caughtUp = folded.caughtUp;
          read.events = (read.events ?? 0) + folded.events;
          if (folded.refused !== undefined) read.refused = folded.refused;
        }
        const roundDone =
          state.authenticationCaughtUp &&
          FURTHER_LOG_STREAMS.every((stream) => streams[stream]?.caughtUp || streams[stream]?.refused !== undefined);
        if (roundDone) state.caughtUpAt = Date.now();
        show();
        if (roundDone) {
          await condition(() => stopping, pollMs);
          state.authenticationCaughtUp = false;
          for (const read of Object.values(streams)) read.caughtUp = false;
        }
      }
    } catch (error) {
      if (isHostLost(error)) {
        state.hostTaskQueue = undefined;
        rebuild(state);
      } else if (failureType(error) === LOG_AGGREGATES_LOST) rebuild(state);
      else throw error;
    }
    if (!stopping && workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CONTINUE) {
      await continueAsNew<typeof duoLogTail>({ ...input, state });
    }
  }
  if (state.hostTaskQueue) {
    await proxyDuoJ1Activities({
      taskQueue: state.hostTaskQueue,
      scheduleToStartTimeout: '1 minute',
      startToCloseTimeout: '1 minute',
      retry: { maximumAttempts: 3 },
    })
      .removeLogAggregates({ instanceId })
      .catch(() => undefined);
  }
  return state;
}

/** The administrators' logs, to be read from `mintime` (epoch ms). */
function startedStreams(mintime: number): NonNullable<LogTailState['streams']> {
  return Object.fromEntries(FURTHER_LOG_STREAMS.map((stream) => [stream, { cursor: { mintime } }]));
}

/** Forgets the aggregates: the next iteration starts them again from the backfill window. */
function rebuild(state: LogTailState): void {
  state.digest = undefined;
  state.cursor = undefined;
  state.streams = undefined;
  state.rebuilds += 1;
}
