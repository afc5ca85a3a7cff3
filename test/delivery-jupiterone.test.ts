import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { isMappedRelationship } from '../src/graph/types';
import { JupiterOneSyncClient } from '../src/jupiterone/client';
import { startDuoSimulator, type DuoSimulator } from '../src/simulators/duo/server';
import type { JupiterOneSimulator } from '../src/simulators/jupiterone/server';
import { startTestJupiterOneSimulator } from './harness/jupiterone';
import { stagingDirectory } from '../src/worker/runtime';
import {
  WORKFLOW_TYPE,
  duoJ1ActivityName,
  type DuoIngestionResult,
  type JupiterOneDeliveryReport,
} from '../src/workflows/contract';
import { expectedGraph } from './harness/expected-graph';
import { ingestionHistory, keepHistory } from './harness/histories';
import { activitiesScheduled, waitFor } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startRunOnWorkerProcess, startTestWorkers, testClient, testConfig, uniqueTaskQueue } from './harness/temporal';

async function simulators(users: number, seed: number): Promise<{ duo: DuoSimulator; j1: JupiterOneSimulator }> {
  const duo = await startDuoSimulator({ users, seed });
  const j1 = await startTestJupiterOneSimulator();
  stopAtEnd(() => duo.close());
  return { duo, j1 };
}

/** What the build beside the fetch heartbeats while it uploads into the run's job. */
interface BuildHeartbeat {
  uploadedToJupiterOne?: { objects: number; batches: number; bytes: number };
}

/**
 * A tenant read slowly enough for the build to upload as the fetch goes on, delivered to an
 * integration instance (whose jobs keep a job log), by workers sending batches of at most
 * `maxBatchBytes` so that a few pages fill one.
 */
async function uploadAsBuiltRun(
  duoOptions: { users: number; seed: number; latencyMs: number },
  maxBatchBytes: number,
  workerOptions: Partial<Parameters<typeof startTestWorkers>[1]> = {},
) {
  const duo = await startDuoSimulator(duoOptions);
  stopAtEnd(() => duo.close());
  const j1 = await startTestJupiterOneSimulator({ integrationInstanceIds: ['duo-instance'] });
  const instance = simulatorInstance(duo, { jupiterone: j1 });
  instance.jupiterone!.target = { source: 'integration-external', integrationInstanceId: 'duo-instance' };
  const config = testConfig([instance]);
  await startTestWorkers(config, {
    jupiterOneClientOptions: { retry: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 5 }, maxBatchBytes },
    ...workerOptions,
  });
  return { duo, j1, instance, config };
}

function keys(objects: { _key: string }[]): string[] {
  return objects.map((o) => o._key).sort();
}

