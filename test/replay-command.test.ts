import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { DEFAULT_REPLAY_QUERY, type ReplayOutcome } from '../src/worker/replay';
import { COORDINATOR_WORKFLOW_TYPE } from '../src/workflows/coordination-contract';
import { WORKFLOW_TYPE, type DuoIngestionResult } from '../src/workflows/contract';
import { LOG_TAIL_WORKFLOW_TYPE } from '../src/workflows/log-tail-contract';
import { DUO_J1_ARGS } from './harness/cli';
import { simulatorInstance } from './harness/instances';
import { startTestJupiterOneSimulator } from './harness/jupiterone';
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

/** Cuts `text` out of `source`, failing the test if the workflow no longer has it. */
function cut(source: string, text: string): { before: string; after: string } {
  const at = source.indexOf(text);
  assert.ok(at >= 0 && source.indexOf(text, at + 1) < 0, `the workflow has, once: ${text.split('\n')[0]}`);
  return { before: source.slice(0, at), after: source.slice(at + text.length) };
}

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
 * A careless change on every path: the instance validated before a worker's staging is claimed
 * (on the shared queue, since no host is claimed yet) — the same activities, their order swapped.
 */
function validationBeforeClaim(source: string): string {
  const start = source.indexOf(VALIDATION_START);
  const end = source.indexOf(VALIDATION_END, start) + VALIDATION_END.length;
  assert.ok(start > source.indexOf(CLAIM) && end > start, 'the workflow claims, then validates');
  const validation = source
    .slice(start, end)
    .replace("host('check JupiterOne, then Duo')", "sharedActivity('check JupiterOne, then Duo')");
  const { before, after } = cut(source.slice(0, start), CLAIM);
  return `${before}${validation}\n${CLAIM}${after}${source.slice(end)}`;
}

/** Where the JupiterOne path finalizes its job, once the upload is done. */
const FINALIZE = "          const finished = await sharedActivity('finalize the JupiterOne job')";

/**
 * A careless change on the JupiterOne path alone, the kind that passed a replay of local runs: the
 * staged files removed as soon as they are uploaded, before the job is finalized (to free the disk
 * sooner). A local delivery schedules exactly what it did before.
 */
function stagingRemovedBeforeFinalize(source: string): string {
  const { before, after } = cut(source, FINALIZE);
  const removal =
    "          await host('remove the staged files once uploaded').cleanupStaging({ runKey }).catch(() => undefined);\n";
  return `${before}${removal}${FINALIZE}${after}`;
}

