import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, ScheduleDescription } from '@temporalio/client';
import { DEFAULT_SCHEDULE, type InstanceConfig, type PollingInterval } from '../src/config/instances';
import {
  type ScheduleApplyReport,
  applySchedules,
  canonicalSpec,
  catchupWindowMs,
  describeIfExists,
  describeInstanceSchedule,
  describeWhen,
  duoJ1InstanceOf,
  formatApplyReport,
  listDuoJ1Schedules,
  pauseInstanceSchedule,
  scheduleOptionsFor,
  scheduleSpecFor,
  triggerInstanceSchedule,
} from '../src/schedules';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { type DuoIngestionResult, WORKFLOW_TYPE, scheduleId } from '../src/workflows/contract';
import { waitFor } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import {
  startTestWorkers,
  temporaryDirectory,
  testClient,
  testConfig,
  testServer,
  uniqueTaskQueue,
} from './harness/temporal';
import { runDuoJ1, type CliRun } from './harness/cli';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** An instance whose Duo account is never called: apply needs only its id and polling interval. */
function unreachableInstance(pollingInterval: PollingInterval, id = `s-${randomUUID().slice(0, 8)}`): InstanceConfig {
  return {
    ...simulatorInstance(
      {
        url: 'http://127.0.0.1:9',
        apiHostname: 'api-12345678.duosecurity.com',
        integrationKey: 'DIAAAAAAAAAAAAAAAAAA',
        secretKey: 'unused',
      },
      { id },
    ),
    pollingInterval,
  };
}

function resultOf(report: ScheduleApplyReport, instanceId: string) {
  const result = report.results.find((candidate) => candidate.instanceId === instanceId);
  assert.ok(result, `the report has a line for ${instanceId}: ${JSON.stringify(report.results)}`);
  return result;
}

async function describeOrUndefined(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch {
    return undefined;
  }
}

async function scheduleIdsListed(client: Client): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const summary of client.schedule.list()) ids.add(summary.scheduleId);
  return ids;
}

