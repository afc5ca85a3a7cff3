/**
 * Uploading through faults, over real HTTP against the JupiterOne simulator: size-bounded batches,
 * 413 splitting, retried 5xx / 429 / resets, oversized objects, re-sent batches, resuming after a
 * failed attempt, and the API key never showing in errors or logs.
 */
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import type { Entity } from '../src/graph/types';
import {
  JupiterOneNetworkError,
  JupiterOneServerError,
  JupiterOneSyncClient,
  type JupiterOneSyncClientOptions,
  type UploadProgress,
} from '../src/jupiterone';
import { type JupiterOneSimulator, startJupiterOneSimulator } from '../src/simulators/jupiterone';
import { stopAtEnd } from './harness/root-hooks';

function entity(index: number, rawDataBytes = 200): Entity {
  const id = String(index).padStart(6, '0');
  return {
    _key: `duo-group:G${id}`,
    _type: 'duo_group',
    _class: ['UserGroup'],
    name: `Group ${id}`,
    displayName: `Group ${id}`,
    _rawData: [{ name: 'default', rawData: { group_id: `G${id}`, desc: 'x'.repeat(rawDataBytes) } }],
  };
}

function entities(count: number, rawDataBytes?: number): Entity[] {
  return Array.from({ length: count }, (_, index) => entity(index, rawDataBytes));
}

async function* stream<T>(items: readonly T[], failAfter?: number): AsyncIterable<T> {
  let produced = 0;
  for (const item of items) {
    if (failAfter !== undefined && produced === failAfter) throw new Error('staged graph part unreadable');
    produced++;
    yield item;
  }
}

const keys = (list: readonly { _key: string }[]) => list.map((e) => e._key).sort();