describe('delivery to JupiterOne', function () {
  it('delivers a generated tenant: the held graph equals the graph built from the tenant, employees linked by email', async () => {
    const { duo, j1 } = await simulators(400, 21);
    const instance = simulatorInstance(duo, { jupiterone: j1 });
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();
    let recorded = false;
    const run = async () => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId: `j1-${uniqueTaskQueue()}`,
        args: [{ instanceId: instance.id }],
      });
      const outcome = (await handle.result()) as DuoIngestionResult;
      if (!recorded)
        await keepHistory(ingestionHistory('jupiterone-delivery'), 'a complete delivery to JupiterOne', handle);
      recorded = true;
      return outcome;
    };

    const result = await run();
    const delivery = result.delivery as JupiterOneDeliveryReport;
    assert.equal(delivery.target, 'jupiterone');
    assert.equal(delivery.status, 'FINISHED');

    const expected = await expectedGraph(duo.tenant, instance);
    const held = j1.heldGraph({ scope: `duo-${instance.id}` });
    assert.deepEqual(keys(held.entities), [...expected.entities.keys()].sort());
    const expectedDirect = [...expected.relationships.values()].filter((r) => !isMappedRelationship(r));
    const expectedMapped = [...expected.relationships.values()].filter(isMappedRelationship);
    assert.deepEqual(keys(held.relationships), keys(expectedDirect));
    assert.deepEqual(held.mappedRelationships.map((m) => m.relationship._key).sort(), keys(expectedMapped));
    for (const entity of held.entities) {
      assert.deepEqual(entity, expected.entities.get(entity._key), `entity ${entity._key} as built`);
    }
    // Every mapping found or created its employee, by lower-cased email.
    const employees = j1.heldGraph({ owner: 'system-mapper' }).entities.filter((e) => e._type === 'employee');
    assert.ok(employees.length > 0);
    const employeeEmails = new Set(employees.map((e) => e.email));
    for (const mapping of expectedMapped.filter((m) => m._mapping.targetEntity._type === 'employee')) {
      assert.ok(
        employeeEmails.has(mapping._mapping.targetEntity.email as string),
        `employee for ${mapping._mapping.targetEntity.email}`,
      );
    }
    assert.equal(delivery.entities.created, expected.entities.size);

    // An unchanged second run changes nothing.
    const second = (await run()).delivery as JupiterOneDeliveryReport;
    assert.deepEqual(second.entities, { created: 0, updated: 0, deleted: 0 });
    assert.deepEqual(second.relationships, { created: 0, updated: 0, deleted: 0 });

    // A user removed from the tenant disappears from the held graph.
    const removed = duo.tenant.users[0];
    duo.setTenant({ ...duo.tenant, users: duo.tenant.users.slice(1) });
    const third = (await run()).delivery as JupiterOneDeliveryReport;
    assert.ok(third.entities.deleted >= 1);
    assert.ok(
      !j1.heldGraph({ scope: `duo-${instance.id}` }).entities.some((e) => e._key === `duo-user:${removed.user_id}`),
    );

    // ... except when the users fetch failed: every partial type keeps its previous objects.
    const before = j1.heldGraph({ scope: `duo-${instance.id}` });
    duo.setTenant({ ...duo.tenant, users: duo.tenant.users.slice(1) });
    duo.setFaults({ endpointErrors: { '/admin/v1/users': { status: 403, code: 40301 } } });
    const failedUsers = await run();
    assert.equal(failedUsers.resources.users.status, 'failed');
    const partial = failedUsers.partialTypes.map((p) => p.type);
    for (const type of [
      'duo_user',
      'duo_account_has_user',
      'duo_group_has_user',
      'duo_user_uses_phone',
      'duo_user_assigned_mfa_device',
      'duo_user_is_employee',
    ]) {
      assert.ok(partial.includes(type), `${type} is partial`);
    }
    const finalize = j1
      .requestLog()
      .filter((r) => r.route === 'finalize')
      .at(-1);
    assert.deepEqual(
      [...(finalize?.partialTypes ?? [])].sort(),
      [...partial].sort(),
      'finalize carries the partial types',
    );
    const after = j1.heldGraph({ scope: `duo-${instance.id}` });
    assert.deepEqual(
      keys(after.entities.filter((e) => e._type === 'duo_user')),
      keys(before.entities.filter((e) => e._type === 'duo_user')),
      'every duo_user kept',
    );
    assert.deepEqual(
      keys(after.relationships.filter((r) => r._type === 'duo_group_has_user')),
      keys(before.relationships.filter((r) => r._type === 'duo_group_has_user')),
    );
  });

  it('uploads the graph into the run’s job as it is built: after the last page, only the last batches and the finalize', async () => {
    // Each heartbeat's details reach the server.
    const { duo, j1, instance, config } = await uploadAsBuiltRun({ users: 4000, seed: 26, latencyMs: 200 }, 200_000, {
      workerOptions: { maxHeartbeatThrottleInterval: '100 milliseconds' },
    });
    const client = await testClient();
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `j1-as-built-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id }],
    });
    // The build's heartbeats say what it has uploaded, for the Temporal UI to show.
    const uploadedBatchesSeen: number[] = [];
    const [result] = (await Promise.all([
      handle.result(),
      waitFor(async () => {
        for (const pending of (await handle.describe()).raw.pendingActivities ?? []) {
          if (pending.activityType?.name !== duoJ1ActivityName('buildGraphAsFetched')) continue;
          const payload = pending.heartbeatDetails?.payloads?.[0];
          const details = payload?.data
            ? (JSON.parse(Buffer.from(payload.data).toString('utf8')) as BuildHeartbeat)
            : {};
          if (details.uploadedToJupiterOne) uploadedBatchesSeen.push(details.uploadedToJupiterOne.batches);
        }
        return uploadedBatchesSeen.some((batches) => batches > 0);
      }, 'a heartbeat of the build with batches uploaded'),
    ])) as [DuoIngestionResult, void];
    const delivery = result.delivery as JupiterOneDeliveryReport;
    assert.equal(delivery.status, 'FINISHED');

    // The job JupiterOne finalized holds the graph built from the tenant, every object once.
    const expected = await expectedGraph(duo.tenant, instance);
    const held = j1.heldGraph({ integrationInstanceId: 'duo-instance' });
    assert.deepEqual(keys(held.entities), [...expected.entities.keys()].sort());
    assert.equal(held.relationships.length + held.mappedRelationships.length, expected.relationships.size);
    assert.equal(delivery.uploaded.entities, expected.entities.size);
    assert.equal(delivery.uploaded.relationships, expected.relationships.size);
    assert.deepEqual(
      j1.jobs().map((job) => job.job.status),
      ['FINISHED'],
      'one job, uploaded into once',
    );
    // Its job log: the run started, the upload started with the build, what the fetch read, the
    // upload's end and the run complete, posted at the finalize.
    const logged = j1.jobs()[0].events.map((event) => event.name);
    assert.deepEqual(logged.slice(0, 2), ['info', 'sync_upload_start']);
    assert.deepEqual(logged.slice(-2), ['sync_upload_end', 'results']);
    assert.equal(logged.filter((name) => name === 'step_end').length, Object.keys(result.resources).length);

    // Uploads began while Duo's users were still being read, and no upload followed the build.
    const usersPages = duo.requestLog.filter((entry) => entry.path === '/admin/v1/users');
    const uploads = j1.requestLog().filter((entry) => entry.route === 'upload-entities');
    assert.ok(
      uploads[0].time < usersPages.at(-1)!.at,
      `first upload ${usersPages.at(-1)!.at - uploads[0].time} ms before the last users page was asked for`,
    );
    const events = (await handle.fetchHistory()).events ?? [];
    assert.deepEqual(activitiesScheduled(events, 'uploadGraph'), [], 'no upload after the build');
    assert.deepEqual(activitiesScheduled(events, 'buildGraph'), [], 'no build after the fetch');
  });

  it('uploads into a new job once the graph is built when the upload made as it was built failed', async () => {
    // The instance's jobs keep a job log, which says why the job was replaced.
    const logged: { message: string; fields?: Record<string, unknown> }[] = [];
    const { duo, j1, instance, config } = await uploadAsBuiltRun({ users: 1500, seed: 27, latencyMs: 50 }, 100_000, {
      log: (_level, message, fields) => logged.push({ message, fields }),
    });
    // JupiterOne fails every relationships' upload until the upload made as the graph was built
    // has given up.
    j1.setFaults({ serverErrorRate: 1, routes: ['upload-relationships'] });
    const client = await testClient();
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `j1-as-built-failed-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id }],
    });
    const gaveUp = (line: { message: string; fields?: Record<string, unknown> }) =>
      line.message === 'The graph will be uploaded to JupiterOne once it is built' &&
      String(line.fields?.reason).includes('uploading it as it was built failed');
    await waitFor(() => logged.some(gaveUp), 'the upload as built given up');
    j1.setFaults({ serverErrorRate: 0, routes: undefined });
    const result = (await handle.result()) as DuoIngestionResult;
    const delivery = result.delivery as JupiterOneDeliveryReport;
    await keepHistory(
      ingestionHistory('jupiterone-job-replaced'),
      'a JupiterOne run whose upload as the graph was built failed: its job replaced by a new one',
      handle,
    );

    assert.equal(result.outcome, 'success');
    const [first, second] = j1.jobs();
    assert.equal(j1.jobs().length, 2);
    assert.equal(first.job.status, 'ABORTED', 'the job the failed upload went into');
    assert.match(first.abortReason ?? '', /uploaded into a new job/);
    assert.ok((first.job.numEntitiesUploaded ?? 0) > 0, 'it had been uploaded into');
    assert.equal(second.job.id, delivery.jobId);
    assert.equal(second.job.status, 'FINISHED');
    assert.match(
      first.events.at(-1)?.description ?? '',
      /uploaded into a new job\. The synchronization job is aborted/,
    );
    assert.match(second.events[0]?.description ?? '', new RegExp(`in place of job ${first.job.id}, `));
    assert.deepEqual(
      second.events.map((event) => event.name).slice(-3),
      ['sync_upload_start', 'sync_upload_end', 'results'],
      'the upload after the build, then the run complete',
    );
    const expected = await expectedGraph(duo.tenant, instance);
    const held = j1.heldGraph({ integrationInstanceId: 'duo-instance' });
    assert.deepEqual(keys(held.entities), [...expected.entities.keys()].sort());
    assert.equal(held.relationships.length + held.mappedRelationships.length, expected.relationships.size);
    const events = (await handle.fetchHistory()).events ?? [];
    assert.equal(activitiesScheduled(events, 'uploadGraph').length, 1, 'uploaded after the build');
  });

  it('survives a worker SIGKILLed during upload: same final graph, no object lost', async () => {
    const { duo, j1 } = await simulators(3000, 22);
    // Slow uploads so the kill lands in the middle of them.
    j1.setFaults({ latencyMs: 400 });
    const instance = simulatorInstance(duo, { jupiterone: j1 });
    const config = testConfig([instance]);
    const {
      worker: first,
      handle,
      spawnAnother,
    } = await startRunOnWorkerProcess(config, `j1-kill-${uniqueTaskQueue()}`, { heartbeatTimeoutSeconds: 3 });
    await waitFor(
      () => j1.requestLog().filter((r) => r.route === 'upload-entities' && r.status === 200).length >= 2,
      'two uploaded batches',
    );
    const uploadedBeforeTheKill = j1.requestLog().find((r) => r.route === 'upload-entities')!.jobId;
    await first.kill('SIGKILL');
    j1.setFaults({ latencyMs: 0 });
    const second = await spawnAnother();
    const result = (await handle.result()) as DuoIngestionResult;
    await second.kill();
    assert.equal(result.delivery.target, 'jupiterone');
    const expected = await expectedGraph(duo.tenant, instance);
    const held = j1.heldGraph({ scope: `duo-${instance.id}` });
    assert.deepEqual(keys(held.entities), [...expected.entities.keys()].sort());
    assert.equal(held.relationships.length + held.mappedRelationships.length, expected.relationships.size);
    // The counts reported cover the attempt that died as well as the one that resumed.
    const { uploaded } = result.delivery as JupiterOneDeliveryReport;
    assert.equal(uploaded.entities, expected.entities.size, 'every entity delivered is counted once');
    assert.equal(uploaded.relationships, expected.relationships.size, 'every relationship delivered is counted once');
    assert.equal(j1.jobs().filter((j) => j.job.status === 'FINISHED').length, 1, 'one job, finalized once');
    // The attempt that died was uploading into the run's job as it built the graph: the next attempt
    // cannot know what that job holds, so the graph went into a new one, and the old was aborted.
    assert.ok(
      j1.jobs().every((j) => j.job.status === 'FINISHED' || j.job.status === 'ABORTED'),
      'no job left open',
    );
    assert.equal(
      j1.jobs().find((j) => j.job.status === 'FINISHED')?.job.id,
      (result.delivery as JupiterOneDeliveryReport).jobId,
    );
    assert.equal(j1.jobs().find((j) => j.job.id === uploadedBeforeTheKill)?.job.status, 'ABORTED');
    assert.ok(
      j1
        .requestLog()
        .filter((r) => r.route === 'upload-entities')
        .every((r) => r.ignoreDuplicates === true),
      'every batch is sent with ignoreDuplicates, so a re-sent one is harmless',
    );
  });

  // Cancellation runs the workflow's own clean-up; termination runs no workflow code, so the
  // instance's coordinator, which checks its holder every 30 s, cleans up instead.
  for (const [ending, seed, stop, reason] of [
    ['cancelled', 23, (handle: WorkflowHandle) => handle.cancel(), /cancel/],
    ['terminated', 24, (handle: WorkflowHandle) => handle.terminate('test: terminated mid-upload'), /terminated/],
  ] as const) {
    it(`aborts the job and removes staging when a run is ${ending} mid-upload`, async () => {
      const { duo, j1 } = await simulators(2000, seed);
      j1.setFaults({ latencyMs: 500 });
      const instance = simulatorInstance(duo, { jupiterone: j1 });
      const config = testConfig([instance]);
      await startTestWorkers(config);
      const client = await testClient();
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId: `j1-${ending}-${uniqueTaskQueue()}`,
        args: [{ instanceId: instance.id }],
      });
      await waitFor(() => j1.requestLog().some((r) => r.route === 'upload-entities'), 'an upload');
      await stop(handle);
      await assert.rejects(handle.result(), WorkflowFailedError);
      await keepHistory(
        ingestionHistory(`${ending === 'cancelled' ? 'cancel' : 'terminate'}-mid-upload`),
        `a run ${ending} mid-upload`,
        handle,
      );
      j1.setFaults({ latencyMs: 0 });
      await waitFor(() => j1.jobs().every((j) => j.job.status === 'ABORTED'), 'the job aborted', 60_000);
      assert.match(j1.jobs()[0].abortReason ?? '', reason);
      const runs = path.join(stagingDirectory(config), 'runs');
      await waitFor(async () => !existsSync(runs) || (await readdir(runs)).length === 0, 'staging removed', 60_000);
    });
  }

  it('aborts a stale job the instance left awaiting uploads before starting a new one', async () => {
    const { duo, j1 } = await simulators(30, 25);
    const instance = simulatorInstance(duo, { jupiterone: j1 });
    const config = testConfig([instance]);
    await startTestWorkers(config);
    // A run that died after starting its job, before aborting it, left this behind.
    const stale = await new JupiterOneSyncClient({ baseUrl: j1.url, apiKey: j1.apiKey, account: j1.account }).startJob({
      source: 'api',
      scope: `duo-${instance.id}`,
    });
    await mkdir(path.join(config.dataDir, 'state', instance.id), { recursive: true });
    await writeFile(
      path.join(config.dataDir, 'state', instance.id, 'open-sync-job.json'),
      JSON.stringify({ jobId: stale.id }),
    );
    const client = await testClient();
    const result = (await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `j1-stale-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id }],
    })) as DuoIngestionResult;
    const jobs = j1.jobs();
    assert.equal(jobs.find((j) => j.job.id === stale.id)?.job.status, 'ABORTED');
    assert.equal(
      jobs.find((j) => j.job.id === (result.delivery as JupiterOneDeliveryReport).jobId)?.job.status,
      'FINISHED',
    );
  });
});
