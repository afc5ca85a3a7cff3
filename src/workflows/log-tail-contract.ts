/**
 * The contract of an instance's log tail (docs/logs.md): its names, input, state, signal and query.
 * Pure types and names: the workflow bundle, the activities and the CLI all import it.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Workflow type of the per-instance log tail. */
export const LOG_TAIL_WORKFLOW_TYPE = 'duoLogTail';

/** Workflow id of an instance's log tail (one at a time per instance in the namespace). */
export function logTailWorkflowId(instanceId: string): string {
  return `duo-log-tail-${instanceId}`;
}

/**
 * Where reading the authentication log goes on from. Without `nextOffset`, the next window starts
 * at `mintime` and ends where Duo's log is complete (now minus the availability delay); with it,
 * the window `mintime`..`maxtime` is being paged through with Duo's cursor.
 */
export interface LogCursor {
  mintime: number;
  maxtime?: number;
  nextOffset?: string;
  /**
   * The administrator log only, which Duo pages by timestamp (whole seconds): how many events of
   * the second starting at `mintime` were folded already (docs/logs.md).
   */
  skip?: number;
}

/** The logs a tail reads: the authentication log, the administrators' two, and Trust Monitor's events. */
export type LogStream = 'authentication' | FurtherLogStream;
/** The logs read besides the authentication log (whose cursor is `LogTailState.cursor`). */
export const FURTHER_LOG_STREAMS = ['administrator', 'activity', 'trustMonitor'] as const;
export type FurtherLogStream = (typeof FURTHER_LOG_STREAMS)[number];

/** Where one of the administrators' logs is read from. */
export interface StreamState {
  cursor: LogCursor;
  /** Read up to Duo's availability delay in this round (reset when the tail next polls). */
  caughtUp?: boolean;
  /** Duo refused the log (its edition has none): why; the tail reads the others. */
  refused?: string;
  /** Events folded since the aggregates were (re)started. */
  events?: number;
}

/** What the tail carries from one workflow task to the next and across continue-as-new. */
export interface LogTailState {
  /** The worker queue of the host holding the aggregates file; absent until one is claimed. */
  hostTaskQueue?: string;
  /** The aggregates file this state agrees with (its SHA-256); absent until the file is started. */
  digest?: string;
  cursor?: LogCursor;
  /** Pages and events folded since the aggregates were (re)started. */
  pages: number;
  events: number;
  /** Times the aggregates had to be rebuilt from Duo's log (a lost host or file). */
  rebuilds: number;
  /** When the aggregates were last read up to Duo's availability delay (epoch ms). */
  caughtUpAt?: number;
  /**
   * The administrator and activity logs; absent in a state from before the tail read them (it
   * starts them at its next iteration) and until the aggregates are (re)started.
   */
  streams?: Partial<Record<FurtherLogStream, StreamState>>;
  /** Whether the authentication log is read up to Duo's delay in this round. */
  authenticationCaughtUp?: boolean;
}

export interface LogTailTuning {
  /** How far behind now each window ends: Duo's availability delay and a margin. Default 180. */
  lagSeconds?: number;
  /** Wait between reads once caught up. Default 60. */
  pollSeconds?: number;
  /** Events per request (Duo's maximum is 1000). Default 1000. */
  pageSize?: number;
  /** How long one read may take before Temporal retries it elsewhere (a lost worker). Default 300. */
  readTimeoutSeconds?: number;
  /** How long the host holding the aggregates may take to pick a read up before another host rebuilds them. Default 300. */
  hostScheduleToStartSeconds?: number;
}

export interface DuoLogTailInput {
  instanceId: string;
  /** Days the first start reads back. Default 30. */
  backfillDays?: number;
  tuning?: LogTailTuning;
  /** Carried across continue-as-new. */
  state?: LogTailState;
}

/** What one read of the log did: the aggregates file's new digest and where reading goes on. */
export interface LogPageFolded {
  digest: string;
  cursor: LogCursor;
  /** A log Duo refused (its edition has none): why. Nothing was folded. */
  refused?: string;
  events: number;
  /** The window was read up to Duo's availability delay: wait before reading again. */
  caughtUp: boolean;
}

/** Failure type: the aggregates file is gone or is not the one the tail's state names. */
export const LOG_AGGREGATES_LOST = 'LogAggregatesLost';

/** Patch id: the tail reads the administrator and activity logs too. */
export const ADMINISTRATION_LOGS_PATCH = 'log-tail-administration-logs';

/** Stops the tail (logs switched off): it ends after the read in progress. */
export const stopLogTailSignal = defineSignal('stop');

export const logTailStateQuery = defineQuery<LogTailState>('state');