describe('schedules: spec builder', function () {
  const intervals: [PollingInterval, number][] = [
    ['THIRTY_MINUTES', 30 * MINUTE],
    ['ONE_HOUR', HOUR],
    ['FOUR_HOURS', 4 * HOUR],
    ['EIGHT_HOURS', 8 * HOUR],
    ['TWELVE_HOURS', 12 * HOUR],
  ];
  for (const [interval, every] of intervals) {
    it(`${interval}: an interval of ${every / MINUTE} minutes with a whole-minute offset inside it`, () => {
      const offsets = new Set<number>();
      for (let n = 0; n < 40; n++) {
        const spec = scheduleSpecFor(unreachableInstance(interval, `tenant-${n}`));
        assert.equal(spec.calendars, undefined);
        assert.equal(spec.intervals?.length, 1);
        const [{ every: actualEvery, offset }] = spec.intervals ?? [];
        assert.equal(actualEvery, every);
        assert.ok(
          typeof offset === 'number' && offset >= 0 && offset < every && offset % MINUTE === 0,
          `offset ${offset}`,
        );
        offsets.add(offset);
      }
      assert.ok(offsets.size >= 10, `40 instances spread over at least 10 offsets, not ${offsets.size}`);
    });
  }

  it('derives the offset from the instance id only: the same on every call, different with another seed', () => {
    const first = scheduleSpecFor(unreachableInstance('FOUR_HOURS', 'acme-prod'));
    const again = scheduleSpecFor({ ...unreachableInstance('FOUR_HOURS', 'acme-prod'), description: 'other settings' });
    assert.deepEqual(again, first);
    const seeded = [0, 1, 2, 3, 4].map((n) =>
      scheduleSpecFor(unreachableInstance('FOUR_HOURS', 'acme-prod'), { offsetSeed: `s${n}` }),
    );
    assert.ok(
      seeded.some((spec) => spec.intervals?.[0].offset !== first.intervals?.[0].offset),
      'a seed moves the offset',
    );
  });

  it('ONE_DAY runs at the configured hour (default 02 UTC) with a minute offset', () => {
    const defaults = scheduleSpecFor(unreachableInstance('ONE_DAY', 'daily-a'));
    assert.equal(DEFAULT_SCHEDULE.hour, 2);
    const [calendar] = defaults.calendars ?? [];
    assert.equal(calendar.hour, 2);
    assert.equal(calendar.dayOfWeek, undefined, 'every day');
    assert.ok(typeof calendar.minute === 'number' && calendar.minute >= 0 && calendar.minute < 60);
    assert.equal(defaults.intervals, undefined);
    const atNine = scheduleSpecFor({
      ...unreachableInstance('ONE_DAY', 'daily-a'),
      schedule: { hour: 9, dayOfWeek: 'SUNDAY' },
    });
    assert.equal(atNine.calendars?.[0].hour, 9);
    assert.equal(atNine.calendars?.[0].minute, calendar.minute, 'the minute offset belongs to the instance');
  });

  it('ONE_WEEK runs on the configured day (default Sunday) at the configured hour', () => {
    const [sunday] = scheduleSpecFor(unreachableInstance('ONE_WEEK', 'weekly-a')).calendars ?? [];
    assert.equal(DEFAULT_SCHEDULE.dayOfWeek, 'SUNDAY');
    assert.equal(sunday.dayOfWeek, 'SUNDAY');
    assert.equal(sunday.hour, 2);
    const [friday] =
      scheduleSpecFor({ ...unreachableInstance('ONE_WEEK', 'weekly-a'), schedule: { hour: 17, dayOfWeek: 'FRIDAY' } })
        .calendars ?? [];
    assert.equal(friday.dayOfWeek, 'FRIDAY');
    assert.equal(friday.hour, 17);
    assert.match(describeWhen({ calendars: [friday] }), /^every FRIDAY at 17:\d\d UTC$/);
  });

  it('DISABLED has no schedule', () => {
    assert.throws(() => scheduleSpecFor(unreachableInstance('DISABLED', 'off')), /off has polling interval DISABLED/);
  });

  it('starts duoIngestion with the instance id and an execution-timeout backstop, overlap SKIP, a catch-up window of at most an hour', () => {
    const instance = unreachableInstance('THIRTY_MINUTES', 'acme');
    const options = scheduleOptionsFor(instance, { taskQueue: 'queue-1' });
    assert.equal(options.scheduleId, 'duo-ingestion-acme');
    assert.deepEqual(options.action, {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPE,
      taskQueue: 'queue-1',
      workflowId: 'duo-ingestion-acme',
      args: [{ instanceId: 'acme' }],
      memo: { instanceId: 'acme' },
      // The run's own deadline (6 hours by default) plus time to abort its job and free the instance.
      workflowExecutionTimeout: 6.5 * 3600_000,
    });
    assert.equal(options.policies?.overlap, 'SKIP');
    assert.equal(options.policies?.catchupWindow, 30 * MINUTE);
    assert.deepEqual(options.memo, { managedBy: 'duo-j1', instanceId: 'acme' });
    assert.equal(duoJ1InstanceOf({ scheduleId: options.scheduleId, memo: options.memo }), 'acme');
    assert.equal(duoJ1InstanceOf({ scheduleId: options.scheduleId }), undefined, 'no marker, not duo-j1');
    assert.equal(catchupWindowMs({ ...instance, pollingInterval: 'TWELVE_HOURS' }), HOUR);
    assert.equal(catchupWindowMs({ ...instance, pollingInterval: 'ONE_WEEK' }), HOUR);
    assert.equal(catchupWindowMs(instance, { intervalOverrideMs: 2000 }), 10_000, "Temporal's minimum");
  });

  it('compares a spec with the form the server describes it in', () => {
    const wanted = { calendars: [{ dayOfWeek: 'SUNDAY' as const, hour: 2, minute: 17, comment: 'weekly' }] };
    const range = <T>(value: T) => [{ start: value, end: value, step: 1 }];
    // What Temporal returns for it: every field as explicit ranges, an empty time zone for UTC.
    const described = {
      calendars: [
        {
          second: range(0),
          minute: range(17),
          hour: range(2),
          dayOfMonth: [{ start: 1, end: 31, step: 1 }],
          month: [{ start: 'JANUARY' as const, end: 'DECEMBER' as const, step: 1 }],
          year: [],
          dayOfWeek: range('SUNDAY' as const),
          comment: 'weekly',
        },
      ],
      intervals: [],
      skip: [],
      timezone: '',
    };
    assert.deepEqual(canonicalSpec(described), canonicalSpec(wanted));
    const otherHour = { ...described, calendars: [{ ...described.calendars[0], hour: range(3) }] };
    assert.notDeepEqual(canonicalSpec(otherHour), canonicalSpec(wanted));
    assert.deepEqual(
      canonicalSpec({ intervals: [{ every: 30 * MINUTE, offset: 7 * MINUTE }], calendars: [], skip: [], timezone: '' }),
      canonicalSpec({ intervals: [{ every: 30 * MINUTE, offset: 7 * MINUTE }] }),
    );
    assert.equal(describeWhen(described), 'every SUNDAY at 02:17 UTC');
    assert.equal(describeWhen({ intervals: [{ every: 30 * MINUTE, offset: 7 * MINUTE }] }), 'every 30m (offset 7m)');
  });

  it('accepts a short interval only as an explicit override of whole seconds', () => {
    const spec = scheduleSpecFor(unreachableInstance('ONE_WEEK', 'quick'), { intervalOverrideMs: 2000 });
    assert.equal(spec.intervals?.[0].every, 2000);
    assert.ok([0, 1000].includes(Number(spec.intervals?.[0].offset)));
    assert.throws(
      () => scheduleSpecFor(unreachableInstance('ONE_HOUR', 'quick'), { intervalOverrideMs: 1500 }),
      /whole number of seconds/,
    );
  });
});

