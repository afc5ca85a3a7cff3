import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { InstanceConfig } from '../src/config/instances';
import { applySchedules, triggerInstanceSchedule } from '../src/schedules';
import { startDuoSimulator, type DuoSimulator } from '../src/simulators/duo/server';
import { startJupiterOneSimulator, type JupiterOneSimulator } from '../src/simulators/jupiterone/server';
import { temporalCliPath } from '../src/worker/dev-server';
import {
  COORDINATOR_WORKFLOW_TYPE,
  coordinatorStateQuery,
  coordinatorWorkflowId,
  type CoordinatorState,
} from '../src/workflows/coordination-contract';
import {
  FailureType,
  WORKFLOW_TYPE,
  ingestionWorkflowId,
  progressQuery,
  scheduleId,
  type DuoIngestionResult,
  type JupiterOneDeliveryReport,
} from '../src/workflows/contract';
import { DUO_J1_ARGS } from './harness/cli';
import { ingestionHistory, keepHistory } from './harness/histories';
import { activitiesScheduled, waitFor } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig, testServer, uniqueTaskQueue } from './harness/temporal';

const execute = promisify(execFile);
const REPO = path.resolve(__dirname, '..');

async function temporalCli(args: string[]): Promise<string> {
  const { address } = await testServer();
  const { stdout } = await execute(temporalCliPath(), [...args, '--address', address]);
  return stdout;
}

/** `duo-j1 run --instance <id> --json`: its exit code and result. */
async function duoJ1Run(
  taskQueue: string,
  instanceId: string,
  extra: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { address } = await testServer();
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TEMPORAL_ADDRESS: address };
  return execute(
    process.execPath,
    [...DUO_J1_ARGS, 'run', '--instance', instanceId, '--task-queue', taskQueue, ...extra],
    { cwd: REPO, env },
  ).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

async function coordinatorState(client: Client, instanceId: string): Promise<CoordinatorState | undefined> {
  try {
    return await client.workflow.getHandle(coordinatorWorkflowId(instanceId)).query(coordinatorStateQuery);
  } catch {
    return undefined;
  }
}

async function runningRunsOf(client: Client, instanceId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list({
    query: `WorkflowType="${WORKFLOW_TYPE}" AND ExecutionStatus="Running" AND DuoInstanceId="${instanceId}"`,
  })) {
    ids.push(execution.workflowId);
  }
  return ids;
}

/** The id of the first WorkflowTaskCompleted after every activity of the given types completed. */
async function eventAfterActivities(handle: WorkflowHandle, activityTypes: readonly string[]): Promise<number> {
  const events = (await handle.fetchHistory()).events ?? [];
  let last = 0;
  for (const activityType of activityTypes) {
    const scheduled = activitiesScheduled(events, activityType);
    assert.ok(scheduled.length > 0, `the history has ${activityType}`);
    for (const { eventId } of scheduled) {
      const completed = events.find(
        (e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1) === Number(eventId),
      );
      assert.ok(completed, `${activityType} completed`);
      last = Math.max(last, Number(completed.eventId));
    }
  }
  const task = events.find((e) => Number(e.eventId) > last && e.workflowTaskCompletedEventAttributes);
  assert.ok(task, `a workflow task completed after ${activityTypes.join(', ')}`);
  return Number(task.eventId);
}

function failureTypeOf(error: unknown): string | undefined {
  return error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure
    ? (error.cause.type ?? undefined)
    : undefined;
}

/** A Duo simulator serving a generated tenant, an instance reading it, and workers serving that instance. */
async function servedInstance(
  duoOptions: Parameters<typeof startDuoSimulator>[0],
  instanceOptions: Parameters<typeof simulatorInstance>[1] & {
    pollingInterval?: InstanceConfig['pollingInterval'];
  } = {},
) {
  const duo = await startDuoSimulator(duoOptions);
  stopAtEnd(() => duo.close());
  const instance: InstanceConfig = {
    ...simulatorInstance(duo, instanceOptions),
    pollingInterval: instanceOptions.pollingInterval ?? 'DISABLED',
  };
  const config = testConfig([instance]);
  await startTestWorkers(config);
  return { duo, instance, config, client: await testClient() };
}

/** A reset point: a workflow task of the run, or the first after the given activities all completed. */
type ResetPoint = { type: 'FirstWorkflowTask' | 'LastWorkflowTask' } | { afterActivities: readonly string[] };

interface ResetVariant {
  name: string;
  running: boolean;
  point: ResetPoint;
  jupiterone?: boolean;
}

