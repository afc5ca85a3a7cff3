import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { historyForReplay } from '../src/worker/replay';
import { WORKFLOW_BUNDLE_SOURCES } from '../src/worker/workflow-bundle';
import { ACTIVITY_NAME_PREFIX, BUILD_FOLLOWS_FETCH_PATCH, UPLOAD_FOLLOWS_BUILD_PATCH } from '../src/workflows/contract';
import { ADMINISTRATION_LOGS_PATCH } from '../src/workflows/log-tail-contract';
import { HISTORIES_DIR, buildFollowsFetchHistory, ingestionHistory, readHistoryIndex } from './harness/histories';
import { inlineSourceMap } from './harness/inspect';
import { temporaryDirectory, testWorkflowBundle } from './harness/temporal';

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

/** The history of a complete run delivered to the local graph directory, for the checks below. */
const LOCAL_DELIVERY = path.join(HISTORIES_DIR, 'local-delivery.json');
function localDeliveryHistory() {
  return historyForReplay(historyFromJSON(JSON.parse(readFileSync(LOCAL_DELIVERY, 'utf8'))));
}
function localDeliveryId(): string {
  const entry = readHistoryIndex().find((candidate) => candidate.name === 'local-delivery');
  assert.ok(entry, 'the local-delivery history is committed');
  return entry.workflowId;
}

/**
 * The ingestion paths recorded before the graph was built as the fetch stages it, since, and since a
 * JupiterOne run's build uploads into its job.
 */
const INGESTION_PATHS = [
  'local-delivery',
  'jupiterone-delivery',
  'partial-403',
  'cancel-mid-upload',
  'terminate-mid-upload',
  'pipeline-restart-lost-host',
  'deadline-during-upload',
  'reset-running-first-workflow-task',
  'reset-running-last-workflow-task',
  'reset-finished-first-workflow-task',
  'reset-finished-last-workflow-task',
  'reset-finished-after-build',
  'reset-finished-jupiterone-after-job-start',
];

/** The ingestion paths only runs whose build uploads into their job take. */
const PATHS_SINCE_UPLOAD_FOLLOWS_BUILD = ['jupiterone-job-replaced'];

/** The paths whose histories must be committed (see test/harness/histories.ts). */
const REQUIRED = [
  ...INGESTION_PATHS,
  ...INGESTION_PATHS.map(buildFollowsFetchHistory),
  ...INGESTION_PATHS.map(ingestionHistory),
  ...PATHS_SINCE_UPLOAD_FOLLOWS_BUILD.map(ingestionHistory),
  'instance-busy',
  'coordinator',
  'log-tail',
  'log-tail-administration-logs',
];

/** The ids of the patches a committed history's run took (`patched()` records a marker for each). */
function patchesTaken(file: string): string[] {
  const history = JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as {
    events: {
      markerRecordedEventAttributes?: { markerName: string; details: Record<string, { payloads: { data: string }[] }> };
    }[];
  };
  return history.events.flatMap(({ markerRecordedEventAttributes: marker }) =>
    marker?.markerName === 'core_patch'
      ? Object.values(marker.details).flatMap(({ payloads }) =>
          payloads.map(
            (payload) => (JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as { id: string }).id,
          ),
        )
      : [],
  );
}

