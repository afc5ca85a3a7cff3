/**
 * Never finalize what was not read whole (docs/completeness.md), end to end: the faults after which
 * a run once reported success while JupiterOne's DIFF finalize deleted data never read, each
 * provoked on the real dev server with real workers, and what must hold instead — the run ends
 * partial or starts over, and JupiterOne keeps every object of the types concerned. The suite's
 * harness checks after every test that no job was finalized with fewer objects of a complete type
 * than its run built (test/harness/jupiterone.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { InstanceConfig } from '../src/config/instances';
import type { HeldGraph } from '../src/simulators/jupiterone/graph';
import type { DuoPagingAnomaly } from '../src/simulators/duo/server';
import { startDuoSimulator, type DuoSimulator } from '../src/simulators/duo/server';
import type { JupiterOneSimulator } from '../src/simulators/jupiterone/server';
import { stagingDirectory } from '../src/worker/runtime';
import { convertedDatasetName } from '../src/graph/converted-part';
import { computePartialTypes } from '../src/graph/partial-datasets';
import {
  RESOURCES,
  WORKFLOW_TYPE,
  duoJ1ActivityName,
  progressQuery,
  type DuoIngestionInput,
  type DuoIngestionResult,
  type JupiterOneDeliveryReport,
} from '../src/workflows/contract';
import { expectedGraph } from './harness/expected-graph';
import { activitiesScheduled, waitFor } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import { startTestJupiterOneSimulator } from './harness/jupiterone';
import { stopAtEnd } from './harness/root-hooks';
import {
  startRunOnWorkerProcess,
  startTestWorkers,
  testClient,
  testConfig,
  testServer,
  uniqueTaskQueue,
} from './harness/temporal';
import { DUO_J1_ARGS } from './harness/cli';

const exec = promisify(execFile);

/** What the partial-dataset rule makes partial when the users fail (the rule is tested on its own). */
const USERS_FAILED_PARTIAL = computePartialTypes(
  Object.fromEntries(RESOURCES.map((r) => [r, { status: r === 'users' ? 'failed' : 'complete' }])),
)
  .map((p) => p.type)
  .sort();

/** The `_key`s JupiterOne holds per `_type` (mapped relationships included). */
function keysByType(held: HeldGraph): Map<string, string[]> {
  const byType = new Map<string, string[]>();
  const add = (type: string, key: string) => byType.set(type, [...(byType.get(type) ?? []), key]);
  for (const entity of held.entities) add(entity._type, entity._key);
  for (const relationship of held.relationships) add(relationship._type, relationship._key);
  for (const mapped of held.mappedRelationships) add(mapped.relationship._type, mapped.relationship._key);
  for (const keys of byType.values()) keys.sort();
  return byType;
}

/** The resource the run's build beside the fetch last reported reaching, as the server holds it. */
async function buildReached(handle: WorkflowHandle): Promise<string | undefined> {
  for (const pending of (await handle.describe()).raw.pendingActivities ?? []) {
    if (pending.activityType?.name !== duoJ1ActivityName('buildGraphAsFetched')) continue;
    const payload = pending.heartbeatDetails?.payloads?.[0];
    if (payload) return (defaultPayloadConverter.fromPayload(payload) as { resource?: string }).resource;
  }
  return undefined;
}

function runsFolder(config: { dataDir: string }): string {
  return path.join(stagingDirectory(config as never), 'runs');
}

async function stagedRuns(config: { dataDir: string }): Promise<string[]> {
  return existsSync(runsFolder(config)) ? readdir(runsFolder(config)) : [];
}

async function ingest(
  instance: InstanceConfig,
  taskQueue: string,
  tuning: DuoIngestionInput['tuning'] = {},
): Promise<DuoIngestionResult> {
  const client = await testClient();
  return (await client.workflow.execute(WORKFLOW_TYPE, {
    taskQueue,
    workflowId: `complete-${uniqueTaskQueue()}`,
    args: [{ instanceId: instance.id, tuning }],
  })) as DuoIngestionResult;
}

