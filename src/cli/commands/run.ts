/** `duo-j1 run`: starts one ingestion of an instance and follows it to the end. */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { INSTANCE_ID_RULE, isInstanceId } from '../../config/instance-id';
import { loadConfig } from '../../config/instances';
import { describeValue } from '../../util/redact';
import { connectClient, resolveTemporalSettings, type TemporalFlags } from '../../worker/connection';
import {
  EXECUTION_TIMEOUT_BACKSTOP_SECONDS,
  WORKFLOW_TYPE,
  ingestionWorkflowId,
  type DuoIngestionInput,
} from '../../workflows/contract';
import { ExitCode } from '../exit-codes';
import { exitCodeOf, followRun, formatRunSummary } from '../follow-run';
import { printJson } from '../output';

export interface RunFlags extends TemporalFlags {
  instance?: string;
  instances?: string;
  taskQueue?: string;
  wait: boolean;
  json?: boolean;
}

export async function runCommand(flags: RunFlags): Promise<number> {
  // Starting a run needs no secrets: the workers hold them. The configuration only supplies the
  // instance id when there is exactly one, and the task queue.
  const env = { ...process.env, ...(flags.taskQueue ? { DUO_J1_TASK_QUEUE: flags.taskQueue } : {}) };
  const config = loadConfig(env, { instancesFile: flags.instances, allowNoInstances: true, checkSecrets: false });
  let instanceId = flags.instance;
  if (!instanceId) {
    if (config.instances.length !== 1) {
      throw new Error(
        config.instances.length === 0
          ? 'No Duo instance is configured here; name one with --instance <id>.'
          : `Several instances are configured (${config.instances.map((i) => i.id).join(', ')}); name one with --instance <id>.`,
      );
    }
    instanceId = config.instances[0].id;
  }
  if (!isInstanceId(instanceId))
    throw new Error(`--instance must be ${INSTANCE_ID_RULE}, not ${describeValue(instanceId)}`);

  const client = await connectClient(resolveTemporalSettings(flags));
  try {
    const input: DuoIngestionInput = { instanceId };
    let handle;
    try {
      handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId: ingestionWorkflowId(instanceId),
        args: [input],
        memo: { instanceId },
        // A backstop behind the run's own deadline (tuning.deadlineSeconds).
        workflowExecutionTimeout: `${EXECUTION_TIMEOUT_BACKSTOP_SECONDS} seconds`,
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        console.error(`Instance "${instanceId}" is busy: run ${ingestionWorkflowId(instanceId)} is in progress.`);
        return ExitCode.Busy;
      }
      throw error;
    }
    if (!flags.wait) {
      if (flags.json) printJson({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId });
      else console.log(`Started ${handle.workflowId} (run ${handle.firstExecutionRunId}).`);
      return ExitCode.Success;
    }
    const outcome = await followRun(handle, { quiet: flags.json });
    if (flags.json) printJson(outcome.status === 'completed' ? outcome.result : outcome);
    else console.log(formatRunSummary(outcome));
    return exitCodeOf(outcome);
  } finally {
    await client.connection.close();
  }
}