describe('schedules: apply', function () {
  it('creates, updates, deletes and leaves alone, and applying twice changes nothing', async () => {
    const client = await testClient();
    const taskQueue = uniqueTaskQueue('sched');
    const halfHourly = unreachableInstance('THIRTY_MINUTES');
    const daily = unreachableInstance('ONE_DAY');
    const weekly = unreachableInstance('ONE_WEEK');
    const hourly = unreachableInstance('ONE_HOUR');
    const disabled = unreachableInstance('DISABLED');
    const squatted = unreachableInstance('FOUR_HOURS');

    // A schedule someone made by hand with a duo-j1-like id (no marker), and one whose id an
    // instance would use: neither is duo-j1's to change.
    const foreignId = scheduleId(`manual-${randomUUID().slice(0, 8)}`);
    const foreignSpec = { intervals: [{ every: 5 * HOUR }] };
    for (const id of [foreignId, scheduleId(squatted.id)]) {
      await client.schedule.create({
        scheduleId: id,
        spec: foreignSpec,
        action: { type: 'startWorkflow', workflowType: 'someoneElsesWorkflow', taskQueue, args: [] },
      });
    }
    // A duo-j1 schedule of another deployment (another task queue) in the same namespace.
    const otherDeployment = unreachableInstance('ONE_HOUR');
    await client.schedule.create(scheduleOptionsFor(otherDeployment, { taskQueue: uniqueTaskQueue('other') }));

    const config = testConfig([halfHourly, daily, weekly, hourly, disabled, squatted], { taskQueue });
    const first = await applySchedules(client, config);
    assert.equal(first.taskQueue, taskQueue);
    for (const instance of [halfHourly, daily, weekly, hourly])
      assert.equal(resultOf(first, instance.id).outcome, 'created', instance.id);
    assert.equal(resultOf(first, disabled.id).outcome, 'not-scheduled');
    assert.equal(resultOf(first, squatted.id).outcome, 'conflict');
    assert.match(resultOf(first, squatted.id).reason ?? '', /not created by duo-j1/);
    assert.equal(first.results.length, 6, 'nothing else was touched');
    assert.match(formatApplyReport(first), /4 created, 1 not-scheduled, 1 conflict/);

    const created = await client.schedule.getHandle(scheduleId(halfHourly.id)).describe();
    assert.deepEqual(created.memo, { managedBy: 'duo-j1', instanceId: halfHourly.id });
    assert.deepEqual(created.action.args, [{ instanceId: halfHourly.id }]);
    assert.equal(created.action.workflowType, WORKFLOW_TYPE);
    assert.equal(created.action.taskQueue, taskQueue);
    assert.equal(created.policies.overlap, 'SKIP');
    assert.equal(created.spec.intervals?.[0].every, 30 * MINUTE);
    const weeklyDescription = await client.schedule.getHandle(scheduleId(weekly.id)).describe();
    assert.equal(
      new Date(weeklyDescription.info.nextActionTimes[0]).getUTCDay(),
      0,
      'the next weekly run is on a Sunday',
    );
    assert.equal(new Date(weeklyDescription.info.nextActionTimes[0]).getUTCHours(), 2);

    // Applying the same configuration again sends no update.
    const ids = [halfHourly, daily, weekly, hourly].map((instance) => scheduleId(instance.id));
    const before = await Promise.all(ids.map((id) => client.schedule.getHandle(id).describe()));
    const second = await applySchedules(client, config);
    for (const instance of [halfHourly, daily, weekly, hourly])
      assert.equal(resultOf(second, instance.id).outcome, 'unchanged', instance.id);
    assert.equal(second.summary.deleted, 0);
    const after = await Promise.all(ids.map((id) => client.schedule.getHandle(id).describe()));
    for (const [index, description] of after.entries()) {
      assert.equal(description.info.lastUpdatedAt?.getTime(), before[index].info.lastUpdatedAt?.getTime(), ids[index]);
      assert.deepEqual(description.raw.conflictToken, before[index].raw.conflictToken, `${ids[index]} was not updated`);
    }

    // An operator pauses one; then the configuration changes.
    await pauseInstanceSchedule(client, daily.id, 'paused for maintenance');
    // Removed instances are found through the (eventually consistent) listing.
    await waitFor(
      async () => (await scheduleIdsListed(client)).has(scheduleId(weekly.id)),
      'the weekly schedule to be listed',
    );
    const changed = testConfig(
      [
        { ...halfHourly, pollingInterval: 'ONE_HOUR' },
        { ...daily, schedule: { hour: 5, dayOfWeek: 'SUNDAY' } },
        { ...hourly, pollingInterval: 'DISABLED' },
        disabled,
      ],
      { taskQueue },
    );
    const third = await applySchedules(client, changed);
    assert.equal(resultOf(third, halfHourly.id).outcome, 'updated');
    assert.ok(resultOf(third, halfHourly.id).changes?.includes('spec.intervals'));
    assert.equal(resultOf(third, daily.id).outcome, 'updated');
    assert.equal(resultOf(third, daily.id).paused, true);
    assert.equal(resultOf(third, hourly.id).outcome, 'deleted', 'DISABLED');
    assert.equal(resultOf(third, weekly.id).outcome, 'deleted', 'removed from the configuration');
    assert.equal(resultOf(third, disabled.id).outcome, 'not-scheduled');
    assert.equal(third.results.length, 5, 'the foreign and the other deployment’s schedules are not in the report');

    const updated = await client.schedule.getHandle(scheduleId(halfHourly.id)).describe();
    assert.equal(updated.spec.intervals?.[0].every, HOUR);
    assert.ok(Number(updated.spec.intervals?.[0].offset) < HOUR);
    const stillPaused = await client.schedule.getHandle(scheduleId(daily.id)).describe();
    assert.equal(stillPaused.state.paused, true);
    assert.equal(stillPaused.state.note, 'paused for maintenance');
    assert.deepEqual(
      stillPaused.spec.calendars?.[0].hour,
      [{ start: 5, end: 5, step: 1 }],
      'the paused schedule got the new hour',
    );
    assert.equal(await describeOrUndefined(client, scheduleId(hourly.id)), undefined);
    assert.equal(await describeOrUndefined(client, scheduleId(weekly.id)), undefined);

    // Not duo-j1's, or another deployment's: untouched.
    for (const id of [foreignId, scheduleId(squatted.id)]) {
      const foreign = await describeOrUndefined(client, id);
      assert.ok(foreign, `${id} still exists`);
      assert.equal(foreign.action.workflowType, 'someoneElsesWorkflow');
      assert.equal(foreign.spec.intervals?.[0].every, 5 * HOUR);
      assert.equal(foreign.info.lastUpdatedAt, undefined, `${id} was never updated`);
    }
    assert.ok(
      await describeOrUndefined(client, scheduleId(otherDeployment.id)),
      'the other deployment keeps its schedule',
    );

    // And the changed configuration, applied again, changes nothing either.
    const fourth = await applySchedules(client, changed);
    assert.deepEqual(fourth.results.map((result) => result.outcome).sort(), [
      'not-scheduled',
      'not-scheduled',
      'unchanged',
      'unchanged',
    ]);
    assert.equal(fourth.results.find((result) => result.instanceId === daily.id)?.paused, true);
  });
});