describe('never finalizing what was not read whole', function () {
  describe('a Duo list that does not end as Duo ends one', function () {
    let duo: DuoSimulator;
    let j1: JupiterOneSimulator;
    let instance: InstanceConfig;
    let taskQueue: string;
    let clean: Map<string, string[]>;
    const logLines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];

    before(async () => {
      duo = await startDuoSimulator({ users: 900, seed: 61 });
      stopAtEnd(() => duo.close());
      j1 = await startTestJupiterOneSimulator();
      instance = simulatorInstance(duo, { jupiterone: j1 });
      const config = testConfig([instance]);
      taskQueue = config.taskQueue;
      await startTestWorkers(config, { log: (level, message, fields) => logLines.push({ level, message, fields }) });
      const first = await ingest(instance, taskQueue);
      assert.equal(first.outcome, 'success');
      clean = keysByType(j1.heldGraph({ scope: `duo-${instance.id}` }));
      assert.equal(clean.get('duo_user')?.length, 900);
    });
    afterEach(() => duo.setFaults({}));

    const cases: [DuoPagingAnomaly, RegExp][] = [
      ['stuck-offset', /gives next_offset 300, which does not move forward \(300 records read of 900 announced\)/],
      ['empty-page', /holds no records yet gives next_offset/],
      ['missing-metadata', /has no "metadata"/],
      ['ends-early', /the list ended after 600 records, but Duo announced 900 \(total_objects\)/],
    ];
    for (const [kind, reason] of cases) {
      it(`${kind}: the users fail for good, the run is partial, and JupiterOne keeps every object of their types`, async () => {
        duo.setFaults({ pagingAnomalies: { '/admin/v1/users': { kind, fromOffset: 300 } } });
        logLines.length = 0;
        const client = await testClient();
        const handle = await client.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId: `anomaly-${kind}-${uniqueTaskQueue()}`,
          args: [{ instanceId: instance.id }],
        });
        const result = (await handle.result()) as DuoIngestionResult;

        assert.equal(result.outcome, 'partial');
        const users = result.resources.users;
        assert.equal(users.status, 'failed');
        assert.equal(users.errorType, 'DuoIncompleteListError');
        assert.match(users.reason ?? '', reason);
        const partial = result.partialTypes.map((p) => p.type).sort();
        assert.deepEqual(partial, USERS_FAILED_PARTIAL);
        assert.ok(partial.includes('duo_user') && partial.includes('duo_user_is_employee'));
        // The reason is in the progress query and in the worker's log too.
        const progress = await handle.query(progressQuery);
        assert.match(progress.resources.users.reason ?? '', reason);
        assert.ok(
          logLines.some((line) => line.level === 'error' && line.fields?.endpoint === '/admin/v1/users'),
          'an error line names the endpoint',
        );

        // The build begun beside the fetches, which had applied pages of the users, was stopped,
        // and the graph built from the resources that completed.
        const events = (await handle.fetchHistory()).events ?? [];
        const scheduled = (name: string) => activitiesScheduled(events, name);
        const [following] = scheduled('buildGraphAsFetched');
        assert.ok(
          events.some(
            (event) =>
              String(event.activityTaskCanceledEventAttributes?.scheduledEventId) === String(following?.eventId),
          ),
          'the build as fetched was cancelled',
        );
        assert.equal(scheduled('buildGraph').length, 1, 'the graph built after the fetch');
        // That build had uploaded into the run's job what it made of them: the job was aborted, and
        // the graph built after the fetch went into a new one.
        const delivered = (result.delivery as JupiterOneDeliveryReport).jobId;
        const replaced = j1.jobs().filter((job) => job.abortReason?.includes('uploaded into a new job'));
        assert.ok(replaced.length > 0, 'a job aborted for a new one');
        assert.ok(
          replaced.every((job) => job.job.status === 'ABORTED' && job.job.id !== delivered),
          'the job uploaded into as the graph was built is not the one finalized',
        );
        assert.equal(j1.jobs().find((job) => job.job.id === delivered)?.job.status, 'FINISHED');

        // JupiterOne kept every object of the users' types, and the rest is as a clean run left it.
        const held = keysByType(j1.heldGraph({ scope: `duo-${instance.id}` }));
        for (const type of new Set([...clean.keys(), ...held.keys()])) {
          assert.deepEqual(held.get(type) ?? [], clean.get(type) ?? [], `${type} as the clean run left it`);
        }
        const finalize = j1
          .requestLog()
          .filter((entry) => entry.route === 'finalize')
          .at(-1);
        assert.deepEqual([...(finalize?.partialTypes ?? [])].sort(), partial);
      });
    }

    it('`duo-j1 run` exits 3 and names the reason when a list cannot be read whole', async () => {
      duo.setFaults({ pagingAnomalies: { '/admin/v1/users': { kind: 'stuck-offset', fromOffset: 300 } } });
      const { address } = await testServer();
      const outcome = await exec(process.execPath, [...DUO_J1_ARGS, 'run', '--instance', instance.id], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          TEMPORAL_ADDRESS: address,
          DUO_J1_TASK_QUEUE: taskQueue,
        },
      }).then(
        () => assert.fail('a partial run does not exit 0'),
        (error: { code: number; stdout: string }) => error,
      );
      assert.equal(outcome.code, 3);
      assert.match(outcome.stdout, /delivered, with partial data/);
      assert.match(outcome.stdout, /! users: Duo's list at GET \/admin\/v1\/users .* cannot be read completely/);
    });
  });

  it('staging removed while uploading: nothing short is finalized, the graph is read again and delivered whole', async () => {
    const duo = await startDuoSimulator({ users: 2500, seed: 62 });
    stopAtEnd(() => duo.close());
    const j1 = await startTestJupiterOneSimulator();
    // Slow uploads, so the worker can be stopped while it uploads (as it builds the graph).
    j1.setFaults({ latencyMs: 300 });
    const instance = simulatorInstance(duo, { jupiterone: j1 });
    const config = testConfig([instance]);
    const {
      worker: first,
      handle,
      spawnAnother,
    } = await startRunOnWorkerProcess(config, `staging-gone-${uniqueTaskQueue()}`, {
      heartbeatTimeoutSeconds: 2,
      fetchHeartbeatTimeoutSeconds: 2,
    });
    await waitFor(() => j1.requestLog().some((entry) => entry.route === 'upload-entities'), 'an upload');
    const uploadingJob = j1.requestLog().find((entry) => entry.route === 'upload-entities')!.jobId;
    // Once the server holds a heartbeat saying which resource the build has reached, the worker
    // stops mid-upload, and the run's staging goes while it is down: what the job holds was staged
    // by a build no attempt can finish.
    await waitFor(async () => (await buildReached(handle)) !== undefined, "the build's heartbeat naming a resource");
    await first.kill('SIGKILL');
    await rm(runsFolder(config), { recursive: true, force: true });
    j1.setFaults({ latencyMs: 0 });
    const second = await spawnAnother();
    const result = (await handle.result()) as DuoIngestionResult;
    await second.kill();

    assert.equal(result.outcome, 'success');
    // The retried build knew from that heartbeat that its datasets had been staged: it gave up at
    // once, rather than wait a minute for fetches to start that had staged them already.
    assert.ok(
      second.output.some(
        (line) =>
          line.includes('The graph will be built once the fetch is over') &&
          line.includes('its part log and manifest are gone since'),
      ),
      `the retried build gave up on the lost staging:\n${second.output.join('\n')}`,
    );
    const jobs = j1.jobs();
    assert.deepEqual(
      jobs.map((info) => info.job.status),
      [...jobs.slice(1).map(() => 'ABORTED'), 'FINISHED'],
      'every job short of the graph was aborted, never finalized',
    );
    assert.notEqual(
      jobs.at(-1)!.job.id,
      uploadingJob,
      'the job uploaded into before the crash is not the one finalized',
    );
    assert.equal(j1.requestLog().filter((entry) => entry.route === 'finalize').length, 1);
    const expected = await expectedGraph(duo.tenant, instance);
    const held = j1.heldGraph({ scope: `duo-${instance.id}` });
    assert.equal(held.entities.length, expected.entities.size);
    assert.equal(held.relationships.length + held.mappedRelationships.length, expected.relationships.size);
    assert.deepEqual(await stagedRuns(config), [], 'no staged file is left');
  });

  it('staged parts lost across a worker crash are read from Duo again, never taken as complete', async () => {
    const duo = await startDuoSimulator({ users: 3000, seed: 63, latencyMs: 250 });
    stopAtEnd(() => duo.close());
    const j1 = await startTestJupiterOneSimulator();
    const instance = simulatorInstance(duo, { jupiterone: j1 });
    const config = testConfig([instance]);
    const {
      worker: first,
      handle,
      spawnAnother,
    } = await startRunOnWorkerProcess(config, `parts-lost-${uniqueTaskQueue()}`, { fetchHeartbeatTimeoutSeconds: 2 });
    const usersServed = () => duo.requestLog.filter((r) => r.path === '/admin/v1/users' && r.limit === 300);
    await waitFor(() => usersServed().filter((r) => r.status === 200).length >= 4, 'four pages of users');
    await first.kill('SIGKILL');
    const killedAt = Date.now();
    // While the worker is down, the users' staged parts disappear.
    const [runKey] = await stagedRuns(config);
    await rm(path.join(runsFolder(config), runKey, ...convertedDatasetName('users').split('/')), {
      recursive: true,
      force: true,
    });
    const second = await spawnAnother();
    const result = (await handle.result()) as DuoIngestionResult;
    await second.kill();

    assert.equal(result.outcome, 'success');
    assert.equal(result.resources.users.status, 'complete');
    assert.equal(result.resources.users.records, duo.tenant.users.length, 'every user, read again');
    const readAfter = usersServed()
      .filter((r) => r.at > killedAt)
      .map((r) => r.offset);
    assert.equal(readAfter[0], 0, 'the users were read again from the start');
    const expected = await expectedGraph(duo.tenant, instance);
    const held = j1.heldGraph({ scope: `duo-${instance.id}` });
    assert.deepEqual(held.entities.map((e) => e._key).sort(), [...expected.entities.keys()].sort());
    assert.equal(held.relationships.length + held.mappedRelationships.length, expected.relationships.size);
  });

  it('cancelling mid-fetch stops every fetch before the staging is removed, and leaves no staged file', async () => {
    const duo = await startDuoSimulator({ users: 6000, seed: 64, latencyMs: 300 });
    stopAtEnd(() => duo.close());
    const instance = simulatorInstance(duo);
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `cancel-fetch-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id }],
    });
    await waitFor(
      () => duo.requestLog.filter((r) => r.path === '/admin/v1/users' && r.status === 200).length >= 3,
      'three pages of users',
    );
    assert.ok((await stagedRuns(config)).length > 0, 'the fetches are staging');
    await handle.cancel();
    const failure = await handle.result().then(
      () => assert.fail('a cancelled run does not complete'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof WorkflowFailedError);
    const closedAt = (await handle.describe()).closeTime!.getTime();

    assert.deepEqual(await stagedRuns(config), [], 'no staged file once the run is over');
    const late = duo.requestLog.filter((r) => r.at > closedAt);
    assert.deepEqual(late, [], 'no fetch went on reading after the run removed its staging');
    // And nothing comes back: no writer was left running.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.deepEqual(await stagedRuns(config), []);
    assert.equal(duo.requestLog.filter((r) => r.at > closedAt).length, 0);
  });

  /** What a worker logs when it gives up the version of the local output it wrote as the graph was built. */
  const WRITTEN_AFTER_THE_BUILD = 'The local graph directory will be written once the graph is built';

  for (const phase of ['building', 'delivering'] as const) {
    it(`cancelling while ${phase} ends the activity at once: nothing more is built or published`, async () => {
      // Large enough that building and writing the local output take far longer than a cancellation
      // takes to reach the activity.
      const duo = await startDuoSimulator({ users: 30_000, seed: 65 });
      stopAtEnd(() => duo.close());
      const instance = simulatorInstance(duo);
      const config = testConfig([instance]);
      const logged: string[] = [];
      await startTestWorkers(config, {
        log: (_level, message) => logged.push(message),
        // Heartbeats reach the server within 0.1 s of an activity's, so a cancellation reaches the
        // activity that soon: the build of 30,000 users takes several times longer.
        workerOptions: { maxHeartbeatThrottleInterval: '100 milliseconds' },
      });
      const client = await testClient();
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId: `cancel-${phase}-${uniqueTaskQueue()}`,
        args: [{ instanceId: instance.id }],
      });
      const versions = path.join(config.dataDir, 'output', '.versions', instance.id);
      if (phase === 'delivering') {
        // The build writes the output as it goes, which leaves the delivery only its publishing.
        // With that version's folder removed under it (as a person cleaning up might), the build
        // gives it up and the delivery writes the output whole, in which it is cancelled.
        await waitFor(() => existsSync(versions) && readdirSync(versions).length > 0, 'the version being written');
        rmSync(versions, { recursive: true, force: true, maxRetries: 5 });
      }
      await waitFor(async () => (await handle.query(progressQuery)).phase === phase, phase, 120_000);
      await handle.cancel();
      const failure = await handle.result().then(
        () => assert.fail('a cancelled run does not complete'),
        (error: unknown) => error,
      );
      assert.ok(failure instanceof WorkflowFailedError);
      if (phase === 'building') assert.ok(!logged.includes('Graph built'), 'the build stopped before its end');
      else
        assert.ok(logged.includes(WRITTEN_AFTER_THE_BUILD), 'the version written as the graph was built was given up');
      const output = path.join(config.dataDir, 'output', instance.id);
      assert.ok(!existsSync(output), 'no local output was published');
      assert.deepEqual(existsSync(versions) ? readdirSync(versions) : [], [], 'no version left half-written');
      assert.deepEqual(await stagedRuns(config), [], 'no staged file once the run is over');
    });
  }

  it('a lost answer to starting the job leaves no job open: the job is found by the id the run chose', async () => {
    const duo = await startDuoSimulator({ users: 200, seed: 65 });
    stopAtEnd(() => duo.close());
    const j1 = await startTestJupiterOneSimulator({ integrationInstanceIds: ['duo-instance'] });
    const instance = simulatorInstance(duo, { jupiterone: j1 });
    instance.jupiterone!.target = { source: 'integration-external', integrationInstanceId: 'duo-instance' };
    const config = testConfig([instance]);
    await startTestWorkers(config);
    // JupiterOne starts the job, and the connection breaks before its answer arrives.
    j1.scheduleFault({ kind: 'reset-after-processing', route: 'start-job' });
    const result = await ingest(instance, config.taskQueue);

    assert.equal(result.outcome, 'success');
    const jobs = j1.jobs();
    assert.equal(jobs.length, 1, 'one job: the one whose answer was lost, found again and used');
    assert.equal(jobs[0].job.status, 'FINISHED');
    assert.equal((result.delivery as JupiterOneDeliveryReport).jobId, jobs[0].job.id);
    const calls = j1
      .requestLog()
      .filter((entry) => entry.route === 'start-job' || entry.route === 'get-job')
      .map((entry) => `${entry.route} ${entry.status}`);
    assert.deepEqual(calls.slice(0, 2), ['start-job 0', 'get-job 200']);
  });

  describe('JupiterOne checked before Duo is read', function () {
    for (const [what, change, message] of [
      [
        'a wrong API key',
        (instance: InstanceConfig) =>
          (instance.jupiterone!.apiKey = { value: 'not-the-key-0123456789', description: 'a wrong key' }),
        /401 .*Check JUPITERONE_API_KEY and JUPITERONE_ACCOUNT/,
      ],
      [
        'a wrong account',
        (instance: InstanceConfig) => (instance.jupiterone!.account = 'not-the-account'),
        /401 .*Check JUPITERONE_API_KEY and JUPITERONE_ACCOUNT/,
      ],
      [
        'an unknown integration instance',
        (instance: InstanceConfig) =>
          (instance.jupiterone!.target = { source: 'integration-external', integrationInstanceId: 'a-typo' }),
        /INTEGRATION_INSTANCE_NOT_FOUND.*Check JUPITERONE_INTEGRATION_INSTANCE_ID/,
      ],
    ] as const) {
      it(`${what} fails the run before the first Duo request, naming the setting`, async () => {
        const duo = await startDuoSimulator({ users: 50, seed: 66 });
        stopAtEnd(() => duo.close());
        const j1 = await startTestJupiterOneSimulator({ integrationInstanceIds: ['duo-instance'] });
        const instance = simulatorInstance(duo, { jupiterone: j1 });
        change(instance);
        const config = testConfig([instance]);
        await startTestWorkers(config);
        const failure = await ingest(instance, config.taskQueue).then(
          () => assert.fail('the run must fail'),
          (error: unknown) => error,
        );
        assert.ok(failure instanceof WorkflowFailedError && failure.cause instanceof ApplicationFailure);
        assert.equal(failure.cause.type, 'JupiterOneError');
        assert.match(failure.cause.message, message);
        assert.ok(!failure.cause.message.includes('not-the-key-0123456789'), 'the key is not in the failure');
        assert.deepEqual(duo.requestLog, [], 'Duo was not asked anything');
        assert.deepEqual(await stagedRuns(config), []);
      });
    }
  });
});
