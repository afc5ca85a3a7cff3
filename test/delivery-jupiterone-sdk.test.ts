/**
 * Delivery as JupiterOne's own SDK delivers, end to end (real dev server, real workers, both
 * simulators over HTTP): uploads gzipped unless the instance says otherwise, every request naming
 * duo-j1 and its version, and a job log — which a run never fails for.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import path from 'node:path';
import { startDuoSimulator, type DuoSimulator } from '../src/simulators/duo/server';
import type { JupiterOneSimulator } from '../src/simulators/jupiterone/server';
import {
  RESOURCES,
  WORKFLOW_TYPE,
  type DuoIngestionResult,
  type JupiterOneDeliveryReport,
} from '../src/workflows/contract';
import type { InstanceConfig } from '../src/config/instances';
import { expectedGraph } from './harness/expected-graph';
import { simulatorInstance } from './harness/instances';
import { startTestJupiterOneSimulator } from './harness/jupiterone';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig, uniqueTaskQueue } from './harness/temporal';

/** Read here rather than through the product, so the test does not trust what it checks. */
const VERSION = (JSON.parse(readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string })
  .version;

async function simulators(users: number, seed: number): Promise<{ duo: DuoSimulator; j1: JupiterOneSimulator }> {
  const duo = await startDuoSimulator({ users, seed });
  stopAtEnd(() => duo.close());
  return { duo, j1: await startTestJupiterOneSimulator() };
}

/** An instance sending to a custom integration instance, whose jobs keep a job log. */
function integrationInstance(duo: DuoSimulator, j1: JupiterOneSimulator): InstanceConfig {
  const instance = simulatorInstance(duo, { jupiterone: j1 });
  instance.jupiterone!.target = { source: 'integration-external', integrationInstanceId: `j1-${instance.id}` };
  return instance;
}

async function ingest(
  instances: InstanceConfig[],
  instanceId = instances[0].id,
  log?: (line: string) => void,
): Promise<DuoIngestionResult> {
  const config = testConfig(instances);
  await startTestWorkers(
    config,
    log ? { log: (level, message, fields) => log(JSON.stringify({ level, message, ...fields })) } : {},
  );
  const client = await testClient();
  return (await client.workflow.execute(WORKFLOW_TYPE, {
    taskQueue: config.taskQueue,
    workflowId: `sdk-${uniqueTaskQueue()}`,
    args: [{ instanceId }],
  })) as DuoIngestionResult;
}

