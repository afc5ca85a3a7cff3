import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { applyLogTails } from '../src/logs/tails';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { freePort, startDevServer, temporalCliPath, type DevServer } from '../src/worker/dev-server';
import { duoJ1ActivityName } from '../src/workflows/contract';
import { logTailStateQuery, logTailWorkflowId } from '../src/workflows/log-tail-contract';
import { waitFor } from './harness/inspect';
import { simulatorInstance, writeInstancesFile } from './harness/instances';
import { caughtUpTail, expectedAdministration, expectedAggregates } from './harness/logs';
import { stopAtEnd } from './harness/root-hooks';
import { spawnWorkerProcess, temporaryDirectory, testConfig, type WorkerProcess } from './harness/temporal';

const execute = promisify(execFile);

describe('log tail: exactly once through a lost worker, a reset and a restarted Temporal', function () {
  this.timeout(420_000);

  it('counts every event of the log once, whatever happened to the worker, the workflow and the server', async () => {
    // About 9,000 events before the tail starts, read 100 a page at 600 pages a minute.
    const duo = await startDuoSimulator({
      users: 150,
      seed: 43,
      latencyMs: 20,
      authenticationLog: { eventsPerMinute: 50, historyMs: 3 * 3600_000, delayMs: 1000 },
      // About 5,400 administrators' actions, two a second, in answers of 100: the administrator
      // log's cursor (a second and how many of its events were read) goes through the same.
      administrationLog: { eventsPerMinute: 120, historyMs: 45 * 60_000, delayMs: 1000, pageSize: 100 },
    });
    stopAtEnd(() => duo.close());
    const instance = simulatorInstance(duo, { logs: { enabled: true, backfillDays: 1, requestsPerMinute: 600 } });
    const config = testConfig([instance]);
    const { file: instancesFile, env } = writeInstancesFile([instance]);

    // A Temporal server of this test's own, persisted to a file, so that it can be restarted.
    const dbFile = path.join(temporaryDirectory('duo-j1-temporal-'), 'temporal.sqlite');
    const port = await freePort();
    let server: DevServer = await startDevServer({ dbFile, port });
    stopAtEnd(() => server.stop());
    const connect = async () => {
      const connection = await Connection.connect({ address: server.address });
      stopAtEnd(() => connection.close());
      return new Client({ connection, namespace: server.namespace });
    };
    let client = await connect();
    const spawn = (): Promise<WorkerProcess> =>
      spawnWorkerProcess({
        config,
        instancesFile,
        env,
        temporal: { address: server.address, namespace: server.namespace },
      });
    const pages = async () =>
      (await client.workflow.getHandle(logTailWorkflowId(instance.id)).query(logTailStateQuery)).pages;

    let worker = await spawn();
    await applyLogTails(client, config, {
      taskQueue: config.taskQueue,
      tuning: { lagSeconds: 2, pollSeconds: 1, pageSize: 100, readTimeoutSeconds: 5 },
    });
    const handle = client.workflow.getHandle(logTailWorkflowId(instance.id));

    // 1. SIGKILL the worker while it tails; another one takes over.
    await waitFor(async () => (await pages()) >= 15, 'the tail to fold 15 pages', 120_000);
    await worker.kill('SIGKILL');
    worker = await spawn();
    const afterKill = await pages();
    await waitFor(async () => (await pages()) >= afterKill + 15, 'the tail to go on after the kill', 120_000);

    // 2. Reset the tail to a workflow task in the middle of its history: its state goes back
    // pages, while the aggregates file on disk is ahead of it.
    const events = (await handle.fetchHistory()).events ?? [];
    const folds = events.filter(
      (e) =>
        e.activityTaskCompletedEventAttributes &&
        isFold(events, Number(e.activityTaskCompletedEventAttributes.scheduledEventId)),
    );
    const middle = folds[Math.floor(folds.length / 2)]!;
    const resetPoint = events.find(
      (e) => Number(e.eventId) > Number(middle.eventId) && e.workflowTaskCompletedEventAttributes,
    )!;
    await execute(temporalCliPath(), [
      'workflow',
      'reset',
      '--workflow-id',
      logTailWorkflowId(instance.id),
      '--event-id',
      String(resetPoint.eventId),
      '--reason',
      'test: reset the log tail',
      '--address',
      server.address,
    ]);
    await waitFor(
      async () => (await handle.query(logTailStateQuery)).pages >= 10,
      'the reset tail to fold pages again',
      120_000,
    );

    // 3. Stop Temporal with the tail mid-way, and start it again from its file.
    await worker.kill('SIGKILL');
    await server.stop();
    server = await startDevServer({ dbFile, port });
    client = await connect();
    worker = await spawn();

    const { state, file } = await caughtUpTail(client, config.dataDir, instance.id, 240_000);
    const expected = expectedAggregates(duo, file.from, state.cursor!.mintime);
    assert.ok(expected.events > 9000, `the log read covers the backfill (${expected.events} events)`);
    // Nothing counted twice, nothing skipped: the aggregates are those of the log itself.
    assert.deepEqual(file.authentication, expected);
    assert.equal(state.events, expected.events);
    const section = file.administration!;
    const administration = expectedAdministration(duo, section);
    assert.ok(administration.administratorEvents > 5000, `${administration.administratorEvents} administrator events`);
    assert.deepEqual(section.aggregates, administration);
    assert.equal(state.streams!.administrator!.events, administration.administratorEvents);
    // The reset put the state behind the file on disk, which is never trusted then: read again.
    assert.ok(state.rebuilds >= 1, 'the reset tail started its aggregates again from the log');
    await worker.kill('SIGTERM');
  });
});

/** Whether the activity scheduled at `scheduledEventId` is a fold of a log page. */
function isFold(
  events: {
    eventId?: unknown;
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  }[],
  scheduledEventId: number,
): boolean {
  const scheduled = events.find((e) => Number(e.eventId) === scheduledEventId);
  return scheduled?.activityTaskScheduledEventAttributes?.activityType?.name === duoJ1ActivityName('foldLogPage');
}
