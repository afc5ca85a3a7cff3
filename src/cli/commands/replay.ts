/**
 * `duo-j1 replay`: the check before a deploy. It reads the recent executions of a cluster (by a
 * visibility query: by default every duoIngestion, duoInstanceCoordinator and duoLogTail, open and closed) and
 * replays each against the workflow code about to be deployed — the bundle shipped with this
 * install, or `--workflow-bundle`. Any history the code cannot replay is named (workflow id, run id,
 * type, the error) and the command exits 1: deploying would stall those runs on a nondeterminism
 * error. See docs/deploying.md.
 */
import { Runtime } from '@temporalio/worker';
import { connectClient, resolveTemporalSettings, type TemporalFlags } from '../../worker/connection';
import {
  DEFAULT_REPLAY_LIMIT,
  DEFAULT_REPLAY_QUERY,
  replayRecentExecutions,
  type ReplayOutcome,
} from '../../worker/replay';
import { CORE_LOG_FORWARDING, createLoggers } from '../../worker/logging';
import { prebuiltWorkflowBundle } from '../../worker/workflow-bundle';
import { ExitCode } from '../exit-codes';
import { printJson } from '../output';

export interface ReplayFlags extends TemporalFlags {
  query?: string;
  limit?: string;
  workflowBundle?: string;
  json?: boolean;
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_REPLAY_LIMIT;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`--limit must be a whole number of at least 1 (got "${value}")`);
  return limit;
}

function describe(outcome: ReplayOutcome): string {
  return `${outcome.workflowType} ${outcome.workflowId} (run ${outcome.runId}, ${outcome.status.toLowerCase()})`;
}

export async function replayCommand(flags: ReplayFlags): Promise<number> {
  const limit = parseLimit(flags.limit);
  // stdout is the answer (and JSON with --json): the SDK's and its core's warnings go to stderr, as JSON lines.
  const { sdkLogger } = createLoggers('json', 'WARN', process.stderr);
  Runtime.install({ logger: sdkLogger, shutdownSignals: [], telemetryOptions: { logging: CORE_LOG_FORWARDING } });
  const query = flags.query ?? DEFAULT_REPLAY_QUERY;
  const settings = resolveTemporalSettings(flags);
  const workflowBundlePath = flags.workflowBundle ?? (await prebuiltWorkflowBundle());
  const client = await connectClient(settings);
  let outcomes: ReplayOutcome[];
  try {
    outcomes = await replayRecentExecutions({
      client,
      workflowBundlePath,
      query,
      limit,
      onOutcome: flags.json
        ? undefined
        : (outcome) =>
            console.log(
              outcome.error
                ? `FAIL ${describe(outcome)}: ${outcome.error.name}: ${outcome.error.message}`
                : `ok   ${describe(outcome)}`,
            ),
    });
  } finally {
    await client.connection.close();
  }
  const failed = outcomes.filter((outcome) => outcome.error);
  if (flags.json) {
    printJson({
      namespace: settings.namespace,
      query,
      limit,
      workflowBundle: workflowBundlePath,
      replayed: outcomes.length,
      failed: failed.length,
      histories: outcomes,
    });
  } else if (outcomes.length === 0) {
    console.log(`No executions in namespace ${settings.namespace} match ${query}: nothing to check.`);
  } else if (failed.length > 0) {
    console.log(
      `${failed.length} of ${outcomes.length} histories do not replay on this code: deploying it would stall the open ones. Put the change behind patched() (docs/deploying.md).`,
    );
  } else {
    console.log(`All ${outcomes.length} histories replay on this code.`);
  }
  return failed.length > 0 ? ExitCode.Failure : ExitCode.Success;
}
