/**
 * Delivery as JupiterOne's own SDK delivers, end to end (real dev server, real workers, both
 * simulators over HTTP): uploads gzipped unless the instance says otherwise, every request naming
 * duo-j1 and its version.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startDuoSimulator, type DuoSimulator } from '../src/simulators/duo/server';
import type { JupiterOneSimulator } from '../src/simulators/jupiterone/server';
import { WORKFLOW_TYPE, type DuoIngestionResult, type JupiterOneDeliveryReport } from '../src/workflows/contract';
import type { InstanceConfig } from '../src/config/instances';
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

async function ingest(instances: InstanceConfig[], instanceId = instances[0].id): Promise<DuoIngestionResult> {
  const config = testConfig(instances);
  await startTestWorkers(config);
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
});
