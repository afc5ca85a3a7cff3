/**
 * Preparing a history for replay outside a worker (the committed histories, deploy checks).
 *
 * Temporal's replayer gives the workflow the run id found in the history's first event. A reset run
 * inherits that event from the run it replaced, so replayed offline it would believe it is the old
 * run, while the worker that ran it knew its own id, and duoIngestion decides on it (a grant that
 * is not this run's is acquired again; see docs/exclusivity.md). The reset's own event names the
 * new run (`WorkflowTaskFailed`, cause `RESET_WORKFLOW`, `newRunId`): that is the run id to replay
 * under.
 *
 * `replayRecentExecutions` is the deploy check of `duo-j1 replay`: recent executions from a cluster,
 * replayed against the code about to run them.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { COORDINATOR_WORKFLOW_TYPE } from '../workflows/coordination-contract';
import { WORKFLOW_TYPE } from '../workflows/contract';
import { LOG_TAIL_WORKFLOW_TYPE } from '../workflows/log-tail-contract';

type History = temporal.api.history.v1.IHistory;

const RESET_WORKFLOW_CAUSE = temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW;

/** The id of the run a history belongs to: after resets, the last reset's new run. */
export function runIdOfHistory(history: History): string | undefined {
  let runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? undefined;
  for (const event of history.events ?? []) {
    const failed = event.workflowTaskFailedEventAttributes;
    if (failed && Number(failed.cause) === RESET_WORKFLOW_CAUSE && failed.newRunId) runId = failed.newRunId;
  }
  return runId ?? undefined;
}

/** A copy of the history whose first event names the run the history belongs to. */
export function historyForReplay(history: History): History {
  const runId = runIdOfHistory(history);
  const [first, ...rest] = history.events ?? [];
  const started = first?.workflowExecutionStartedEventAttributes;
  if (!started || !runId || started.originalExecutionRunId === runId) return history;
  return {
    ...history,
    events: [
      { ...first, workflowExecutionStartedEventAttributes: { ...started, originalExecutionRunId: runId } },
      ...rest,
    ],
  };
}

/** Every duo-j1 workflow type: what a deploy check replays unless told otherwise. */
export const DEFAULT_REPLAY_QUERY = `WorkflowType IN ('${WORKFLOW_TYPE}', '${COORDINATOR_WORKFLOW_TYPE}', '${LOG_TAIL_WORKFLOW_TYPE}')`;
/** How many of the most recent executions a deploy check replays by default. */
export const DEFAULT_REPLAY_LIMIT = 100;

/** One execution replayed against the code about to be deployed. */
export interface ReplayOutcome {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** RUNNING, COMPLETED, FAILED, …: a running one is what a deploy would continue. */
  status: string;
  /** Absent when the code replays the history to its end as recorded. */
  error?: { name: string; message: string };
}

export interface ReplayRecentOptions {
  client: Client;
  /** The code to check: a workflow bundle (`prebuiltWorkflowBundle()`, or one of your own). */
  workflowBundlePath: string;
  /** A visibility query; default `DEFAULT_REPLAY_QUERY`. */
  query?: string;
  /** The most recent executions matched, at most this many; default `DEFAULT_REPLAY_LIMIT`. */
  limit?: number;
  /** Called as each execution is replayed (progress for people). */
  onOutcome?: (outcome: ReplayOutcome) => void;
}

/**
 * Replays the most recent executions a visibility query finds, open and closed, against a workflow
 * bundle: the check to run before deploying new workflow code onto a cluster with runs in flight.
 * Any replay that fails — nondeterminism, or code that cannot run the history at all — is an outcome
 * with an error; the histories are read one at a time, so memory stays flat with the limit.
 */
export async function replayRecentExecutions(options: ReplayRecentOptions): Promise<ReplayOutcome[]> {
  const limit = options.limit ?? DEFAULT_REPLAY_LIMIT;
  const query = options.query ?? DEFAULT_REPLAY_QUERY;
  // The replayer answers in the order it is given histories: the descriptions wait here in that order.
  const pending: Omit<ReplayOutcome, 'error'>[] = [];
  async function* histories(): AsyncGenerator<{ workflowId: string; history: History }> {
    let taken = 0;
    for await (const execution of options.client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
      if (taken >= limit) return;
      taken += 1;
      const history = await options.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      pending.push({
        workflowId: execution.workflowId,
        runId: execution.runId,
        workflowType: execution.type,
        status: execution.status.name,
      });
      yield { workflowId: execution.workflowId, history: historyForReplay(history) };
    }
  }
  const outcomes: ReplayOutcome[] = [];
  const replays = Worker.runReplayHistories({ workflowBundle: { codePath: options.workflowBundlePath } }, histories());
  for await (const result of replays) {
    const described = pending.shift() ?? {
      workflowId: result.workflowId,
      runId: result.runId,
      workflowType: '?',
      status: '?',
    };
    const outcome: ReplayOutcome = result.error
      ? { ...described, error: { name: result.error.name, message: result.error.message } }
      : described;
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
  }
  return outcomes;
}
