/**
 * Starting and stopping the instances' log tails from their configuration: one `duoLogTail` per
 * instance with logs on, none for the others. Idempotent: a tail already running is left as it is
 * (its cursor is in its state), and one whose instance turned logs off is asked to stop, which
 * removes its aggregates. `npm start` and `duo-j1 schedule apply` call it.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AppConfig } from '../config/instances';
import {
  LOG_TAIL_WORKFLOW_TYPE,
  logTailWorkflowId,
  stopLogTailSignal,
  type DuoLogTailInput,
} from '../workflows/log-tail-contract';

export interface LogTailChange {
  instanceId: string;
  workflowId: string;
  action: 'started' | 'running' | 'stopped' | 'off';
}

export async function applyLogTails(
  client: Client,
  config: AppConfig,
  options: { taskQueue: string; tuning?: DuoLogTailInput['tuning'] },
): Promise<LogTailChange[]> {
  const changes: LogTailChange[] = [];
  for (const instance of config.instances) {
    const workflowId = logTailWorkflowId(instance.id);
    if (instance.logs?.enabled) {
      try {
        await client.workflow.start(LOG_TAIL_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: options.taskQueue,
          args: [{ instanceId: instance.id, backfillDays: instance.logs.backfillDays, tuning: options.tuning }],
          staticSummary: `Log tail of duo-j1 instance ${instance.id} — not an ingestion run`,
        });
        changes.push({ instanceId: instance.id, workflowId, action: 'started' });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        changes.push({ instanceId: instance.id, workflowId, action: 'running' });
      }
      continue;
    }
    try {
      const handle = client.workflow.getHandle(workflowId);
      const { status } = await handle.describe();
      if (status.name === 'RUNNING') {
        await handle.signal(stopLogTailSignal);
        changes.push({ instanceId: instance.id, workflowId, action: 'stopped' });
        continue;
      }
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    changes.push({ instanceId: instance.id, workflowId, action: 'off' });
  }
  return changes;
}

export function formatLogTailChanges(changes: readonly LogTailChange[]): string {
  return changes
    .filter((change) => change.action !== 'off')
    .map((change) => {
      const what = {
        started: 'started',
        running: 'already running',
        stopped: 'asked to stop (logs are off)',
        off: 'off',
      }[change.action];
      return `Log tail of ${change.instanceId} (${change.workflowId}): ${what}`;
    })
    .join('\n');
}