const VARIANTS: ResetVariant[] = [
  { name: 'reset-running-first-workflow-task', running: true, point: { type: 'FirstWorkflowTask' } },
  { name: 'reset-running-last-workflow-task', running: true, point: { type: 'LastWorkflowTask' } },
  { name: 'reset-finished-first-workflow-task', running: false, point: { type: 'FirstWorkflowTask' } },
  { name: 'reset-finished-last-workflow-task', running: false, point: { type: 'LastWorkflowTask' } },
  // The graph is built as the fetch stages it: built once that build and every fetch are done.
  {
    name: 'reset-finished-after-build',
    running: false,
    point: { afterActivities: ['fetchResource', 'buildGraphAsFetched'] },
  },
  {
    name: 'reset-finished-jupiterone-after-job-start',
    running: false,
    point: { afterActivities: ['validateInstance'] },
    jupiterone: true,
  },
];

describe('exclusivity: resets, terminate and cancel never wedge an instance', function () {
  this.timeout(300_000);
  let duo: DuoSimulator;
  let j1: JupiterOneSimulator;
  let client: Client;

  before(async () => {
    // Slow pages: a run fetches for several seconds, long enough to be reset, cancelled or terminated.
    duo = await startDuoSimulator({ users: 3000, seed: 61, latencyMs: 500 });
    j1 = await startJupiterOneSimulator();
    stopAtEnd(() => duo.close());
    stopAtEnd(() => j1.close());
    client = await testClient();
  });

  /**
   * Starts a run, resets it at the variant's point (while it runs, or once finished), waits for the
   * reset run to hold the instance, then ends it as asked. Afterwards the next `duo-j1 run` of the
   * instance must succeed, and nothing may be left holding the instance or running.
   */
  async function resetThenEnd(
    variant: ResetVariant,
    ending: 'terminate' | 'cancel',
    freeBy: 'next-run' | 'coordinator',
  ) {
    const instance: InstanceConfig = simulatorInstance(duo, variant.jupiterone ? { jupiterone: j1 } : {});
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const workflowId = `${variant.name}-${uniqueTaskQueue()}`;
    const first = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId,
      args: [{ instanceId: instance.id }],
    });
    if (variant.running) {
      await waitFor(async () => (await first.query(progressQuery)).phase === 'fetching', 'the run to fetch');
    } else {
      await first.result();
    }
    const point =
      'type' in variant.point
        ? ['--type', variant.point.type]
        : ['--event-id', String(await eventAfterActivities(first, variant.point.afterActivities))];
    await temporalCli([
      'workflow',
      'reset',
      '--workflow-id',
      workflowId,
      ...point,
      '--reason',
      `test: ${variant.name}`,
    ]);
    const reset = client.workflow.getHandle(workflowId);
    let resetRunId = '';
    await waitFor(async () => {
      resetRunId = (await reset.describe()).runId;
      return resetRunId !== first.firstExecutionRunId;
    }, 'the reset run');
    await waitFor(
      async () => (await coordinatorState(client, instance.id))?.holder?.runId === resetRunId,
      'the reset run to hold the instance',
    );
    const resetRun = client.workflow.getHandle(workflowId, resetRunId);
    if (ending === 'terminate') await resetRun.terminate('test: terminate the reset run');
    else await resetRun.cancel();
    await assert.rejects(resetRun.result(), WorkflowFailedError);
    if (ending === 'cancel') {
      await keepHistory(ingestionHistory(variant.name), `${variant.name}, then cancelled`, resetRun);
    }

    if (freeBy === 'coordinator') {
      // Nobody asks: the coordinator notices the holder is gone on its own, within a minute.
      await waitFor(
        async () => (await coordinatorState(client, instance.id))?.holder === undefined,
        'the coordinator to free the instance',
        60_000,
      );
    }
    const next = await duoJ1Run(config.taskQueue, instance.id, ['--json']);
    assert.equal(next.code, 0, `the next run succeeds: ${next.stderr}`);
    const result = JSON.parse(next.stdout) as DuoIngestionResult;
    assert.equal(result.outcome, 'success');
    assert.equal(result.entities.duo_user, duo.tenant.users.length);
    assert.equal((await coordinatorState(client, instance.id))?.holder, undefined, 'nothing holds the instance');
    await waitFor(async () => (await runningRunsOf(client, instance.id)).length === 0, 'no run left open');
    if (variant.jupiterone) {
      await waitFor(
        () => j1.jobs().every((job) => job.job.status === 'FINISHED' || job.job.status === 'ABORTED'),
        'no JupiterOne job left open',
      );
    }
    return { instance, client };
  }

  it('each reset variant, then terminate of the reset run: the next run succeeds, nothing left open', async () => {
    await Promise.all(
      VARIANTS.map(async (variant, index) => {
        const { instance } = await resetThenEnd(variant, 'terminate', index === 0 ? 'coordinator' : 'next-run');
        if (index === 1) {
          await keepHistory(
            'coordinator',
            'a coordinator: grants, a holder reset and terminated, cleaned up after, released',
            client.workflow.getHandle(coordinatorWorkflowId(instance.id)),
          );
        }
      }),
    );
  });

  it('each reset variant, then cancel of the reset run: the next run succeeds, nothing left open', async () => {
    await Promise.all(VARIANTS.map((variant) => resetThenEnd(variant, 'cancel', 'next-run')));
  });

  it('a finished JupiterOne run reset after its job started delivers anew and reports its own job', async () => {
    const instance = simulatorInstance(duo, { jupiterone: j1 });
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const workflowId = `reset-j1-own-${uniqueTaskQueue()}`;
    const first = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId,
      args: [{ instanceId: instance.id }],
    });
    const before = (await first.result()) as DuoIngestionResult;
    const event = await eventAfterActivities(first, ['validateInstance']); // which starts the job
    await temporalCli([
      'workflow',
      'reset',
      '--workflow-id',
      workflowId,
      '--event-id',
      String(event),
      '--reason',
      'test',
    ]);
    await waitFor(
      async () => (await client.workflow.getHandle(workflowId).describe()).runId !== first.firstExecutionRunId,
      'the reset run',
    );
    const after = (await client.workflow.getHandle(workflowId).result()) as DuoIngestionResult;
    const oldJob = (before.delivery as JupiterOneDeliveryReport).jobId;
    const newJob = after.delivery as JupiterOneDeliveryReport;
    assert.notEqual(newJob.jobId, oldJob, 'its own job, not the replaced run’s');
    assert.ok(newJob.uploaded.entities > 0, 'it uploaded the graph itself');
    assert.equal(j1.jobs().find((job) => job.job.id === newJob.jobId)?.job.status, 'FINISHED');
    assert.equal(after.pipelineAttempts, 2, 'it acquired the instance again and started over');
  });
});

