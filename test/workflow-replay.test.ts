import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { ACTIVITY_NAME_PREFIX, WORKFLOW_TYPE } from '../src/workflows/contract';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig, testWorkflowBundle } from './harness/temporal';

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