describe('workflow determinism: committed histories', function () {
  const entries = readHistoryIndex();

  it('has a history for every path', () => {
    const names = new Set(entries.map((entry) => entry.name));
    assert.deepEqual(
      REQUIRED.filter((name) => !names.has(name)),
      [],
    );
  });

  for (const entry of entries) {
    it(`replays ${entry.name} (${entry.workflowType}) with the current workflow code`, async () => {
      const history = historyForReplay(
        historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, entry.file), 'utf8'))),
      );
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: await testWorkflowBundle() }, replayName: entry.name },
        history,
        entry.workflowId,
      );
    });
  }

  it('has log tails from both sides of the administrators’ logs patch', () => {
    const file = (name: string) => entries.find((entry) => entry.name === name)!.file;
    // Recorded before the administrators' logs were read: the path of tails started then.
    assert.deepEqual(patchesTaken(file('log-tail')), []);
    // Recorded since: the tail reads the administrator log, the activity log and Trust Monitor.
    assert.deepEqual(patchesTaken(file('log-tail-administration-logs')), [ADMINISTRATION_LOGS_PATCH]);
  });

  it('has ingestion runs from both sides of the build-follows-fetch patch', () => {
    const file = (name: string) => entries.find((entry) => entry.name === name)!.file;
    for (const name of INGESTION_PATHS) {
      // Recorded before the graph was built as the fetch stages it: the path of runs open then.
      assert.ok(!patchesTaken(file(name)).includes(BUILD_FOLLOWS_FETCH_PATCH), name);
      assert.ok(!readFileSync(path.join(HISTORIES_DIR, file(name)), 'utf8').includes('buildGraphAsFetched'), name);
    }
    // Recorded since: every run that reached its fetch built its graph beside it.
    for (const name of [...INGESTION_PATHS.map(buildFollowsFetchHistory), ...INGESTION_PATHS.map(ingestionHistory)]) {
      const reachedFetch = readFileSync(path.join(HISTORIES_DIR, file(name)), 'utf8').includes('fetchResource');
      if (!reachedFetch) continue;
      assert.ok(patchesTaken(file(name)).includes(BUILD_FOLLOWS_FETCH_PATCH), name);
    }
  });

  it('has JupiterOne runs from both sides of the upload-follows-build patch', () => {
    const file = (name: string) => entries.find((entry) => entry.name === name)!.file;
    const uploads = (name: string) => patchesTaken(file(name)).includes(UPLOAD_FOLLOWS_BUILD_PATCH);
    // A JupiterOne run ends by finalizing its job or aborting it.
    const jupiterOneRunsThatFetched = (names: string[]) =>
      names.filter((name) => {
        const text = readFileSync(path.join(HISTORIES_DIR, file(name)), 'utf8');
        return text.includes('fetchResource') && (text.includes('finalizeSyncJob') || text.includes('abortSyncJob'));
      });
    // Recorded before: uploaded once the graph was built.
    for (const name of INGESTION_PATHS.map(buildFollowsFetchHistory)) assert.ok(!uploads(name), name);
    // Recorded since: every JupiterOne run that reached its fetch gave its build the job.
    const since = jupiterOneRunsThatFetched(
      [...INGESTION_PATHS, ...PATHS_SINCE_UPLOAD_FOLLOWS_BUILD].map(ingestionHistory),
    );
    assert.ok(since.length >= 1, 'a JupiterOne run recorded since');
    for (const name of since) assert.ok(uploads(name), name);
  });

  describe('what a replay checks', () => {
    it('still replays it once a resource is added to the table with the patch it was introduced with', async () => {
      const history = localDeliveryHistory();
      const code = await bundleWithAnotherResource('another-resource-for-the-replay-test');
      await Worker.runReplayHistory({ workflowBundle: { code } }, history, localDeliveryId());
      // Without it, the added fetch is scheduled where the recorded run had none: that is what the
      // patch prevents, and what this test would miss if the workflow ignored `introducedWith`.
      const careless = await bundleWithAnotherResource(undefined);
      await assert.rejects(
        Worker.runReplayHistory({ workflowBundle: { code: careless } }, history, localDeliveryId()),
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

    it('maps the bundle to the workflow sources by file and line, without carrying their text', async () => {
      const map = inlineSourceMap(readFileSync(await testWorkflowBundle(), 'utf8'));
      assert.ok(map, 'the bundle carries its source map');
      assert.ok(
        map.sources.some((source) => source.endsWith(path.join('src', 'workflows', 'duo-ingestion.ts'))),
        map.sources.join(', '),
      );
      assert.ok(map.mappings.length > 1_000, 'lines and columns are mapped');
      assert.equal(map.sourcesContent, undefined, 'no source text');
    });

    it('rejects a history whose activities were scheduled under other names', async () => {
      // The registered activity names are part of what the replay checks: a run in flight under
      // other names (here, without duo-j1's prefix) cannot continue on this code, and the replay
      // says so instead of passing.
      const json = readFileSync(LOCAL_DELIVERY, 'utf8');
      const scheduled = json.split(`"name": "${ACTIVITY_NAME_PREFIX}`).length - 1;
      assert.ok(scheduled >= 12, `the fixture schedules duo-j1's activities (${scheduled} found)`);
      const renamed = historyFromJSON(JSON.parse(json.replaceAll(`"name": "${ACTIVITY_NAME_PREFIX}`, '"name": "')));
      await assert.rejects(
        Worker.runReplayHistory(
          { workflowBundle: { codePath: await testWorkflowBundle() } },
          renamed,
          localDeliveryId(),
        ),
        (error: Error) => error.name === 'DeterminismViolationError' && /Activity type/.test(error.message),
      );
    });
  });
});