describe('exclusivity: busy, deadlines and input checked before the instance is taken', function () {
  this.timeout(180_000);

  it('a second run of a busy instance fails InstanceBusy at once, naming the holder', async () => {
    const { instance, config, client } = await servedInstance({ users: 1500, seed: 62, latencyMs: 300 });
    const holder = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `holder-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id }],
    });
    await waitFor(async () => (await holder.query(progressQuery)).phase === 'fetching', 'the first run to fetch');
    const busy = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `busy-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id }],
    });
    const error = await busy.result().then(
      () => assert.fail('must fail'),
      (failure: unknown) => failure,
    );
    assert.equal(failureTypeOf(error), FailureType.InstanceBusy);
    assert.match((error as WorkflowFailedError).cause?.message ?? '', new RegExp(holder.workflowId));
    await keepHistory('instance-busy', 'a run that finds its instance held by another', busy);
    assert.equal(((await holder.result()) as DuoIngestionResult).outcome, 'success');
    const described = await busy.describe();
    assert.deepEqual(described.searchAttributes.DuoOutcome, ['busy']);
  });

  it('rejects a bad tuning value and an unknown instance before taking anything', async () => {
    const { instance, config, client } = await servedInstance({ users: 10, seed: 63 });
    const bad = await client.workflow
      .execute(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId: `bad-tuning-${uniqueTaskQueue()}`,
        args: [{ instanceId: instance.id, tuning: { heartbeatTimeoutSeconds: -5, deadlineSecs: 3 } }],
      })
      .then(
        () => assert.fail('must fail'),
        (error: unknown) => error as WorkflowFailedError,
      );
    assert.equal(failureTypeOf(bad), FailureType.Configuration);
    assert.match(bad.cause?.message ?? '', /tuning\.heartbeatTimeoutSeconds must be a whole number from 1/);
    assert.match(bad.cause?.message ?? '', /tuning\.deadlineSecs is not a tuning value/);

    const unknown = await client.workflow
      .execute(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId: `unknown-${uniqueTaskQueue()}`,
        args: [{ instanceId: 'no-such-instance' }],
      })
      .then(
        () => assert.fail('must fail'),
        (error: unknown) => error,
      );
    assert.equal(failureTypeOf(unknown), FailureType.UnknownInstance);
    for (const id of [instance.id, 'no-such-instance']) {
      await assert.rejects(
        client.workflow.getHandle(coordinatorWorkflowId(id)).describe(),
        /not found/i,
        'no coordinator was started: nothing was taken',
      );
    }
    // The instance is free: a good run succeeds at once.
    const good = (await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `good-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id }],
    })) as DuoIngestionResult;
    assert.equal(good.outcome, 'success');
  });

  it('a run whose deadline passes during upload aborts its JupiterOne job and frees the instance', async () => {
    const j1 = await startJupiterOneSimulator();
    stopAtEnd(() => j1.close());
    const { instance, config, client } = await servedInstance({ users: 2000, seed: 64 }, { jupiterone: j1 });
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `deadline-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id, tuning: { deadlineSeconds: 12 } }],
    });
    // Once the job has started, JupiterOne slows right down: the deadline passes mid-upload (the
    // uploads go as the graph is built, both kinds at once, and end 15 s after the last of them).
    await waitFor(() => j1.requestLog().some((request) => request.route === 'start-job'), 'the job to start', 20_000);
    j1.setFaults({ latencyMs: 15_000 });
    const error = await handle.result().then(
      () => assert.fail('must fail'),
      (failure: unknown) => failure as WorkflowFailedError,
    );
    assert.equal(failureTypeOf(error), FailureType.DeadlineExceeded);
    assert.ok(
      !j1.requestLog().some((request) => request.route === 'finalize'),
      'the deadline passed during the upload, before finalizing',
    );
    j1.setFaults({ latencyMs: 0 });
    await waitFor(() => j1.jobs().length === 1 && j1.jobs()[0].job.status === 'ABORTED', 'the job aborted');
    assert.match(j1.jobs()[0].abortReason ?? '', /deadline/);
    assert.deepEqual((await handle.describe()).searchAttributes.DuoOutcome, ['deadline-exceeded']);
    await keepHistory(
      ingestionHistory('deadline-during-upload'),
      'a run whose deadline passes while it uploads',
      handle,
    );
    assert.equal((await coordinatorState(client, instance.id))?.holder, undefined, 'the instance is free');
  });

  it('schedule trigger while a `duo-j1 run` holds the instance is skipped, not a run that fails', async () => {
    const { instance, config, client } = await servedInstance(
      { users: 1500, seed: 65, latencyMs: 300 },
      { pollingInterval: 'ONE_WEEK' },
    );
    await applySchedules(client, config);
    try {
      const started = await duoJ1Run(config.taskQueue, instance.id, ['--no-wait']);
      assert.equal(started.code, 0, started.stderr);
      const cliRun = client.workflow.getHandle(ingestionWorkflowId(instance.id));
      await waitFor(async () => (await cliRun.query(progressQuery)).phase === 'fetching', 'the CLI run to fetch');
      const trigger = await triggerInstanceSchedule(client, instance.id);
      assert.equal(trigger.outcome, 'skipped');
      assert.deepEqual(trigger.runningWorkflowIds, [ingestionWorkflowId(instance.id)]);
      const description = await client.schedule.getHandle(scheduleId(instance.id)).describe();
      assert.equal(description.info.recentActions.length, 0, 'the schedule started no run');
      assert.equal(((await cliRun.result()) as DuoIngestionResult).outcome, 'success');
    } finally {
      await client.schedule.getHandle(scheduleId(instance.id)).delete();
    }
  });
});

