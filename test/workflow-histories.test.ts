import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { historyForReplay } from '../src/worker/replay';
import { HISTORIES_DIR, readHistoryIndex } from './harness/histories';
import { testWorkflowBundle } from './harness/temporal';

/** The paths whose histories must be committed (see test/harness/histories.ts). */
const REQUIRED = [
  'local-delivery',
  'jupiterone-delivery',
  'partial-403',
  'cancel-mid-upload',
  'terminate-mid-upload',
  'pipeline-restart-lost-host',
  'instance-busy',
  'deadline-during-upload',
  'reset-running-first-workflow-task',
  'reset-running-last-workflow-task',
  'reset-finished-first-workflow-task',
  'reset-finished-last-workflow-task',
  'reset-finished-after-build',
  'reset-finished-jupiterone-after-job-start',
  'coordinator',
];

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
});
