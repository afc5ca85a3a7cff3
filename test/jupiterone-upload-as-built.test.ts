/**
 * The upload a build makes as it goes (src/jupiterone/upload-as-built.ts), over real HTTP against
 * the JupiterOne simulator: what it delivers per type, how it holds the build back, rejected
 * objects, a failed upload, and giving it up.
 */
import assert from 'node:assert/strict';
import { JupiterOneServerError, JupiterOneSyncClient, type JupiterOneSyncClientOptions } from '../src/jupiterone';
import { JobUploadAsBuilt } from '../src/jupiterone/upload-as-built';
import { type JupiterOneSimulator, startJupiterOneSimulator } from '../src/simulators/jupiterone';
import { stopAtEnd } from './harness/root-hooks';

/** A group entity's canonical text, as the build stages it (bytes). */
function groupText(index: number, padding = 100): Uint8Array {
  const id = String(index).padStart(6, '0');
  return Buffer.from(
    JSON.stringify({
      _key: `duo-group:G${id}`,
      _type: 'duo_group',
      _class: ['UserGroup'],
      name: `Group ${id}`,
      description: 'd'.repeat(padding),
    }),
  );
}

/** A user entity's text (a string, as an object serialised on its own is given). */
function userText(index: number): string {
  const id = String(index).padStart(6, '0');
  return JSON.stringify({ _key: `duo-user:U${id}`, _type: 'duo_user', _class: ['User'], name: `user${id}` });
}

/** An edge between the two, as text. */
function edgeText(index: number): string {
  const id = String(index).padStart(6, '0');
  return JSON.stringify({
    _key: `duo-group:G${id}|has|duo-user:U${id}`,
    _type: 'duo_group_has_user',
    _class: 'HAS',
    _fromEntityKey: `duo-group:G${id}`,
    _toEntityKey: `duo-user:U${id}`,
  });
}

const settled = async (promise: Promise<void>, withinMs: number): Promise<boolean> =>
  Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), withinMs)),
  ]);