describe('schedules: runs', function () {
  it('a schedule with a short test interval fires and completes a duoIngestion run', async () => {
    const duo = await startDuoSimulator({ users: 12, seed: 31 });
    stopAtEnd(() => duo.close());
    const instance: InstanceConfig = { ...simulatorInstance(duo), pollingInterval: 'THIRTY_MINUTES' };
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();
    const handle = await client.schedule.create(
      scheduleOptionsFor(instance, { taskQueue: config.taskQueue, intervalOverrideMs: 2000 }),
    );
    try {
      let workflowId = '';
      await waitFor(async () => {
        const [firstAction] = (await handle.describe()).info.recentActions;
        workflowId = firstAction?.action.workflow.workflowId ?? '';
        return workflowId !== '';
      }, 'the schedule to start a run');
      // One run is enough: stop further actions so later tests have the worker to themselves.
      await handle.pause('test: first run observed');
      assert.ok(
        workflowId.startsWith(`${scheduleId(instance.id)}-`),
        `Temporal appended the action time: ${workflowId}`,
      );
      const run = client.workflow.getHandle(workflowId);
      const result = (await run.result()) as DuoIngestionResult;
      assert.equal(result.instanceId, instance.id);
      assert.equal(result.outcome, 'success');
      assert.equal(result.entities.duo_user, duo.tenant.users.length);
      const execution = await run.describe();
      assert.equal(execution.type, WORKFLOW_TYPE);
      assert.equal(execution.status.name, 'COMPLETED');
      assert.deepEqual(execution.memo, { instanceId: instance.id });
      assert.deepEqual(execution.searchAttributes.TemporalScheduledById, [scheduleId(instance.id)]);

      const view = await describeInstanceSchedule(client, instance.id);
      const seen = view.recentRuns.find((recent) => recent.workflowId === workflowId);
      assert.equal(seen?.status, 'COMPLETED');
      assert.equal(seen?.outcome, 'success');
      assert.equal(view.paused, true);
      assert.equal(view.note, 'test: first run observed');
    } finally {
      await handle.delete();
    }
  });

  it('trigger while a run is in progress does not start a second one (overlap SKIP)', async () => {
    // Slow pages (three of users, 300 ms each): the run is still in progress at the second trigger.
    const duo = await startDuoSimulator({ users: 900, seed: 32, latencyMs: 300 });
    stopAtEnd(() => duo.close());
    const instance: InstanceConfig = { ...simulatorInstance(duo), pollingInterval: 'ONE_WEEK' };
    const config = testConfig([instance]);
    const client = await testClient();
    const report = await applySchedules(client, config);
    assert.equal(resultOf(report, instance.id).outcome, 'created');
    await startTestWorkers(config);
    try {
      const first = await triggerInstanceSchedule(client, instance.id);
      assert.equal(first.outcome, 'started');
      assert.ok(first.workflowId);
      const second = await triggerInstanceSchedule(client, instance.id);
      assert.equal(second.outcome, 'skipped');
      assert.deepEqual(second.runningWorkflowIds, [first.workflowId]);

      const result = (await client.workflow.getHandle(first.workflowId).result()) as DuoIngestionResult;
      assert.equal(result.entities.duo_user, duo.tenant.users.length);
      const description = await client.schedule.getHandle(scheduleId(instance.id)).describe();
      assert.deepEqual(
        description.info.recentActions.map((recent) => recent.action.workflow.workflowId),
        [first.workflowId],
        'one run only',
      );
      assert.ok(description.info.numActionsSkippedOverlap >= 1, 'Temporal counted the skipped trigger');
    } finally {
      await client.schedule.getHandle(scheduleId(instance.id)).delete();
    }
  });
});

