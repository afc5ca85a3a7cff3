/**
 * Pure parts of the JupiterOne client: greedy size batching, oversized objects, retry delays,
 * base-URL and job-target rules, and secret redaction.
 */
import assert from 'node:assert/strict';
import type { Entity } from '../src/graph/types';
import {
  BatchPayload,
  BodyBuffers,
  batchBodyBytes,
  batchBySize,
  buildStartJobBody,
  JupiterOneConfigurationError,
  type PreparedBatch,
  prepareForUpload,
  parseJupiterOneBaseUrl,
  serializeBatchBody,
} from '../src/jupiterone';
import { retryDelayMs } from '../src/jupiterone/http';
import { parseRetryAfterMs } from '../src/util/retry-after';
import { redactSecrets } from '../src/util/redact';

function entity(index: number, padding = 50): Entity {
  return {
    _key: `mfa-device:T${String(index).padStart(8, '0')}`,
    _type: 'mfa_device',
    _class: ['AccessKey'],
    name: `Token ${index}`,
    displayName: `Token ${index}`,
    _rawData: [{ name: 'default', rawData: { token_id: index, pad: 'p'.repeat(padding) } }],
  };
}

async function collect(source: AsyncIterable<PreparedBatch>): Promise<PreparedBatch[]> {
  const batches: PreparedBatch[] = [];
  for await (const batch of source) batches.push(batch);
  return batches;
}

