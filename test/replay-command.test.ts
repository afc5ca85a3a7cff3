import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { DEFAULT_REPLAY_QUERY, type ReplayOutcome } from '../src/worker/replay';
import { COORDINATOR_WORKFLOW_TYPE } from '../src/workflows/coordination-contract';
import { WORKFLOW_TYPE, type DuoIngestionResult } from '../src/workflows/contract';
import { DUO_J1_ARGS } from './harness/cli';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import {
  startTestWorkers,
  temporaryDirectory,
  testClient,
  testConfig,
  testServer,
  testWorkflowBundle,
  uniqueTaskQueue,
} from './harness/temporal';

const execute = promisify(execFile);
const REPO = path.resolve(__dirname, '..');
const SOURCE = path.join(REPO, 'src');
const INGESTION_FILE = path.join(SOURCE, 'workflows', 'duo-ingestion.ts');

/** The claim of a worker's staging, as the workflow schedules it first in each pipeline attempt. */
const CLAIM = [
  "        const claim = await sharedActivity('claim a worker’s staging').claimStaging({ grant, runKey }).catch(classify);",
  '        hostQueue = claim.hostTaskQueue;',
  '        progress.hostTaskQueue = hostQueue;',
  '',
].join('\n');
const VALIDATION_START = "        progress.phase = 'validating';";
const VALIDATION_END = '        durations.validate = Date.now() - mark;\n';

/**
 * The workflow as a careless change would leave it: the instance validated before a worker's
 * staging is claimed (on the shared queue, since no host is claimed yet) — the activities the same,
 * their order swapped.
 */
async function bundleWithValidationBeforeClaim(): Promise<string> {
  const source = readFileSync(INGESTION_FILE, 'utf8');
  const start = source.indexOf(VALIDATION_START);
  const end = source.indexOf(VALIDATION_END, start) + VALIDATION_END.length;
  assert.ok(
    source.includes(CLAIM) && start > source.indexOf(CLAIM) && end > start,
    'the workflow claims, then validates',
  );
  const validation = source
    .slice(start, end)
    .replace("host('check JupiterOne, then Duo')", "sharedActivity('check JupiterOne, then Duo')");
  const before = source.slice(0, source.indexOf(CLAIM));
  const between = source.slice(source.indexOf(CLAIM) + CLAIM.length, start);
  const modified = `${before}${validation}\n${CLAIM}${between}${source.slice(end)}`;
  // The copy lives elsewhere: its relative imports point back into the sources.
  const copy = path.join(temporaryDirectory('duo-j1-reordered-'), 'duo-ingestion.ts');
  writeFileSync(
    copy,
    modified
      .replaceAll("from '../", `from '${SOURCE}/`)
      .replaceAll("from './", `from '${path.join(SOURCE, 'workflows')}/`),
  );
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    webpackConfigHook: (config) => ({
      ...config,
      resolve: {
        ...config.resolve,
        alias: { ...(config.resolve?.alias as object), [INGESTION_FILE]: copy },
        // The copy's packages come from this project's node_modules, not from beside the copy.
        modules: [path.join(REPO, 'node_modules'), 'node_modules'],
      },
    }),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  assert.ok(code.includes("sharedActivity('check JupiterOne, then Duo')"), 'the bundle holds the reordered workflow');
  const file = path.join(path.dirname(copy), 'workflow-bundle.js');
  writeFileSync(file, code);
  return file;
}

interface ReplayReport {
  query: string;
  replayed: number;
  failed: number;
  histories: ReplayOutcome[];
}

async function replay(args: string[]): Promise<{ code: number; report: ReplayReport; stderr: string }> {
  const { address, namespace } = await testServer();
  const outcome = await execute(
    process.execPath,
    [...DUO_J1_ARGS, 'replay', '--address', address, '--namespace', namespace, '--json', ...args],
    { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, maxBuffer: 16 << 20 },
  ).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  return { code: outcome.code, report: JSON.parse(outcome.stdout) as ReplayReport, stderr: outcome.stderr };
}

describe('duo-j1 replay: the check before a deploy', function () {
  it('by default replays every recent duoIngestion and duoInstanceCoordinator', () => {
    assert.equal(DEFAULT_REPLAY_QUERY, `WorkflowType IN ('${WORKFLOW_TYPE}', '${COORDINATOR_WORKFLOW_TYPE}')`);
  });

  it('passes runs recorded on the server with the current code and names each one a reordered workflow cannot replay', async () => {
    const duo = await startDuoSimulator({ users: 300, seed: 41 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)], { taskQueue: uniqueTaskQueue('replay') });
    await startTestWorkers(config);
    const client = await testClient();
    const workflowId = `replay-check-${uniqueTaskQueue()}`;
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId,
      args: [{ instanceId: config.instances[0].id }],
    });
    const result = (await handle.result()) as DuoIngestionResult;
    assert.equal(result.outcome, 'success');
    const query = `TaskQueue = '${config.taskQueue}'`;
    // Visibility catches up with the run's close within moments.
    const deadline = Date.now() + 20_000;
    while (
      (await client.workflow.count(`${query} AND WorkflowId = '${workflowId}' AND ExecutionStatus = 'Completed'`))
        .count === 0
    ) {
      assert.ok(Date.now() < deadline, 'the run is visible as completed');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const current = await replay(['--query', query, '--workflow-bundle', await testWorkflowBundle()]);
    assert.equal(current.code, 0, current.stderr);
    const types = current.report.histories.map((history) => history.workflowType).sort();
    assert.deepEqual(types, [WORKFLOW_TYPE, COORDINATOR_WORKFLOW_TYPE].sort());
    assert.equal(current.report.failed, 0);

    const reordered = await replay(['--query', query, '--workflow-bundle', await bundleWithValidationBeforeClaim()]);
    assert.equal(reordered.code, 1);
    assert.equal(reordered.report.failed, 1);
    const failing = reordered.report.histories.find((history) => history.error);
    assert.equal(failing?.workflowId, workflowId);
    assert.equal(failing?.runId, handle.firstExecutionRunId);
    assert.equal(failing?.workflowType, WORKFLOW_TYPE);
    assert.equal(failing?.error?.name, 'DeterminismViolationError');
    assert.match(failing?.error?.message ?? '', /validateInstance|claimStaging/);
    // The coordinator's code is unchanged: it still replays.
    assert.ok(
      reordered.report.histories.some(
        (history) => history.workflowType === COORDINATOR_WORKFLOW_TYPE && !history.error,
      ),
    );
  });
});