async function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return runDuoJ1(args, { PATH: process.env.PATH ?? '', HOME: temporaryDirectory('duo-j1-home-'), ...env });
}

describe('schedules: the duo-j1 schedule command', function () {
  it('applies from an instances file (--json), rejects unknown instances, pauses, describes and lists', async () => {
    const { address, namespace } = await testServer();
    const hourlyId = `cli-${randomUUID().slice(0, 8)}`;
    const offId = `cli-off-${randomUUID().slice(0, 8)}`;
    const file = path.join(temporaryDirectory('duo-j1-instances-'), 'instances.json');
    const entry = (id: string, pollingInterval: PollingInterval) => ({
      id,
      pollingInterval,
      apiHostname: 'api-12345678.duosecurity.com',
      integrationKey: 'DIAAAAAAAAAAAAAAAAAA',
      // Never resolved by schedule commands: the secret lives with the workers.
      secretKey: { env: 'DUO_SECRET_KEY_OF_THE_WORKERS' },
    });
    writeFileSync(file, JSON.stringify({ instances: [entry(hourlyId, 'ONE_HOUR'), entry(offId, 'DISABLED')] }));
    const taskQueue = uniqueTaskQueue('cli');
    const env = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      DUO_J1_INSTANCES: file,
      DUO_J1_TASK_QUEUE: taskQueue,
    };

    // Independent invocations run side by side: each one starts a Node process.
    const [applied, unknown] = await Promise.all([
      runCli(['schedule', 'apply', '--json'], env),
      runCli(['schedule', 'describe', '--instance', 'no-such-instance'], env),
    ]);
    assert.equal(applied.code, 0, applied.stderr);
    const report = JSON.parse(applied.stdout) as ScheduleApplyReport;
    assert.equal(report.taskQueue, taskQueue);
    assert.equal(resultOf(report, hourlyId).outcome, 'created');
    assert.equal(resultOf(report, hourlyId).scheduleId, `duo-ingestion-${hourlyId}`);
    assert.match(resultOf(report, hourlyId).when ?? '', /^every 1h/);
    assert.equal(resultOf(report, offId).outcome, 'not-scheduled');
    assert.equal(report.summary.created, 1);
    assert.equal(unknown.code, 2, 'a usage error: nothing ran');
    assert.match(unknown.stderr, /--instance "no-such-instance" is not a configured instance/);
    assert.match(unknown.stderr, new RegExp(hourlyId), 'the message names the configured instances');

    const paused = await runCli(['schedule', 'pause', '--instance', hourlyId], env);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(
      paused.stdout,
      new RegExp(`paused duo-ingestion-${hourlyId} \\(note: Paused with "duo-j1 schedule pause"`),
    );

    const [described, again] = await Promise.all([
      runCli(['schedule', 'describe', '--instance', hourlyId, '--json'], env),
      runCli(['schedule', 'apply'], env),
    ]);
    assert.equal(described.code, 0, described.stderr);
    const [view] = JSON.parse(described.stdout) as {
      instanceId: string;
      value: { taskQueue: string; paused: boolean; note: string; nextActionTimes: string[]; recentRuns: unknown[] };
    }[];
    assert.equal(view.instanceId, hourlyId);
    assert.equal(view.value.taskQueue, taskQueue);
    assert.equal(view.value.paused, true);
    assert.match(view.value.note, /^Paused with "duo-j1 schedule pause"/);
    assert.ok(view.value.nextActionTimes.length > 0);
    assert.deepEqual(view.value.recentRuns, []);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`unchanged\\s+duo-ingestion-${hourlyId}.*paused \\(left paused\\)`));

    const client = await testClient();
    // The listing is eventually consistent: wait until it shows the pause, then list through the CLI.
    await waitFor(
      async () => (await listDuoJ1Schedules(client)).some((listed) => listed.instanceId === hourlyId && listed.paused),
      'the paused schedule to be listed',
    );
    const listedByCli = await runCli(['schedule', 'list', '--json'], env);
    assert.equal(listedByCli.code, 0, listedByCli.stderr);
    const listed = (
      JSON.parse(listedByCli.stdout) as {
        instanceId: string;
        scheduleId: string;
        paused: boolean;
        configured: boolean;
      }[]
    ).find((candidate) => candidate.instanceId === hourlyId);
    assert.deepEqual(
      listed && { scheduleId: listed.scheduleId, paused: listed.paused, configured: listed.configured },
      { scheduleId: scheduleId(hourlyId), paused: true, configured: true },
    );
    await client.schedule.getHandle(scheduleId(hourlyId)).delete();
  });

  it('delete succeeds when there is nothing to delete, so an uninstall script can run it twice', async () => {
    const { address, namespace } = await testServer();
    const id = `cli-del-${randomUUID().slice(0, 8)}`;
    const neverId = `cli-never-${randomUUID().slice(0, 8)}`;
    const file = path.join(temporaryDirectory('duo-j1-instances-'), 'instances.json');
    const entry = (instanceId: string, pollingInterval: PollingInterval) => ({
      id: instanceId,
      pollingInterval,
      apiHostname: 'api-12345678.duosecurity.com',
      integrationKey: 'DIAAAAAAAAAAAAAAAAAA',
      secretKey: { env: 'DUO_SECRET_KEY_OF_THE_WORKERS' },
    });
    writeFileSync(file, JSON.stringify([entry(id, 'ONE_HOUR'), entry(neverId, 'DISABLED')]));
    const env = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      DUO_J1_INSTANCES: file,
      DUO_J1_TASK_QUEUE: uniqueTaskQueue('cli-delete'),
    };
    const applied = await runCli(['schedule', 'apply'], env);
    assert.equal(applied.code, 0, applied.stderr);

    const first = await runCli(['schedule', 'delete', '--instance', id], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^deleted duo-ingestion-${id} `, 'm'));
    const second = await runCli(['schedule', 'delete', '--instance', id, '--json'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), [
      { instanceId: id, scheduleId: scheduleId(id), value: { deleted: false } },
    ]);
    const never = await runCli(['schedule', 'delete', '--instance', neverId], env);
    assert.equal(never.code, 0, never.stderr);
    assert.match(
      never.stdout,
      new RegExp(`duo-ingestion-${neverId}: no schedule to delete \\(deleted already or never created\\)`),
    );
    const all = await runCli(['schedule', 'delete'], env);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(await describeIfExists((await testClient()).schedule.getHandle(scheduleId(id))), undefined);
  });
});