describe('JupiterOne uploads through faults', () => {
  let sim: JupiterOneSimulator;
  let instanceCounter = 0;
  const logLines: string[] = [];

  before(async () => {
    sim = await startJupiterOneSimulator();
    stopAtEnd(() => sim.close());
  });

  afterEach(() => {
    sim.setFaults({
      serverErrorRate: 0,
      rateLimitRate: 0,
      connectionResetRate: 0,
      latencyMs: 0,
      payloadLimitBytes: undefined,
    });
  });

  function client(options: Partial<JupiterOneSyncClientOptions> = {}): JupiterOneSyncClient {
    return new JupiterOneSyncClient({
      apiKey: sim.apiKey,
      account: sim.account,
      baseUrl: sim.url,
      retry: { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 6 },
      logger: (level, message, fields) => logLines.push(JSON.stringify({ level, message, fields })),
      ...options,
    });
  }

  async function newJob(c: JupiterOneSyncClient): Promise<{ jobId: string; instance: string }> {
    const instance = `duo-upload-${++instanceCounter}`;
    const job = await c.startJob({ source: 'integration-external', integrationInstanceId: instance });
    return { jobId: job.id, instance };
  }

  async function finish(c: JupiterOneSyncClient, jobId: string, partialTypes: string[] = []) {
    await c.finalizeIfNeeded(jobId, { types: partialTypes });
    return c.waitForJobToFinish(jobId, { pollIntervalMs: 5 });
  }

  const uploadsOf = (jobId: string) =>
    sim.requestLog().filter((e) => e.jobId === jobId && e.route === 'upload-entities');

  it('keeps every request body within the batch limit before compression, gzipped, in several bounded-concurrency batches', async () => {
    const c = client({ maxBatchBytes: 4_000, uploadConcurrency: 3 });
    const { jobId, instance } = await newJob(c);
    const sent = entities(200);
    const progress: UploadProgress[] = [];
    const result = await c.uploadEntities(jobId, stream(sent), { onBatchDone: (p) => void progress.push(p) });

    const uploads = uploadsOf(jobId);
    assert.ok(uploads.length > 5, `expected several batches, got ${uploads.length}`);
    for (const upload of uploads) {
      assert.equal(upload.status, 200);
      assert.equal(upload.contentEncoding, 'gzip');
      assert.ok((upload.decodedBytes ?? Infinity) <= 4_000, `body of ${upload.decodedBytes} bytes`);
      assert.ok(upload.bodyBytes < (upload.decodedBytes ?? 0), 'smaller on the wire');
      assert.equal(upload.ignoreDuplicates, true);
      assert.match(upload.correlationId ?? '', /^[0-9a-f-]{36}$/);
    }
    assert.equal(new Set(uploads.map((u) => u.correlationId)).size, uploads.length);
    assert.equal(result.objects, 200);
    assert.equal(result.requests, uploads.length);
    assert.equal(
      result.bytes,
      uploads.reduce((sum, u) => sum + u.bodyBytes, 0),
      'the bytes sent',
    );
    assert.equal(
      result.uncompressedBytes,
      uploads.reduce((sum, u) => sum + (u.decodedBytes ?? 0), 0),
      'the bytes before compression',
    );
    assert.equal(
      uploads.reduce((sum, u) => sum + (u.entities ?? 0), 0),
      200,
    );
    assert.equal(progress.length, uploads.length);
    assert.equal(progress.at(-1)?.uploadedObjects, 200);
    assert.equal(Math.max(...progress.map((p) => p.committedObjects)), 200);
    assert.equal(result.committedObjects, 200);

    await finish(c, jobId);
    assert.deepEqual(sim.heldGraph({ integrationInstanceId: instance }).entities, sent);
  });

  it('never has more upload requests in flight than the configured concurrency', async () => {
    sim.setFaults({ latencyMs: 15 });
    const c = client({ maxBatchBytes: 2_000, uploadConcurrency: 3 });
    const { jobId } = await newJob(c);
    const result = await c.uploadEntities(jobId, stream(entities(80)));
    const uploads = uploadsOf(jobId);
    assert.equal(result.objects, 80);
    assert.ok(uploads.length > 6);
    const peak = Math.max(...uploads.map((u) => u.concurrent));
    assert.ok(peak <= 3, `peak concurrency ${peak}`);
    assert.ok(peak >= 2, 'uploads ran in parallel');
  });

  it('sends every request through the injected undici dispatcher', async () => {
    sim.setFaults({ latencyMs: 5 });
    const oneConnection = new Agent({ connections: 1 });
    stopAtEnd(() => oneConnection.close());
    const c = client({ maxBatchBytes: 2_000, uploadConcurrency: 4, dispatcher: oneConnection });
    const { jobId } = await newJob(c);
    await c.uploadEntities(jobId, stream(entities(40)));
    const uploads = uploadsOf(jobId);
    assert.ok(uploads.length > 4);
    // Four uploads are in flight in the client, but the dispatcher's single connection serialises them.
    assert.deepEqual(new Set(uploads.map((u) => u.concurrent)), new Set([1]));
  });

  it('stops uploading when its signal is aborted and rejects with the abort reason', async () => {
    sim.setFaults({ latencyMs: 10 });
    const c = client({ maxBatchBytes: 2_000, uploadConcurrency: 2 });
    const { jobId } = await newJob(c);
    const controller = new AbortController();
    const cancelled = new Error('activity cancelled');
    await assert.rejects(
      c.uploadEntities(jobId, stream(entities(200)), {
        signal: controller.signal,
        onBatchDone: () => controller.abort(cancelled),
      }),
      (error: unknown) => error === cancelled,
    );
    const accepted = uploadsOf(jobId).filter((u) => u.status === 200);
    assert.ok(accepted.length <= 3, `${accepted.length} batches accepted after cancellation`);
  });

  for (const compressUploads of [true, false]) {
    it(`splits a batch JupiterOne refuses as too large (413) until everything arrives, ${compressUploads ? 'gzipped' : 'plain'}`, async () => {
      sim.setFaults({ payloadLimitBytes: 3_000 });
      const c = client({ maxBatchBytes: 20_000, compressUploads });
      const { jobId, instance } = await newJob(c);
      const sent = entities(60);
      const result = await c.uploadEntities(jobId, stream(sent));

      const uploads = uploadsOf(jobId);
      // JupiterOne's limit is on the decoded body: gzipped bodies far under it on the wire are refused too.
      assert.ok(uploads.some((u) => u.status === 413));
      for (const upload of uploads) assert.equal(upload.contentEncoding, compressUploads ? 'gzip' : undefined);
      for (const accepted of uploads.filter((u) => u.status === 200)) {
        assert.ok((accepted.decodedBytes ?? Infinity) <= 3_000);
      }
      assert.equal(result.objects, 60);
      assert.equal(result.rejectedCount, 0);
      assert.equal(result.rawDataRemoved, 0);
      await finish(c, jobId);
      assert.deepEqual(sim.heldGraph({ integrationInstanceId: instance }).entities, sent);
    });
  }

  it('sends plain JSON when compressUploads is off, and JupiterOne holds the same graph either way', async () => {
    const sent = entities(150);
    const held = [];
    for (const compressUploads of [true, false]) {
      const c = client({ maxBatchBytes: 8_000, compressUploads });
      const { jobId, instance } = await newJob(c);
      const result = await c.uploadEntities(jobId, stream(sent));
      const uploads = uploadsOf(jobId);
      assert.ok(uploads.length > 3);
      for (const upload of uploads) {
        assert.equal(upload.contentEncoding, compressUploads ? 'gzip' : undefined);
        if (compressUploads) assert.ok(upload.bodyBytes < (upload.decodedBytes ?? 0));
        else assert.equal(upload.decodedBytes, upload.bodyBytes);
      }
      if (compressUploads) assert.ok(result.bytes * 4 < result.uncompressedBytes, 'gzip shrinks the uploads');
      else assert.equal(result.bytes, result.uncompressedBytes);
      await finish(c, jobId);
      held.push(sim.heldGraph({ integrationInstanceId: instance }).entities);
    }
    assert.deepEqual(held[0], sent);
    assert.deepEqual(held[1], held[0]);
  });

  it('retries 5xx, 429 and connection resets with the same correlation id', async () => {
    const c = client();
    const { jobId, instance } = await newJob(c);
    sim.scheduleFault({ kind: 'server-error', route: 'upload-entities', count: 2 });
    sim.scheduleFault({ kind: 'rate-limit', route: 'upload-entities', count: 2 });
    sim.scheduleFault({ kind: 'connection-reset', route: 'upload-entities', count: 1 });
    const sent = entities(10);
    const result = await c.uploadEntities(jobId, stream(sent));

    const uploads = uploadsOf(jobId);
    assert.deepEqual(
      uploads.map((u) => u.status),
      [500, 500, 429, 429, 0, 200],
    );
    assert.equal(new Set(uploads.map((u) => u.correlationId)).size, 1, 'one batch, one correlation id');
    assert.equal(result.objects, 10);
    assert.equal(result.requests, 1);
    await finish(c, jobId);
    assert.equal(sim.heldGraph({ integrationInstanceId: instance }).entities.length, 10);
  });

  it('retries random faults on every route and still delivers everything exactly once', async () => {
    sim.setFaults({ serverErrorRate: 0.15, rateLimitRate: 0.1, connectionResetRate: 0.05, seed: 7 });
    const c = client({ maxBatchBytes: 3_000, retry: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 30 } });
    const { jobId, instance } = await newJob(c);
    const sent = entities(120);
    await c.uploadEntities(jobId, stream(sent));
    const finished = await finish(c, jobId);
    sim.setFaults({ serverErrorRate: 0, rateLimitRate: 0, connectionResetRate: 0 });

    assert.ok(
      sim.requestLog().some((e) => e.jobId === jobId && e.fault !== undefined),
      'faults were injected',
    );
    assert.equal(finished.numEntitiesCreated, 120);
    assert.deepEqual(sim.heldGraph({ integrationInstanceId: instance }).entities, sent);
  });

  it('gives up after the last attempt with a retryable server error', async () => {
    const c = client({ retry: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 } });
    const { jobId } = await newJob(c);
    sim.scheduleFault({ kind: 'server-error', route: 'upload-entities', count: 3 });
    await assert.rejects(c.uploadEntities(jobId, [entity(1)]), (error: unknown) => {
      assert.ok(error instanceof JupiterOneServerError);
      assert.equal(error.status, 500);
      assert.equal(error.retryable, true);
      return true;
    });
    assert.equal(uploadsOf(jobId).length, 3);
  });

  it('sends an object too large for a batch without its _rawData, and rejects one still too large', async () => {
    const c = client({ maxBatchBytes: 2_000 });
    const { jobId, instance } = await newJob(c);
    const bulkyRawData = entity(1, 5_000);
    const bulkyProperties: Entity = { ...entity(2, 10), description: 'y'.repeat(5_000) };
    const normal = entity(3);
    const result = await c.uploadEntities(jobId, stream([bulkyRawData, bulkyProperties, normal]));

    assert.equal(result.objects, 2);
    assert.equal(result.rawDataRemoved, 1);
    assert.equal(result.rejectedCount, 1);
    assert.deepEqual(result.rejectedTypes, ['duo_group']);
    assert.equal(result.rejected[0].key, bulkyProperties._key);
    assert.equal(result.committedObjects, 3);
    for (const upload of uploadsOf(jobId)) assert.ok((upload.decodedBytes ?? Infinity) <= 2_000);

    await finish(c, jobId, result.rejectedTypes);
    const held = sim.heldGraph({ integrationInstanceId: instance }).entities;
    assert.deepEqual(keys(held), keys([bulkyRawData, normal]));
    const { _rawData: _dropped, ...withoutRawData } = bulkyRawData;
    assert.deepEqual(
      held.find((e) => e._key === bulkyRawData._key),
      withoutRawData,
    );
  });

  it('uploads objects given as their staged JSON text the same way: 413 splits, _rawData removal, rejection', async () => {
    sim.setFaults({ payloadLimitBytes: 3_000 });
    const c = client({ maxBatchBytes: 20_000 });
    const { jobId, instance } = await newJob(c);
    const bulkyRawData = entity(1, 4_000);
    const bulkyProperties: Entity = { ...entity(2, 10), description: 'y'.repeat(4_000) };
    const small = entities(40).map((e) => ({ ...e, _key: `${e._key}-text` }));
    const texts = [bulkyRawData, bulkyProperties, ...small].map((e) => JSON.stringify(e));
    const result = await c.uploadEntities(jobId, stream(texts));

    assert.ok(uploadsOf(jobId).some((u) => u.status === 413));
    assert.equal(result.objects, 41);
    assert.equal(result.rawDataRemoved, 1);
    assert.deepEqual(
      result.rejected.map((r) => r.key),
      [bulkyProperties._key],
    );
    await finish(c, jobId, result.rejectedTypes);
    assert.deepEqual(keys(sim.heldGraph({ integrationInstanceId: instance }).entities), keys([bulkyRawData, ...small]));
  });

  it('removes _rawData, then rejects, when JupiterOne refuses a single object as too large', async () => {
    sim.setFaults({ payloadLimitBytes: 1_500 });
    const c = client({ maxBatchBytes: 100_000 });
    const { jobId, instance } = await newJob(c);
    const bulkyRawData = entity(1, 3_000);
    const bulkyProperties: Entity = { ...entity(2, 10), description: 'y'.repeat(3_000) };
    const result = await c.uploadEntities(jobId, stream([bulkyRawData, bulkyProperties, entity(3, 10)]));

    assert.equal(result.objects, 2);
    assert.equal(result.rawDataRemoved, 1);
    assert.deepEqual(
      result.rejected.map((r) => [r.type, r.key]),
      [['duo_group', bulkyProperties._key]],
    );
    assert.match(result.rejected[0].reason, /413/);
    await finish(c, jobId, result.rejectedTypes);
    assert.deepEqual(
      keys(sim.heldGraph({ integrationInstanceId: instance }).entities),
      keys([bulkyRawData, entity(3)]),
    );
  });

  it('lets a batch be sent twice harmlessly when its first answer was lost (ignoreDuplicates)', async () => {
    const c = client();
    const { jobId, instance } = await newJob(c);
    sim.scheduleFault({ kind: 'reset-after-processing', route: 'upload-entities' });
    const sent = entities(25);
    await c.uploadEntities(jobId, stream(sent));
    const uploads = uploadsOf(jobId);
    assert.equal(uploads.length, 2);
    assert.equal(uploads[0].correlationId, uploads[1].correlationId);

    const finished = await finish(c, jobId);
    assert.equal(finished.numEntitiesUploaded, 50, 'both copies reached JupiterOne');
    assert.equal(finished.numEntitiesCreated, 25);
    assert.deepEqual(sim.heldGraph({ integrationInstanceId: instance }).entities, sent);
  });

  it('resumes after a failed attempt from the committed objects it reported', async () => {
    const c = client({ maxBatchBytes: 3_000, uploadConcurrency: 2 });
    const { jobId, instance } = await newJob(c);
    const sent = entities(100);
    let lastProgress: UploadProgress | undefined;
    await assert.rejects(
      c.uploadEntities(jobId, stream(sent, 70), { onBatchDone: (p) => void (lastProgress = p) }),
      /staged graph part unreadable/,
    );
    const committed = lastProgress?.committedObjects ?? 0;
    assert.ok(committed > 0 && committed <= 70, `committed ${committed}`);

    const resumed = await c.uploadEntities(jobId, stream(sent), { skipObjects: committed });
    assert.equal(resumed.skippedObjects, committed);
    assert.equal(resumed.objects, 100 - committed);
    assert.equal(resumed.committedObjects, 100);
    await finish(c, jobId);
    assert.deepEqual(sim.heldGraph({ integrationInstanceId: instance }).entities, sent);
  });

  it('reports an unreachable JupiterOne as a retryable network error after its retries', async () => {
    const closed = await startJupiterOneSimulator();
    const url = closed.url;
    await closed.close();
    const c = client({ baseUrl: url, retry: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 } });
    await assert.rejects(c.getJob('some-job'), (error: unknown) => {
      assert.ok(error instanceof JupiterOneNetworkError);
      assert.equal(error.retryable, true);
      assert.match(error.message, /JUPITERONE_API_BASE_URL/);
      return true;
    });
  });

  it('never puts the API key in an error, a log line or the simulator request log', async () => {
    const errors: string[] = [];
    const wrong = client({ apiKey: `${sim.apiKey}0` });
    await wrong.getJob('nope').catch((error: Error) => errors.push(error.message, String(error.stack)));
    const c = client({ retry: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 } });
    sim.scheduleFault({ kind: 'server-error', route: 'get-job', count: 2 });
    await c.getJob('nope').catch((error: Error) => errors.push(error.message, String(error.stack)));
    await c.getJob('unknown-job').catch((error: Error) => errors.push(error.message));

    assert.equal(errors.length, 5);
    assert.ok(logLines.length > 0);
    const everything = [...errors, ...logLines, JSON.stringify(sim.requestLog())].join('\n');
    assert.ok(!everything.includes(sim.apiKey), 'the API key leaked');
    // JupiterOne's own words stay ("invalid bearer token."); no credential follows "Bearer".
    assert.match(errors[0], /Missing or invalid bearer token\./);
    assert.ok(!/bearer\s+(?!token\b)\w/i.test(everything), 'a bearer token leaked');
  });
});