describe('JupiterOne upload made as the graph is built', () => {
  let sim: JupiterOneSimulator;
  let instances = 0;

  before(async () => {
    sim = await startJupiterOneSimulator();
    stopAtEnd(() => sim.close());
  });

  afterEach(() => sim.setFaults({ latencyMs: 0, serverErrorRate: 0 }));

  function client(options: Partial<JupiterOneSyncClientOptions> = {}): JupiterOneSyncClient {
    return new JupiterOneSyncClient({
      apiKey: sim.apiKey,
      account: sim.account,
      baseUrl: sim.url,
      retry: { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 },
      ...options,
    });
  }

  async function newJob(c: JupiterOneSyncClient): Promise<string> {
    const job = await c.startJob({ source: 'integration-external', integrationInstanceId: `built-${++instances}` });
    return job.id;
  }

  /** Finalizes the job and answers the keys JupiterOne then holds for its integration instance, by type. */
  async function heldAfterFinalizing(c: JupiterOneSyncClient, jobId: string): Promise<Record<string, number>> {
    await c.finalizeIfNeeded(jobId, { types: [] });
    await c.waitForJobToFinish(jobId, { pollIntervalMs: 5 });
    const held = sim.heldGraph({ integrationInstanceId: `built-${instances}` });
    const byType: Record<string, number> = {};
    for (const object of [...held.entities, ...held.relationships])
      byType[object._type] = (byType[object._type] ?? 0) + 1;
    return byType;
  }

  it('uploads both kinds side by side as they are given, and answers what was delivered per type', async () => {
    const c = client({ maxBatchBytes: 20_000 });
    const jobId = await newJob(c);
    const upload = new JobUploadAsBuilt(c, jobId);
    // As a build gives them: entities and relationships interleaved, bytes and strings. The bytes
    // are a view the build writes over once it has given them, as it reuses its buffers.
    const scratch = Buffer.alloc(1_000);
    for (let index = 0; index < 1500; index += 1) {
      const group = groupText(index);
      scratch.set(group);
      await upload.add('entities', 'duo_group', scratch.subarray(0, group.length));
      scratch.fill(0x20);
      await upload.add('entities', 'duo_user', userText(index));
      if (index % 3 === 0) await upload.add('relationships', 'duo_group_has_user', edgeText(index));
    }
    const result = await upload.complete();

    assert.deepEqual(result.delivered, { duo_group: 1500, duo_user: 1500, duo_group_has_user: 500 });
    assert.deepEqual(upload.progress, {
      objects: 3500,
      batches: result.uploaded.batches,
      bytes: result.uploaded.bytes,
    });
    assert.equal(result.uploaded.entities, 3000);
    assert.equal(result.uploaded.relationships, 500);
    assert.equal(result.rejected, 0);
    const requests = sim.requestLog().filter((entry) => entry.jobId === jobId && entry.route.startsWith('upload-'));
    assert.equal(result.uploaded.batches, requests.length);
    assert.equal(
      result.uploaded.bytes,
      requests.reduce((sum, entry) => sum + entry.bodyBytes, 0),
      'the bytes sent',
    );
    assert.ok(result.uploaded.uncompressedBytes > result.uploaded.bytes, 'gzipped');
    // Relationships went up while entities were still being given, not after them.
    const firstRelationships = requests.findIndex((entry) => entry.route === 'upload-relationships');
    const lastEntities = requests.map((entry) => entry.route).lastIndexOf('upload-entities');
    assert.ok(firstRelationships >= 0 && firstRelationships < lastEntities, 'relationships before the last entities');
    const job = await c.getJob(jobId);
    assert.equal(job.numEntitiesUploaded, 3000);
    assert.equal(job.numRelationshipsUploaded, 500);
    assert.equal(job.status, 'AWAITING_UPLOADS', 'nothing finalized');
    assert.deepEqual(
      await heldAfterFinalizing(c, jobId),
      { duo_group: 1500, duo_user: 1500, duo_group_has_user: 500 },
      'every object as it was given',
    );
  });

  it('holds the build back while its requests are out, and lets it go once they answer', async () => {
    const c = client({ maxBatchBytes: 1_000_000, uploadConcurrency: 1 });
    const jobId = await newJob(c);
    sim.setFaults({ latencyMs: 300 });
    const upload = new JobUploadAsBuilt(c, jobId);
    let given = 0;
    /** Gives objects until the upload holds the build back; the bytes given. */
    const giveUntilHeld = (): { bytes: number; waiting: Promise<void> } => {
      let bytes = 0;
      for (;;) {
        const text = groupText(given++, 300);
        bytes += text.length;
        const waiting = upload.add('entities', 'duo_group', text);
        if (waiting) return { bytes, waiting };
        assert.ok(given < 200_000, 'the build is held back');
      }
    };
    const first = giveUntilHeld();
    assert.ok(first.bytes > 6_000_000, `held back after ${first.bytes} bytes`);
    // The upload takes a piece of what is held and sends it: room enough for the build to go on.
    assert.equal(await settled(first.waiting, 5_000), true, 'let go once the upload takes a piece');
    // Given more while the request is out: once the upload has put a few pieces into batches and
    // waits for its request, the build is held until the upload has sent more.
    let held: Promise<void> | undefined;
    for (let round = 0; round < 10 && !held; round += 1) {
      const next = giveUntilHeld();
      if (!(await settled(next.waiting, 150))) held = next.waiting;
    }
    assert.ok(held, 'held while the request is out');
    assert.equal(await settled(held, 10_000), true, 'let go once it answers');
    sim.setFaults({ latencyMs: 0 });
    const result = await upload.complete();
    assert.deepEqual(result.delivered, { duo_group: given });
    assert.equal((await c.getJob(jobId)).numEntitiesUploaded, given);
  });

  it('counts an object JupiterOne cannot take as not delivered, and names its type', async () => {
    const c = client({ maxBatchBytes: 2_000 });
    const jobId = await newJob(c);
    const upload = new JobUploadAsBuilt(c, jobId);
    for (let index = 0; index < 20; index += 1) void upload.add('entities', 'duo_group', groupText(index));
    // Too large for a request even without `_rawData`.
    void upload.add('entities', 'duo_group', groupText(20, 3_000));
    void upload.add('entities', 'duo_user', userText(0));
    const result = await upload.complete();
    assert.deepEqual(result.delivered, { duo_group: 20, duo_user: 1 });
    assert.equal(result.rejected, 1);
    assert.deepEqual(result.rejectedTypes, ['duo_group']);
    assert.equal((await c.getJob(jobId)).numEntitiesUploaded, 21);
  });

  it('never fails or holds the build when an upload fails: `complete` throws what failed', async () => {
    const c = client({ maxBatchBytes: 5_000 });
    const jobId = await newJob(c);
    sim.setFaults({ serverErrorRate: 1, routes: ['upload-relationships'] });
    const upload = new JobUploadAsBuilt(c, jobId);
    // As a build does, between parts read from disk.
    for (let index = 0; index < 400 || !upload.failed; index += 1) {
      await upload.add('entities', 'duo_group', groupText(index));
      await upload.add('relationships', 'duo_group_has_user', edgeText(index));
      if (index % 50 === 0) await new Promise(setImmediate);
      assert.ok(index < 100_000, 'the relationships failed while the build went on');
    }
    // Once failed, it takes objects without holding on to them or waiting.
    for (let index = 0; index < 50_000; index += 1) {
      assert.equal(upload.add('relationships', 'duo_group_has_user', edgeText(index)), undefined);
    }
    await assert.rejects(upload.complete(), JupiterOneServerError);
    sim.setFaults({ routes: undefined });
  });

  it('stops sending once discarded, and leaves the job unfinalized', async () => {
    const c = client({ maxBatchBytes: 5_000, uploadConcurrency: 1 });
    const jobId = await newJob(c);
    sim.setFaults({ latencyMs: 300 });
    const upload = new JobUploadAsBuilt(c, jobId);
    for (let index = 0; index < 300; index += 1) void upload.add('entities', 'duo_group', groupText(index));
    await upload.discard();
    const sentByThen = sim.requestLog().filter((entry) => entry.jobId === jobId && entry.route === 'upload-entities');
    await new Promise((resolve) => setTimeout(resolve, 700));
    const sent = sim.requestLog().filter((entry) => entry.jobId === jobId && entry.route === 'upload-entities');
    assert.equal(sent.length, sentByThen.length, 'no request after the discard');
    assert.ok(sent.length < 10, `${sent.length} of the 10-odd batches were sent`);
    assert.equal((await c.getJob(jobId)).status, 'AWAITING_UPLOADS');
  });
});