describe('delivery to JupiterOne as its SDK delivers', () => {
  it('names duo-j1 and its version in the User-Agent of every request, to JupiterOne and to Duo', async () => {
    const { duo, j1 } = await simulators(120, 31);
    const result = await ingest([simulatorInstance(duo, { jupiterone: j1 })]);
    assert.equal(result.delivery.target, 'jupiterone');
    const jupiterOneRequests = j1.requestLog();
    assert.ok(jupiterOneRequests.some((r) => r.route === 'upload-entities'));
    assert.deepEqual(new Set(jupiterOneRequests.map((r) => r.userAgent)), new Set([`duo-j1/${VERSION}`]));
    assert.ok(duo.requestLog.length > 8);
    assert.deepEqual(new Set(duo.requestLog.map((r) => r.userAgent)), new Set([`duo-j1/${VERSION}`]));
    assert.ok(
      duo.requestLog.every((r) => r.status === 200),
      'Duo accepts the signatures: the User-Agent is not signed',
    );
  });

  it('gzips uploads on the wire unless the instance turns it off, and JupiterOne holds the same graph either way', async () => {
    const { duo, j1 } = await simulators(600, 32);
    const gzipped = simulatorInstance(duo, { jupiterone: j1 });
    const plain = simulatorInstance(duo, { jupiterone: j1, compressUploads: false });
    const delivered = [];
    for (const instance of [gzipped, plain]) {
      const result = await ingest([gzipped, plain], instance.id);
      const delivery = result.delivery as JupiterOneDeliveryReport;
      const uploads = j1
        .requestLog()
        .filter(
          (r) => r.jobId === delivery.jobId && (r.route === 'upload-entities' || r.route === 'upload-relationships'),
        );
      assert.ok(uploads.length >= 2);
      assert.deepEqual(
        new Set(uploads.map((u) => u.contentEncoding)),
        new Set([instance === gzipped ? 'gzip' : undefined]),
      );
      assert.equal(
        delivery.uploaded.bytes,
        uploads.reduce((sum, u) => sum + u.bodyBytes, 0),
        'bytes as sent',
      );
      assert.equal(
        delivery.uploaded.uncompressedBytes,
        uploads.reduce((sum, u) => sum + (u.decodedBytes ?? 0), 0),
        'bytes before compression',
      );
      delivered.push(delivery.uploaded);
    }
    const [zipped, unzipped] = delivered;
    assert.equal(zipped.uncompressedBytes, unzipped.uncompressedBytes, 'the same JSON either way');
    assert.equal(unzipped.bytes, unzipped.uncompressedBytes);
    assert.ok(zipped.bytes * 4 < zipped.uncompressedBytes, `${zipped.bytes} bytes sent of ${zipped.uncompressedBytes}`);
    const heldA = j1.heldGraph({ scope: `duo-${gzipped.id}` });
    const heldB = j1.heldGraph({ scope: `duo-${plain.id}` });
    assert.ok(heldA.entities.length > 600);
    assert.deepEqual(heldB.entities, heldA.entities);
    assert.deepEqual(heldB.relationships, heldA.relationships);
    assert.deepEqual(
      heldB.mappedRelationships.map((m) => m.relationship),
      heldA.mappedRelationships.map((m) => m.relationship),
    );
  });

  it('keeps a job log as the SDK does: run start, each resource, the grant to add, the upload, each partial type, run end — in order', async () => {
    const { duo, j1 } = await simulators(300, 33);
    duo.setFaults({ endpointErrors: { '/admin/v1/admins': { status: 403, code: 40301 } } });
    const instance = integrationInstance(duo, j1);
    const scoped = simulatorInstance(duo, { jupiterone: j1 });
    const result = await ingest([instance, scoped], instance.id);
    const delivery = result.delivery as JupiterOneDeliveryReport;
    assert.equal(result.outcome, 'partial');
    const events = j1.jobs().find((info) => info.job.id === delivery.jobId)?.events ?? [];

    const resourceNames = RESOURCES.flatMap((resource) =>
      resource === 'admins' ? ['step_failure', 'warn_missing_permission'] : ['step_end'],
    );
    assert.deepEqual(
      events.map((e) => e.name),
      [
        'info',
        ...resourceNames,
        'sync_upload_start',
        'sync_upload_end',
        ...result.partialTypes.map(() => 'warn_incomplete_data'),
        'results',
      ],
    );
    const [start, ...rest] = events;
    assert.match(start.description, new RegExp(`^duo-j1 ${VERSION.replace(/\./g, '\\.')} started run "sdk-`));
    assert.match(rest[0].description, /^Completed step "Fetch account": 1 record in 1 page\.$/);
    assert.match(
      rest[1].description,
      /^Step "Fetch admins" failed to complete due to error\. \(errorCode="DuoPermissionError"/,
    );
    assert.match(rest[2].description, /needs the "Grant administrators" permission\. Add it in the Duo Admin Panel/);
    const users = events.find((e) => e.description.startsWith('Completed step "Fetch users"'));
    assert.equal(
      users?.description.match(/: ([\d,]+) records/)?.[1],
      result.resources.users.records?.toLocaleString('en-US'),
    );
    const uploadEnd = events.find((e) => e.name === 'sync_upload_end');
    assert.match(
      uploadEnd?.description ?? '',
      new RegExp(
        `^Upload complete: ${delivery.uploaded.entities.toLocaleString('en-US')} entities and .* gzipped from`,
      ),
    );
    const partial = events.filter((e) => e.name === 'warn_incomplete_data').map((e) => e.description);
    for (const [index, { type }] of result.partialTypes.entries()) {
      assert.match(
        partial[index],
        new RegExp(`^Partial data: JupiterOne keeps the ${type} objects it already holds, because `),
      );
    }
    assert.ok(result.partialTypes.some((p) => p.type === 'duo_admin'));
    assert.match(
      events.at(-1)!.description,
      /^Run complete \(partial: \d+ types keep the data JupiterOne already holds\)/,
    );

    // Nothing secret or personal in the job log.
    const log = JSON.stringify(events);
    for (const secret of [j1.apiKey, duo.secretKey]) assert.ok(!log.includes(secret), 'a secret in the job log');
    for (const user of duo.tenant.users) {
      if (user.email) assert.ok(!log.includes(user.email), `${user.email} in the job log`);
    }
    for (const phone of duo.tenant.phones) {
      if (phone.number) assert.ok(!log.includes(phone.number), `${phone.number} in the job log`);
    }

    // A job for an API scope has no job log: JupiterOne's SDK posts no events for one, nor does duo-j1.
    const scopedRun = await ingest([instance, scoped], scoped.id);
    const scopedJob = (scopedRun.delivery as JupiterOneDeliveryReport).jobId;
    assert.deepEqual(j1.jobs().find((info) => info.job.id === scopedJob)?.events, []);
    assert.ok(!j1.requestLog().some((r) => r.jobId === scopedJob && r.route === 'events'));
  });

  it('ends the job log of a failed run with its failure, and aborts the job', async () => {
    const { duo, j1 } = await simulators(50, 34);
    const instance = integrationInstance(duo, j1);
    instance.duo.secretKey = { value: 'w'.repeat(40), description: 'a wrong Duo secret key' };
    await assert.rejects(ingest([instance]), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.equal((error.cause as ApplicationFailure | undefined)?.type, 'DuoAuthenticationError');
      return true;
    });
    const [job] = j1.jobs();
    assert.equal(job.job.status, 'ABORTED');
    assert.deepEqual(
      job.events.map((e) => e.name),
      ['info', 'error_unexpected_error'],
    );
    assert.match(
      job.events[1].description,
      /^Run failed: .*\. The synchronization job is aborted: JupiterOne keeps its data unchanged\.$/,
    );
    assert.ok(!JSON.stringify(job.events).includes('w'.repeat(40)));
  });

  it('delivers the whole graph when the job log is down, after a few bounded tries and one warning', async () => {
    const { duo, j1 } = await simulators(300, 35);
    j1.setFaults({ eventsErrorStatus: 503 });
    const instance = integrationInstance(duo, j1);
    const lines: string[] = [];
    const result = await ingest([instance], instance.id, (line) => lines.push(line));
    const delivery = result.delivery as JupiterOneDeliveryReport;
    assert.equal(result.outcome, 'success');
    assert.equal(delivery.status, 'FINISHED');
    const expected = await expectedGraph(duo.tenant, instance);
    assert.equal(j1.heldGraph({ integrationInstanceId: `j1-${instance.id}` }).entities.length, expected.entities.size);

    const eventRequests = j1.requestLog().filter((r) => r.route === 'events');
    assert.deepEqual(
      eventRequests.map((r) => r.status),
      [503, 503, 503],
      'tried three times, then not again for this job',
    );
    const warnings = lines
      .map((line) => JSON.parse(line) as { level: string; message: string; jobId?: string; status?: number })
      .filter((line) => line.message.startsWith('JupiterOne did not take the job log events'));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].level, 'warn');
    assert.equal(warnings[0].jobId, delivery.jobId);
    assert.equal(warnings[0].status, 503);
  });
});