describe('what the Temporal UI and CLI show', function () {
  this.timeout(180_000);

  it('`temporal workflow list` by DuoInstanceId finds runs started by a schedule, the CLI and by type name', async () => {
    const { instance, config, client } = await servedInstance({ users: 40, seed: 66 }, { pollingInterval: 'ONE_WEEK' });
    await applySchedules(client, config);
    const ids: string[] = [];
    try {
      const triggered = await triggerInstanceSchedule(client, instance.id);
      assert.equal(triggered.outcome, 'started');
      ids.push(triggered.workflowId!);
      await client.workflow.getHandle(triggered.workflowId!).result();
    } finally {
      await client.schedule.getHandle(scheduleId(instance.id)).delete();
    }
    const cli = await duoJ1Run(config.taskQueue, instance.id, ['--json']);
    assert.equal(cli.code, 0, cli.stderr);
    ids.push(ingestionWorkflowId(instance.id));
    const byType = `by-type-${uniqueTaskQueue()}`;
    await temporalCli([
      'workflow',
      'execute',
      '--type',
      WORKFLOW_TYPE,
      '--task-queue',
      config.taskQueue,
      '--workflow-id',
      byType,
      '--input',
      JSON.stringify({ instanceId: instance.id }),
    ]);
    ids.push(byType);

    let listed: { workflowId: string; type: string }[] = [];
    await waitFor(async () => {
      const stdout = await temporalCli([
        'workflow',
        'list',
        '--query',
        `DuoInstanceId="${instance.id}"`,
        '--output',
        'json',
      ]);
      listed = (JSON.parse(stdout || '[]') as { execution: { workflowId: string }; type: { name: string } }[]).map(
        (row) => ({ workflowId: row.execution.workflowId, type: row.type.name }),
      );
      return listed.length >= 3;
    }, 'the three runs to be listed');
    assert.deepEqual(listed.map((row) => row.workflowId).sort(), [...ids].sort());
    assert.ok(
      listed.every((row) => row.type === WORKFLOW_TYPE),
      'no coordinator among the runs',
    );
    const outcomes = await temporalCli([
      'workflow',
      'count',
      '--query',
      `DuoInstanceId="${instance.id}" AND DuoOutcome="success"`,
    ]);
    assert.match(outcomes, /3/);

    // The coordinator is plainly not a run: its own type, its own id, a summary saying so.
    const coordinator = await client.workflow.getHandle(coordinatorWorkflowId(instance.id)).describe();
    assert.equal(coordinator.type, COORDINATOR_WORKFLOW_TYPE);
    assert.match((await coordinator.staticSummary()) ?? '', /not an ingestion run/);
  });

  it('names activities, describes the progress query and shows progress as current details', async () => {
    const { instance, config, client } = await servedInstance({ users: 40, seed: 67 });
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `ui-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id }],
    });
    await handle.result();
    const events = (await handle.fetchHistory()).events ?? [];
    const summaries = events
      .filter((event) => event.activityTaskScheduledEventAttributes)
      .map((event) => event.userMetadata?.summary?.data)
      .map((data) => (data ? (JSON.parse(Buffer.from(data).toString('utf8')) as string) : undefined));
    assert.ok(summaries.includes('fetch users'), JSON.stringify(summaries));
    assert.ok(summaries.includes('acquire the instance'));
    // What the UI's Queries tab and "current details" read: the SDK's built-in metadata query.
    const metadata = await handle.query<{
      definition?: { queryDefinitions?: { name: string; description?: string }[] };
      currentDetails?: string;
    }>('__temporal_workflow_metadata');
    const progress = metadata.definition?.queryDefinitions?.find((query) => query.name === 'progress');
    assert.match(progress?.description ?? '', /phase/);
    assert.match(metadata.currentDetails ?? '', /done/);
  });
});

describe('search attributes not registered', function () {
  this.timeout(180_000);

  it('a run works and says so; `duo-j1 cluster setup` registers them, and is safe to run again', async () => {
    const { address } = await testServer();
    const namespace = `plain-${uniqueTaskQueue()}`;
    const connection = await Connection.connect({ address });
    stopAtEnd(() => connection.close());
    await temporalCli(['operator', 'namespace', 'create', '--namespace', namespace]);
    const client = new Client({ connection, namespace });
    const duo = await startDuoSimulator({ users: 20, seed: 68 });
    stopAtEnd(() => duo.close());
    const instance = simulatorInstance(duo);
    const config = testConfig([instance]);
    const logged: string[] = [];
    await waitFor(async () => {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return true;
      } catch {
        return false;
      }
    }, 'the new namespace');
    await startTestWorkers(config, {
      temporal: { address, namespace },
      log: (level, message) => logged.push(`${level}: ${message}`),
    });
    const run = async () => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId: `plain-${uniqueTaskQueue()}`,
        args: [{ instanceId: instance.id }],
      });
      assert.equal(((await handle.result()) as DuoIngestionResult).outcome, 'success');
      return (await handle.describe()).searchAttributes;
    };
    const without = await run();
    assert.equal(without.DuoInstanceId, undefined);
    assert.ok(
      logged.some((line) =>
        /^warn: Search attributes DuoInstanceId, DuoOutcome are not registered.*duo-j1 cluster setup/.test(line),
      ),
      logged.join('\n'),
    );

    const setup = async () =>
      JSON.parse(
        (
          await execute(process.execPath, [...DUO_J1_ARGS, 'cluster', 'setup', '--namespace', namespace, '--json'], {
            cwd: REPO,
            env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TEMPORAL_ADDRESS: address },
          })
        ).stdout,
      ) as { registered: string[]; alreadyPresent: string[] };
    assert.deepEqual(await setup(), { namespace, registered: ['DuoInstanceId', 'DuoOutcome'], alreadyPresent: [] });
    assert.deepEqual(await setup(), { namespace, registered: [], alreadyPresent: ['DuoInstanceId', 'DuoOutcome'] });
    const withThem = await run();
    assert.deepEqual(withThem.DuoInstanceId, [instance.id]);
    assert.deepEqual(withThem.DuoOutcome, ['success']);
  });
});