describe('JupiterOne batching and client rules', () => {
  it('batches staged lines given as bytes in arrays exactly as the same texts one by one', async () => {
    const objects = Array.from({ length: 60 }, (_, i) => entity(i, i * 11));
    const texts = objects.map((o) => JSON.stringify(o));
    const asBytes = [texts.slice(0, 25), texts.slice(25)].map((part) => part.map((text) => Buffer.from(text)));
    const fromTexts = await collect(batchBySize(texts, { kind: 'entities', maxBatchBytes: 2_000 }));
    const fromBytes = await collect(batchBySize(asBytes, { kind: 'entities', maxBatchBytes: 2_000, skipObjects: 3 }));
    const expected = await collect(batchBySize(texts, { kind: 'entities', maxBatchBytes: 2_000, skipObjects: 3 }));
    assert.ok(fromTexts.length > 2);
    assert.deepEqual(
      fromBytes.map((batch) => serializeBatchBody('entities', batch.items).toString('utf8')),
      expected.map((batch) => serializeBatchBody('entities', batch.items).toString('utf8')),
    );
    assert.deepEqual(
      fromBytes.map((batch) => [batch.firstOrdinal, batch.objectCount, batch.bodyBytes]),
      expected.map((batch) => [batch.firstOrdinal, batch.objectCount, batch.bodyBytes]),
    );
    assert.equal(fromBytes[0].items[0].key, objects[3]._key, 'parsed only when asked');
  });

  it('fills batches greedily in input order without exceeding the limit, counting the exact body', async () => {
    const objects = Array.from({ length: 100 }, (_, i) => entity(i, i * 7));
    const batches = await collect(batchBySize(objects, { kind: 'entities', maxBatchBytes: 2_500 }));
    assert.deepEqual(
      batches.flatMap((b) => b.items.map((item) => item.key)),
      objects.map((o) => o._key),
    );
    for (const [index, batch] of batches.entries()) {
      const body = serializeBatchBody('entities', batch.items);
      assert.equal(Buffer.byteLength(body), batch.bodyBytes);
      assert.equal(batchBodyBytes('entities', batch.items), batch.bodyBytes);
      assert.ok(batch.bodyBytes <= 2_500);
      assert.deepEqual(JSON.parse(body.toString('utf8')).entities.length, batch.items.length);
      assert.equal(batch.index, index);
      const next = batches[index + 1];
      if (next) {
        // Greedy: the next batch's first object would not have fitted.
        assert.ok(batch.bodyBytes + 1 + next.items[0].bytes > 2_500);
        assert.equal(next.firstOrdinal, batch.firstOrdinal + batch.objectCount);
      }
    }
  });

  it('skips the objects an earlier attempt committed and numbers ordinals from the input start', async () => {
    const objects = Array.from({ length: 30 }, (_, i) => entity(i));
    const batches = await collect(batchBySize(objects, { kind: 'entities', maxBatchBytes: 1_000, skipObjects: 12 }));
    assert.equal(batches[0].firstOrdinal, 12);
    assert.equal(batches[0].items[0].key, objects[12]._key);
    assert.equal(
      batches.reduce((sum, b) => sum + b.objectCount, 0),
      18,
    );
  });

  it('drops _rawData from an object too large alone and rejects one too large without it', () => {
    const rawHeavy = entity(1, 5_000);
    const stripped = prepareForUpload(rawHeavy, 'entities', 1_000);
    assert.ok(stripped.ok);
    assert.equal(stripped.prepared.rawDataRemoved, true);
    assert.equal(stripped.prepared.object._rawData, undefined);
    assert.ok(rawHeavy._rawData, 'the input object is not modified');

    const propertyHeavy = { ...entity(2, 1), notes: 'n'.repeat(5_000) };
    const rejected = prepareForUpload(propertyHeavy, 'entities', 1_000);
    assert.ok(!rejected.ok);
    assert.deepEqual([rejected.rejected.type, rejected.rejected.key], ['mfa_device', propertyHeavy._key]);

    const cyclic: Entity = entity(3);
    (cyclic as unknown as { self: unknown }).self = cyclic;
    const unserialisable = prepareForUpload(cyclic, 'entities', 1_000_000);
    assert.ok(!unserialisable.ok);
    assert.match(unserialisable.rejected.reason, /not serialisable/);
  });

  it('refuses a batch limit too small to hold anything', async () => {
    await assert.rejects(collect(batchBySize([entity(1)], { kind: 'entities', maxBatchBytes: 5 })), RangeError);
  });

  it('backs off exponentially with jitter, capped, and honours Retry-After up to the cap', () => {
    const policy = { maxAttempts: 5, initialDelayMs: 100, factor: 2, maxDelayMs: 1_000 };
    assert.equal(
      retryDelayMs(policy, 1, () => 1),
      100,
    );
    assert.equal(
      retryDelayMs(policy, 3, () => 1),
      400,
    );
    assert.equal(
      retryDelayMs(policy, 3, () => 0),
      200,
    );
    assert.equal(
      retryDelayMs(policy, 10, () => 1),
      1_000,
    );
    assert.equal(
      retryDelayMs(policy, 1, () => 0, 700),
      700,
    );
    assert.equal(
      retryDelayMs(policy, 1, () => 0, 60_000),
      1_000,
    );
    assert.equal(parseRetryAfterMs('3'), 3_000);
    assert.equal(parseRetryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(parseRetryAfterMs(undefined), undefined);
    assert.equal(parseRetryAfterMs('soon'), undefined);
  });

  it('requires HTTPS for the base URL except on loopback addresses', () => {
    assert.equal(parseJupiterOneBaseUrl('https://api.us.jupiterone.io').host, 'api.us.jupiterone.io');
    assert.equal(parseJupiterOneBaseUrl('http://127.0.0.1:8080').port, '8080');
    assert.equal(parseJupiterOneBaseUrl('http://[::1]:8080').hostname, '[::1]');
    for (const bad of ['http://api.us.jupiterone.io', 'ftp://127.0.0.1', 'not a url', 'https://user:pw@example.com']) {
      assert.throws(
        () => parseJupiterOneBaseUrl(bad),
        (error: unknown) =>
          error instanceof JupiterOneConfigurationError && error.setting === 'JUPITERONE_API_BASE_URL',
        bad,
      );
    }
  });

  it('builds DIFF job bodies for each source and names the missing setting', () => {
    assert.deepEqual(buildStartJobBody({ source: 'integration-external', integrationInstanceId: 'abc' }), {
      source: 'integration-external',
      integrationInstanceId: 'abc',
      syncMode: 'DIFF',
    });
    assert.deepEqual(buildStartJobBody({ source: 'api', scope: 'duo' }), {
      source: 'api',
      scope: 'duo',
      syncMode: 'DIFF',
    });
    assert.deepEqual(buildStartJobBody({ source: 'integration-managed', integrationInstanceId: 'abc' }, 'job-1'), {
      source: 'integration-managed',
      integrationInstanceId: 'abc',
      syncMode: 'DIFF',
      integrationJobId: 'job-1',
    });
    assert.throws(
      () => buildStartJobBody({ source: 'integration-external', integrationInstanceId: ' ' }),
      /JUPITERONE_INTEGRATION_INSTANCE_ID/,
    );
    assert.throws(() => buildStartJobBody({ source: 'api', scope: '' }), /scope/);
  });

  it('redacts the API key and any bearer token or Authorization value', () => {
    const key = 'k3y-abcdef-123456';
    const text = `failed with ${key}; headers {"authorization":"Bearer other-token-99"} Authorization: Bearer xyz123`;
    const redacted = redactSecrets(text, [key]);
    assert.ok(!redacted.includes(key));
    assert.ok(!redacted.includes('other-token-99'));
    assert.ok(!redacted.includes('xyz123'));
    assert.match(redacted, /\[REDACTED\]/);
  });

  it('keeps a batch as its body and rebuilds the objects from it only when needed (after a 413)', () => {
    const texts = [entity(1), entity(2, 500), entity(3, 0)].map((object) => Buffer.from(JSON.stringify(object)));
    const prepared = texts.map((text) => {
      const result = prepareForUpload(text, 'entities', 1_000_000);
      assert.ok(result.ok);
      return result.prepared;
    });
    const payload = BatchPayload.of('entities', prepared);
    assert.deepEqual(payload.body, serializeBatchBody('entities', prepared));
    assert.equal(payload.objectCount, 3);
    assert.equal(payload.rawDataRemoved, 0);
    const rebuilt = payload.items();
    assert.deepEqual(
      rebuilt.map((item) => Buffer.from(item.json).toString()),
      texts.map((text) => text.toString()),
    );
    assert.deepEqual(
      rebuilt.map((item) => [item.key, item.type, item.bytes]),
      prepared.map((item) => [item.key, item.type, item.bytes]),
    );

    // Objects that are not staged texts (here one made to fit by removing its _rawData) are kept as given.
    const shrunk = prepareForUpload(entity(4, 5_000), 'entities', 2_000);
    assert.ok(shrunk.ok && shrunk.prepared.rawDataRemoved);
    const mixed = BatchPayload.of('entities', [prepared[0], shrunk.prepared]);
    assert.equal(mixed.rawDataRemoved, 1);
    assert.deepEqual(mixed.items(), [prepared[0], shrunk.prepared]);
  });

  it('writes bodies into buffers of the upload that are used again once released, the same bytes', () => {
    const items = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => {
        const object = entity(from + index, index * 37);
        // Staged texts as bytes and as strings, and an object serialised here: every kind of item.
        const uploadable =
          index % 3 === 0 ? Buffer.from(JSON.stringify(object)) : index % 3 === 1 ? JSON.stringify(object) : object;
        const result = prepareForUpload(uploadable, 'entities', 100_000);
        assert.ok(result.ok);
        return result.prepared;
      });
    const buffers = new BodyBuffers(100_000);
    const first = BatchPayload.of('entities', items(0, 20), buffers);
    const second = BatchPayload.of('entities', items(100, 30), buffers);
    assert.deepEqual(first.body, serializeBatchBody('entities', items(0, 20)));
    assert.deepEqual(second.body, serializeBatchBody('entities', items(100, 30)));
    // Two bodies in use at once are two buffers.
    assert.notEqual(first.body.buffer, second.body.buffer);
    first.release();
    first.release();
    const third = BatchPayload.of('relationships', items(200, 5), buffers);
    assert.equal(third.body.buffer, first.body.buffer, 'the released buffer is filled again');
    assert.deepEqual(third.body, serializeBatchBody('relationships', items(200, 5)));
    assert.deepEqual(second.body, serializeBatchBody('entities', items(100, 30)), 'a body in use is left alone');
    const fourth = BatchPayload.of('entities', items(300, 5), buffers);
    assert.notEqual(fourth.body.buffer, first.body.buffer, 'a buffer released twice is given out once');
    assert.notEqual(fourth.body.buffer, second.body.buffer);
  });
});
