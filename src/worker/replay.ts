/**
 * Preparing a history for replay outside a worker (the committed histories, deploy checks).
 *
 * Temporal's replayer gives the workflow the run id found in the history's first event. A reset run
 * inherits that event from the run it replaced, so replayed offline it would believe it is the old
 * run, while the worker that ran it knew its own id, and duoIngestion decides on it (a grant that
 * is not this run's is acquired again; see docs/exclusivity.md). The reset's own event names the
 * new run (`WorkflowTaskFailed`, cause `RESET_WORKFLOW`, `newRunId`): that is the run id to replay
 * under.
 */
import { temporal } from '@temporalio/proto';

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