/** A workflow bundle built from a copy of duoIngestion with `edit` applied. */
async function bundleWith(edit: (source: string) => string, marker: string): Promise<string> {
  const modified = edit(readFileSync(INGESTION_FILE, 'utf8'));
  // The copy lives elsewhere: its relative imports point back into the sources.
  const copy = path.join(temporaryDirectory('duo-j1-edited-workflow-'), 'duo-ingestion.ts');
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
  assert.ok(code.includes(marker), 'the bundle holds the edited workflow');
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

/** `duo-j1 replay` as a deploy pipeline runs it: a separate process, connection flags, an exit code. */
async function replay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { address, namespace } = await testServer();
  return execute(
    process.execPath,
    [...DUO_J1_ARGS, 'replay', '--address', address, '--namespace', namespace, ...args],
    { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, maxBuffer: 16 << 20 },
  ).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

async function replayJson(args: string[]): Promise<{ code: number; report: ReplayReport; stderr: string }> {
  const { code, stdout, stderr } = await replay(['--json', ...args]);
  return { code, report: JSON.parse(stdout) as ReplayReport, stderr };
}

/** Waits until visibility lists the run as completed: the replay command finds runs by a visibility query. */
async function visibleAsCompleted(client: Client, query: string, workflowId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (
    (await client.workflow.count(`${query} AND WorkflowId = '${workflowId}' AND ExecutionStatus = 'Completed'`))
      .count === 0
  ) {
    assert.ok(Date.now() < deadline, `${workflowId} is visible as completed`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('duo-j1 replay: the check before a deploy', function () {
  /** Runs recorded on the dev server: one delivered to the local graph directory, one to JupiterOne. */
  const runs = { local: { workflowId: '', runId: '' }, jupiterone: { workflowId: '', runId: '' } };
  let query = '';

  before(async function () {
    this.timeout(240_000);
    const duo = await startDuoSimulator({ users: 200, seed: 41 });
    stopAtEnd(() => duo.close());
    const j1 = await startTestJupiterOneSimulator();
    const config = testConfig([simulatorInstance(duo), simulatorInstance(duo, { jupiterone: j1 })], {
      taskQueue: uniqueTaskQueue('replay'),
    });
    const workers = await startTestWorkers(config);
    const client = await testClient();
    query = `TaskQueue = '${config.taskQueue}'`;
    const [local, jupiterone] = await Promise.all(
      config.instances.map(async (instance) => {
        const handle = await client.workflow.start(WORKFLOW_TYPE, {
          taskQueue: config.taskQueue,
          workflowId: `replay-check-${instance.id}`,
          args: [{ instanceId: instance.id }],
        });
        const result = (await handle.result()) as DuoIngestionResult;
        assert.equal(result.outcome, 'success');
        await visibleAsCompleted(client, query, handle.workflowId);
        return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, target: result.delivery.target };
      }),
    );
    assert.equal(local.target, 'local');
    assert.equal(jupiterone.target, 'jupiterone');
    runs.local = local;
    runs.jupiterone = jupiterone;
    // Recorded: the replays need no worker, and the namespace's pollers are better left to other tests.
    await workers.stop();
  });

  it('by default replays every recent duoIngestion, duoInstanceCoordinator and duoLogTail', () => {
    assert.equal(
      DEFAULT_REPLAY_QUERY,
      `WorkflowType IN ('${WORKFLOW_TYPE}', '${COORDINATOR_WORKFLOW_TYPE}', '${LOG_TAIL_WORKFLOW_TYPE}')`,
    );
  });

  it('passes the recorded runs, local and JupiterOne, with the code they ran on', async () => {
    const current = await replayJson(['--query', query, '--workflow-bundle', await testWorkflowBundle()]);
    assert.equal(current.code, 0, current.stderr);
    assert.equal(current.report.failed, 0);
    const replayed = current.report.histories.map((history) => `${history.workflowType} ${history.workflowId}`).sort();
    assert.ok(replayed.includes(`${WORKFLOW_TYPE} ${runs.local.workflowId}`), replayed.join(', '));
    assert.ok(replayed.includes(`${WORKFLOW_TYPE} ${runs.jupiterone.workflowId}`), replayed.join(', '));
    assert.equal(
      replayed.filter((entry) => entry.startsWith(COORDINATOR_WORKFLOW_TYPE)).length,
      2,
      replayed.join(', '),
    );
    // --limit takes the most recent matches only.
    const limited = await replayJson([
      '--query',
      query,
      '--limit',
      '1',
      '--workflow-bundle',
      await testWorkflowBundle(),
    ]);
    assert.equal(limited.code, 0, limited.stderr);
    assert.equal(limited.report.replayed, 1);
  });

  it('fails, naming each run, on an activity moved on every path', async () => {
    const bundle = await bundleWith(validationBeforeClaim, "sharedActivity('check JupiterOne, then Duo')");
    const reordered = await replayJson(['--query', query, '--workflow-bundle', bundle]);
    assert.equal(reordered.code, 1);
    const failing = reordered.report.histories.filter((history) => history.error);
    assert.deepEqual(
      failing
        .map(({ workflowId, runId, workflowType }) => ({ workflowId, runId, workflowType }))
        .sort((a, b) => a.workflowId.localeCompare(b.workflowId)),
      [runs.local, runs.jupiterone]
        .map(({ workflowId, runId }) => ({ workflowId, runId, workflowType: WORKFLOW_TYPE }))
        .sort((a, b) => a.workflowId.localeCompare(b.workflowId)),
    );
    for (const history of failing) {
      assert.equal(history.error?.name, 'DeterminismViolationError');
      assert.match(history.error?.message ?? '', /validateInstance|claimStaging/);
    }
    assert.equal(reordered.report.failed, 2);
    // The coordinator's code is unchanged: its histories still replay.
    assert.ok(
      reordered.report.histories.some(
        (history) => history.workflowType === COORDINATOR_WORKFLOW_TYPE && !history.error,
      ),
    );

    // For people: a line per failing history, naming it, and what to do.
    const text = await replay(['--query', query, '--workflow-bundle', bundle]);
    assert.equal(text.code, 1);
    for (const run of [runs.local, runs.jupiterone]) {
      const line = text.stdout.split('\n').find((candidate) => candidate.includes(run.workflowId)) ?? '';
      assert.ok(line.startsWith('FAIL'), text.stdout);
      assert.ok(
        line.includes(run.runId) && line.includes(WORKFLOW_TYPE) && line.includes('DeterminismViolationError'),
        line,
      );
    }
    assert.match(text.stdout, /2 of \d+ histories do not replay/);
  });

  it('fails the JupiterOne run alone on an activity moved on the JupiterOne path', async () => {
    const bundle = await bundleWith(stagingRemovedBeforeFinalize, 'remove the staged files once uploaded');
    const reordered = await replayJson(['--query', query, '--workflow-bundle', bundle]);
    assert.equal(reordered.code, 1);
    assert.equal(reordered.report.failed, 1);
    const failing = reordered.report.histories.find((history) => history.error);
    assert.equal(failing?.workflowId, runs.jupiterone.workflowId);
    assert.equal(failing?.runId, runs.jupiterone.runId);
    assert.equal(failing?.workflowType, WORKFLOW_TYPE);
    assert.equal(failing?.error?.name, 'DeterminismViolationError');
    assert.match(failing?.error?.message ?? '', /finalizeSyncJob|cleanupStaging/);
    // The local delivery took no part of that path: it replays.
    const local = reordered.report.histories.find((history) => history.workflowId === runs.local.workflowId);
    assert.ok(local && !local.error, JSON.stringify(local));
  });
});
