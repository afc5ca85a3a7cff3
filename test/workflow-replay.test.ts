import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { WORKFLOW_BUNDLE_SOURCES } from '../src/worker/workflow-bundle';
import { ACTIVITY_NAME_PREFIX, WORKFLOW_TYPE } from '../src/workflows/contract';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, temporaryDirectory, testClient, testConfig, testWorkflowBundle } from './harness/temporal';

const SOURCE = path.join(__dirname, '..', 'src');
const RESOURCE_TABLE_FILE = path.join(SOURCE, 'resources', 'table.ts');
/** Where the last row of the resource table ends: a new resource goes right before. */
const END_OF_ROWS = '\n};\n\n/** The resources, in the order runs schedule their fetches. */';

/**
 * The workflow bundle as it will be the day a resource is added: the resource table with one more
 * row, last, introduced with `introducedWith` (or with none, as a careless addition would be).
 */
async function bundleWithAnotherResource(introducedWith: string | undefined): Promise<string> {
  const table = readFileSync(RESOURCE_TABLE_FILE, 'utf8');
  assert.ok(table.includes(END_OF_ROWS), 'the resource table ends its rows where this test adds one');
  const row = [
    '  anotherResource: {',
    "    reads: 'a resource added after the run was recorded',",
    '    endpoints: [DUO_LIST_ENDPOINTS.groups],',
    "    entity: 'group',",
    '    applyOrder: 99,',
    ...(introducedWith ? [`    introducedWith: '${introducedWith}',`] : []),
    '  },',
  ].join('\n');
  const copy = path.join(temporaryDirectory('duo-j1-table-'), 'table.ts');
  writeFileSync(copy, table.replace(END_OF_ROWS, `\n${row}${END_OF_ROWS}`));
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    webpackConfigHook: (config) => ({
      ...config,
      resolve: { ...config.resolve, alias: { ...(config.resolve?.alias as object), [RESOURCE_TABLE_FILE]: copy } },
    }),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  assert.ok(code.includes('a resource added after the run was recorded'), 'the bundle holds the added row');
  return code;
}

/**
 * The history of a complete run, committed so that every change to the workflow code is checked for
 * determinism against runs already in flight. After an intended, compatible change in behaviour, record
 * it again with `DUO_J1_RECORD_HISTORY=1 npx mocha test/workflow-replay.test.ts`.
 */
const FIXTURE = path.join(__dirname, 'fixtures', 'histories', 'duo-ingestion-local.json');

describe('workflow determinism', function () {
  if (process.env.DUO_J1_RECORD_HISTORY) {
    it('records the history of a complete run', async () => {
      const duo = await startDuoSimulator({ users: 120, seed: 41 });
      stopAtEnd(() => duo.close());
      const instance = simulatorInstance(duo, { id: 'replay' });
      const config = testConfig([instance]);
      await startTestWorkers(config);
      const client = await testClient();
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId: 'duo-ingestion-replay',
        args: [{ instanceId: instance.id }],
      });
      await handle.result();
      writeFileSync(FIXTURE, JSON.stringify(JSON.parse(historyToJSON(await handle.fetchHistory())), null, 1) + '\n');
    });
  }

  it('replays the committed history of a complete run with the current workflow code', async () => {
    const history = historyFromJSON(JSON.parse(readFileSync(FIXTURE, 'utf8')));
    assert.ok((history.events?.length ?? 0) > 20, 'the fixture is a complete run');
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: await testWorkflowBundle() } },
      history,
      'duo-ingestion-replay',
    );
  });

  it('still replays it once a resource is added to the table with the patch it was introduced with', async () => {
    const history = historyFromJSON(JSON.parse(readFileSync(FIXTURE, 'utf8')));
    const code = await bundleWithAnotherResource('another-resource-for-the-replay-test');
    await Worker.runReplayHistory({ workflowBundle: { code } }, history, 'duo-ingestion-replay');
    // Without it, the added fetch is scheduled where the recorded run had none: that is what the
    // patch prevents, and what this test would miss if the workflow ignored `introducedWith`.
    const careless = await bundleWithAnotherResource(undefined);
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: { code: careless } }, history, 'duo-ingestion-replay'),
      (error: unknown) => error instanceof DeterminismViolationError,
    );
  });

  it('bundles only the workflows and the pure modules they import, all counted in the bundle cache key', async () => {
    const code = readFileSync(await testWorkflowBundle(), 'utf8');
    const ours = [...new Set(code.match(/"\.\/src\/[^"]+"/g) ?? [])].map((id) => id.slice(7, -1));
    assert.ok(ours.includes('resources/table.ts'), ours.join(', '));
    for (const module of ours) {
      assert.ok(
        WORKFLOW_BUNDLE_SOURCES.some((source) => module === `${source}.ts` || module.startsWith(`${source}/`)),
        `${module} is in the workflow bundle but not in WORKFLOW_BUNDLE_SOURCES`,
      );
    }
  });

  it('rejects a history whose activities were scheduled under other names', async () => {
    // The registered activity names are part of what the replay checks: a run in flight under
    // other names (here, without duo-j1's prefix) cannot continue on this code, and the replay
    // says so instead of passing.
    const json = readFileSync(FIXTURE, 'utf8');
    const scheduled = json.split(`"name": "${ACTIVITY_NAME_PREFIX}`).length - 1;
    assert.ok(scheduled >= 12, `the fixture schedules duo-j1's activities (${scheduled} found)`);
    const renamed = historyFromJSON(JSON.parse(json.replaceAll(`"name": "${ACTIVITY_NAME_PREFIX}`, '"name": "')));
    await assert.rejects(
      Worker.runReplayHistory(
        { workflowBundle: { codePath: await testWorkflowBundle() } },
        renamed,
        'duo-ingestion-replay',
      ),
      (error: Error) => error.name === 'DeterminismViolationError' && /Activity type/.test(error.message),
    );
  });
});
