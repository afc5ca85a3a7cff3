import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatasetWriter } from '../src/staging/dataset-writer';
import { PartBuffers } from '../src/staging/part-buffers';
import { readDatasetLines, readDatasetTexts } from '../src/staging/json-lines';
import { LocalDirectoryStagingStore } from '../src/staging/local-directory-store';
import { PartLog } from '../src/staging/part-log';
import { StagedInputMissingError, partChecksum, type PartInfo, type StagedRun } from '../src/staging/store';
import { jsonLinesOf, readStagedObjects } from './harness/staging';

/** Writes records as one NDJSON part, with its checksum, as a writer that will verify them does. */
function writeRecords(run: StagedRun, dataset: string, index: number, records: unknown[]): Promise<PartInfo> {
  const bytes = jsonLinesOf(records);
  return run.writePart(dataset, index, bytes, records.length, partChecksum(bytes));
}

/** Where the local store keeps a run. */
function runFolder(run: StagedRun): string {
  return path.join(roots.get(run)!, 'runs', encodeURIComponent(run.key));
}
const roots = new Map<StagedRun, string>();

function newRoot(): string {
  return mkdtempSync(path.join(tmpdir(), 'duo-j1-staging-'));
}

describe('local staging store', () => {
  it('keeps a stable id on disk: reopening the same folder gives the same id', async () => {
    const root = newRoot();
    const first = await LocalDirectoryStagingStore.open(root);
    const second = await LocalDirectoryStagingStore.open(root);
    assert.match(first.id, /^[a-z0-9-]{4,64}$/);
    assert.equal(second.id, first.id);
    const other = await LocalDirectoryStagingStore.open(newRoot());
    assert.notEqual(other.id, first.id);
  });

  it('writes parts atomically: rewriting a part replaces it, and the manifest lists exactly the parts', async () => {
    const root = newRoot();
    const store = await LocalDirectoryStagingStore.open(root);
    const run = store.openRun('default~wf~run-1~1');
    roots.set(run, root);
    const first = await writeRecords(run, 'raw/users', 0, [{ id: 1 }, { id: 2 }]);
    await writeRecords(run, 'raw/users', 1, [{ id: 3 }]);
    // A retried attempt writes part 1 again, with the same content: no duplicate.
    const second = await writeRecords(run, 'raw/users', 1, [{ id: 3 }]);
    // A stale part from an earlier, longer attempt beyond the parts committed is dropped at commit.
    await writeRecords(run, 'raw/users', 5, [{ id: 99 }]);
    assert.equal(await run.readManifest('raw/users'), undefined, 'no manifest before commit: incomplete');
    const manifest = await run.commitManifest('raw/users', [first, second], { totalObjects: 3 });
    assert.deepEqual(
      manifest.parts.map((p) => [p.index, p.records]),
      [
        [0, 2],
        [1, 1],
      ],
    );
    assert.equal(manifest.records, 3);
    assert.deepEqual(manifest.meta, { totalObjects: 3 });
    assert.ok(
      manifest.parts.every((part) => /^[0-9a-f]{64}$/.test(part.sha256 ?? '')),
      'checksums kept',
    );
    assert.deepEqual(await readStagedObjects(run, 'raw/users'), [{ id: 1 }, { id: 2 }, { id: 3 }]);
    assert.deepEqual(await run.listDatasets('raw'), ['raw/users']);
    assert.deepEqual(readdirSync(path.join(runFolder(run), 'raw', 'users')).sort(), [
      'manifest.json',
      'part-000000',
      'part-000001',
    ]);
  });

  it('commits the parts a writer reports without reading them, refusing a part changed since', async () => {
    const store = await LocalDirectoryStagingStore.open(newRoot());
    const run = store.openRun('default~wf~run-2~1');
    const written = [
      await run.writePart('graph/entities/duo_user', 0, Buffer.from('{"a":1}\n{"a":2}\n'), 2),
      await run.writePart('graph/entities/duo_user', 1, Buffer.from('{"a":3}\n'), 1),
    ];
    await writeRecords(run, 'graph/entities/duo_user', 4, [{ stale: true }]);
    const manifest = await run.commitManifest('graph/entities/duo_user', written);
    assert.deepEqual(manifest.parts, written);
    assert.deepEqual(await readStagedObjects(run, 'graph/entities/duo_user'), [{ a: 1 }, { a: 2 }, { a: 3 }]);
    await assert.rejects(
      run.readPart('graph/entities/duo_user', 4),
      StagedInputMissingError,
      'the stale part is removed',
    );

    await writeRecords(run, 'graph/entities/duo_user', 1, [{ a: 3 }, { a: 4 }]);
    await assert.rejects(
      run.commitManifest('graph/entities/duo_user', written),
      /Part 1 of staged dataset "graph\/entities\/duo_user" is not what was written/,
    );
  });

  it('creates files 0600 and folders 0700, and leaves no temporary files behind', async () => {
    const root = newRoot();
    const store = await LocalDirectoryStagingStore.open(root);
    const run = store.openRun('i~w~r~1');
    const part = await writeRecords(run, 'graph/entities/duo_user', 0, [{ _key: 'duo-user:1' }]);
    await run.commitManifest('graph/entities/duo_user', [part]);
    const folder = path.join(root, 'runs', encodeURIComponent('i~w~r~1'), 'graph', 'entities', 'duo_user');
    for (const name of readdirSync(folder)) {
      assert.equal(statSync(path.join(folder, name)).mode & 0o777, 0o600, name);
      assert.doesNotMatch(name, /\.tmp-/);
    }
    assert.equal(statSync(folder).mode & 0o777, 0o700);
  });

  it('writes records in parts of the size asked for, and reads them back line for line, unicode intact', async () => {
    const store = await LocalDirectoryStagingStore.open(newRoot());
    const run = store.openRun('big');
    const writer = new DatasetWriter(run, 'graph/entities/duo_phone', { recordsPerPart: 40_000 });
    const source = Buffer.from('{"i":-1}{"from":"bytes"}');
    for (let i = 0; i < 100_000; i += 1) {
      if (i === 5) await writer.addBytes(source, 8, source.length);
      else await writer.addText(JSON.stringify({ i, name: `Téléphone ${i} 📱`, pad: 'x'.repeat(i % 50) }));
    }
    const manifest = await writer.close();
    assert.equal(manifest.parts.length, 3);
    assert.deepEqual(
      manifest.parts.map((part) => part.records),
      [40_000, 40_000, 20_000],
    );
    let read = 0;
    for await (const texts of readDatasetTexts(run, 'graph/entities/duo_phone')) {
      for (const text of texts) {
        const record = JSON.parse(text) as { i: number; name: string; from?: string };
        if (read === 5) assert.deepEqual(record, { from: 'bytes' });
        else assert.equal(record.i, read);
        if (read === 77_777) assert.equal(record.name, 'Téléphone 77777 📱');
        read += 1;
      }
    }
    assert.equal(read, 100_000);
  });

  it('ends a part at its byte bound, and fills the buffers of written parts again without changing them', async () => {
    const store = await LocalDirectoryStagingStore.open(newRoot());
    const run = store.openRun('bounded');
    const writer = new DatasetWriter(run, 'graph/entities/duo_user', { recordsPerPart: 2_000, bytesPerPart: 10_000 });
    const record = (i: number) => JSON.stringify({ i, pad: String(i % 10).repeat(90 + (i % 20)) });
    for (let i = 0; i < 5_000; i += 1) await writer.addText(record(i));
    const manifest = await writer.close();
    // About 100 records of ~110 bytes reach 10,000 bytes: many parts, none far past the bound.
    assert.ok(manifest.parts.length >= 45, `${manifest.parts.length} parts`);
    for (const part of manifest.parts) assert.ok(part.bytes < 10_000 + 200, `part ${part.index}: ${part.bytes} bytes`);
    assert.equal(
      manifest.parts.reduce((sum, part) => sum + part.records, 0),
      5_000,
    );
    let read = 0;
    for await (const texts of readDatasetTexts(run, 'graph/entities/duo_user')) {
      for (const text of texts) assert.equal(text, record(read++));
    }
    assert.equal(read, 5_000);
  });

  it('shares the buffers of written parts between writers, keeping no more of them than asked', async () => {
    const store = await LocalDirectoryStagingStore.open(newRoot());
    const run = store.openRun('shared');
    const buffers = new PartBuffers(2);
    const names = ['graph/entities/duo_user', 'graph-index/entities/duo_user', 'graph/entities/duo_phone'];
    const writers = names.map((dataset) => new DatasetWriter(run, dataset, { recordsPerPart: 50, buffers }));
    const record = (dataset: string, i: number) => JSON.stringify({ dataset, i, pad: 'é'.repeat(i % 40) });
    // Interleaved, as a build adds the objects of several types: each writer's parts fill buffers
    // the others' written parts gave back.
    for (let i = 0; i < 2_000; i += 1) {
      for (const [index, writer] of writers.entries()) await writer.addText(record(names[index], i));
    }
    for (const writer of writers) await writer.close();
    assert.ok(buffers.bytes > 0, 'buffers of written parts are kept for the next');
    assert.ok(buffers.bytes <= 2 * 64 * 1024, `${buffers.bytes} bytes kept free, two buffers at most`);
    for (const dataset of names) {
      let read = 0;
      for await (const texts of readDatasetTexts(run, dataset)) {
        for (const text of texts) assert.equal(text, record(dataset, read++));
      }
      assert.equal(read, 2_000, dataset);
    }
  });

  it('hands out the smallest free buffer large enough, and a new one when none is', () => {
    const buffers = new PartBuffers(2);
    const small = Buffer.alloc(10);
    const large = Buffer.alloc(100);
    buffers.give(large);
    buffers.give(small);
    assert.equal(buffers.take(5), small);
    assert.equal(buffers.take(50), large);
    const fresh = buffers.take(50);
    assert.ok(fresh !== small && fresh !== large && fresh.length === 50);
    buffers.give(small);
    buffers.give(large);
    buffers.give(fresh);
    assert.equal(buffers.bytes, 150, 'beyond two, the smallest goes');
  });

  it('reads a part as its bytes, and a part that is gone as missing staged input', async () => {
    const store = await LocalDirectoryStagingStore.open(newRoot());
    const run = store.openRun('default~wf~run-parts~1');
    await writeRecords(run, 'raw/users', 0, [{ id: 1 }, { id: 'é' }]);
    assert.equal((await run.readPart('raw/users', 0)).toString('utf8'), '{"id":1}\n{"id":"é"}\n');
    await assert.rejects(run.readPart('raw/users', 1), StagedInputMissingError);
  });

  it('reads a part into the buffer it is given when the part fits, and into a new one when not', async () => {
    const store = await LocalDirectoryStagingStore.open(newRoot());
    const run = store.openRun('default~wf~run-into~1');
    await writeRecords(run, 'raw/users', 0, [{ id: 1 }, { id: 'é' }]);
    await writeRecords(run, 'raw/users', 1, [{ id: 'a much longer record than the first part holds'.repeat(4) }]);
    const expected = '{"id":1}\n{"id":"é"}\n';
    const into = Buffer.alloc(64, 0x78);
    const read = await run.readPart('raw/users', 0, into);
    assert.equal(read.toString('utf8'), expected);
    assert.equal(read.buffer, into.buffer, 'read into the buffer given');
    assert.equal(read.byteOffset, into.byteOffset);
    const larger = await run.readPart('raw/users', 1, into);
    assert.notEqual(larger.buffer, into.buffer, 'a part larger than the buffer gets its own');
    assert.match(larger.toString('utf8'), /^\{"id":"a much longer/);
    assert.equal(into.toString('utf8', 0, Buffer.byteLength(expected)), expected, 'the buffer given is left alone');
    await assert.rejects(run.readPart('raw/users', 2, into), StagedInputMissingError);
  });

  it('reads the next part while the caller works on this one, and a part that is gone where it is reached', async () => {
    const root = newRoot();
    const run = (await LocalDirectoryStagingStore.open(root)).openRun('default~wf~read-ahead~1');
    roots.set(run, root);
    const parts = await Promise.all([0, 1, 2].map((index) => writeRecords(run, 'graph/x', index, [{ index }])));
    await run.commitManifest('graph/x', parts);
    // The real run, watched: which parts were asked for by the time each batch reaches the caller.
    const asked: number[] = [];
    const watched: StagedRun = Object.create(run) as StagedRun;
    watched.readPart = (dataset, index) => {
      asked.push(index);
      return run.readPart(dataset, index);
    };
    const seen: string[] = [];
    for await (const lines of readDatasetLines(watched, 'graph/x')) {
      seen.push(`${lines.map((line) => line.toString('utf8')).join()} with ${asked.join()} asked`);
    }
    assert.deepEqual(seen, [
      '{"index":0} with 0,1 asked',
      '{"index":1} with 0,1,2 asked',
      '{"index":2} with 0,1,2 asked',
    ]);

    // Part 1 gone: part 0 is given, then the error; a caller that stops at part 0 hears nothing of it.
    await rm(path.join(runFolder(run), 'graph', 'x', 'part-000001'));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const given: number[] = [];
      await assert.rejects(async () => {
        for await (const lines of readDatasetTexts(run, 'graph/x')) {
          given.push(...lines.map((line) => (JSON.parse(line) as { index: number }).index));
          // Busy with part 0 while the read of part 1 fails.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }, StagedInputMissingError);
      assert.deepEqual(given, [0]);
      for await (const lines of readDatasetLines(run, 'graph/x')) {
        assert.equal(lines.length, 1);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('keeps files beside the datasets: atomically replaced, 0600, not listed as datasets, removed with the run', async () => {
    const root = newRoot();
    const store = await LocalDirectoryStagingStore.open(root);
    const run = store.openRun('default~wf~run-files~1');
    assert.equal(await run.readFile('converted/users/part-000000'), undefined);
    await run.writeFile('converted/users/part-000000', Buffer.from('first'));
    await run.writeFile('converted/users/part-000000', Buffer.from('second'));
    assert.equal((await run.readFile('converted/users/part-000000'))?.toString(), 'second');
    const folder = path.join(root, 'runs', encodeURIComponent(run.key), 'converted', 'users');
    assert.deepEqual(readdirSync(folder), ['part-000000'], 'no temporary file left');
    assert.equal(statSync(path.join(folder, 'part-000000')).mode & 0o777, 0o600);
    assert.deepEqual(await run.listDatasets(), []);
    await assert.rejects(run.writeFile('../escape', Buffer.from('x')), /Invalid staging dataset name/);
    await run.remove();
    assert.equal(await run.readFile('converted/users/part-000000'), undefined);
  });

  it('removes a run at once and deletes its files in the background; a crash’s leftovers go at the next open', async () => {
    const root = newRoot();
    const store = await LocalDirectoryStagingStore.open(root);
    const run = store.openRun('default~wf~run-removed~1');
    const part = await writeRecords(run, 'converted/users', 0, [{ id: 1 }, { id: 2 }]);
    await run.commitManifest('converted/users', [part]);
    const removing = path.join(root, 'removing');

    await run.remove();
    // Gone from where runs are read and listed the moment `remove` resolves ...
    assert.equal(existsSync(path.join(root, 'runs', encodeURIComponent(run.key))), false);
    assert.deepEqual(await store.listRuns(), []);
    await assert.rejects(readStagedObjects(run, 'converted/users'), StagedInputMissingError);
    // ... while its files are still being deleted: `remove` did not wait for that.
    assert.equal(readdirSync(removing).length, 1, 'the run’s files, moved aside, not deleted yet');
    await store.deletionsSettled();
    assert.deepEqual(readdirSync(removing), []);
    await run.remove(); // removing a run again, or one that staged nothing, is fine

    // A worker that stopped mid-deletion leaves files in removing/: the next open deletes them.
    const leftover = path.join(removing, 'default~wf~run-crashed~1-0a1b2c3d', 'converted', 'users');
    mkdirSync(leftover, { recursive: true });
    await writeFile(path.join(leftover, 'part-000000'), '{"id":1}\n');
    await LocalDirectoryStagingStore.open(root);
    assert.equal(existsSync(path.join(removing, 'default~wf~run-crashed~1-0a1b2c3d')), false);
  });

  it('reports missing staged input with a typed error', async () => {
    const store = await LocalDirectoryStagingStore.open(newRoot());
    const run = store.openRun('gone');
    await assert.rejects(readStagedObjects(run, 'raw/users'), StagedInputMissingError);
    const part = await writeRecords(run, 'raw/users', 0, [{ id: 1 }]);
    await run.commitManifest('raw/users', [part]);
    await run.remove();
    await assert.rejects(readStagedObjects(run, 'raw/users'), (error: unknown) => {
      assert.ok(error instanceof StagedInputMissingError);
      assert.match(error.message, /raw\/users.*gone.*no manifest/);
      return true;
    });
  });

  it('sweeps the staging of runs that are no longer alive, and only those', async () => {
    const root = newRoot();
    const store = await LocalDirectoryStagingStore.open(root);
    for (const key of ['a~w1~r1~1', 'b~w2~r2~1', 'c~w3~r3~1']) {
      await writeRecords(store.openRun(key), 'raw/users', 0, [{ key }]);
    }
    const removed = await store.sweep(async (key) => key.startsWith('b~'));
    assert.deepEqual(removed.sort(), ['a~w1~r1~1', 'c~w3~r3~1']);
    assert.deepEqual(await store.listRuns(), ['b~w2~r2~1']);
  });

  it('rejects dataset names that would escape the run folder', async () => {
    const store = await LocalDirectoryStagingStore.open(newRoot());
    const run = store.openRun('x');
    await assert.rejects(writeRecords(run, '../outside', 0, []), /Invalid staging dataset name/);
    await assert.rejects(writeRecords(run, 'raw/../../x', 0, []), /Invalid staging dataset name/);
  });

  it('ignores leftover temporary files of a crashed write', async () => {
    const root = newRoot();
    const store = await LocalDirectoryStagingStore.open(root);
    const run = store.openRun('crash');
    const part = await writeRecords(run, 'raw/users', 0, [{ id: 1 }]);
    const folder = path.join(root, 'runs', 'crash', 'raw', 'users');
    await writeFile(path.join(folder, 'part-000001.tmp-dead'), '{"id": 2}\n{"id"');
    const manifest = await run.commitManifest('raw/users', [part]);
    assert.equal(manifest.records, 1);
    assert.deepEqual(await readStagedObjects(run, 'raw/users'), [{ id: 1 }]);
    await rm(folder, { recursive: true });
    assert.deepEqual(await readdir(path.join(root, 'runs', 'crash', 'raw')), []);
  });
});

describe('part log of a dataset staged page by page', () => {
  /** How the parts are made (a conversion key, for the fetch). */
  const MADE_WITH = 'converted for the test instance';

  /** Stages `count` parts of two records each as a fetch does, logging each. */
  async function stageLogged(run: StagedRun, log: PartLog, count: number): Promise<void> {
    for (let index = 0; index < count; index++) {
      const part = await writeRecords(run, 'raw/users', index, [{ id: index * 2 }, { id: index * 2 + 1 }]);
      await log.add({
        ...part,
        sha256: part.sha256!,
        offset: index * 2,
        ...(index < count - 1 ? { nextOffset: index * 2 + 2 } : {}),
        totalObjects: count * 2,
      });
    }
  }

  it('keeps every part still as written and resumes right after the last one, whatever the heartbeat said', async () => {
    const root = newRoot();
    const run = (await LocalDirectoryStagingStore.open(root)).openRun('log-1');
    await stageLogged(run, new PartLog(run, 'raw/users', MADE_WITH), 4);
    // Temporal last heard of two parts; the disk holds four, intact.
    const start = await new PartLog(run, 'raw/users', MADE_WITH).resumePoint({ partsWritten: 2, records: 4 });
    assert.deepEqual(
      start.parts.map((p) => p.index),
      [0, 1, 2, 3],
    );
    assert.equal(start.records, 8);
    assert.equal(start.nextOffset, undefined, 'the kept parts end the list');
    assert.equal(start.discarded, 0);
  });

  it('reads again from the first part that is changed or gone, and everything after it', async () => {
    const root = newRoot();
    const run = (await LocalDirectoryStagingStore.open(root)).openRun('log-2');
    await stageLogged(run, new PartLog(run, 'raw/users', MADE_WITH), 4);
    // Part 2 replaced by one of the same size and other content.
    await run.writePart('raw/users', 2, Buffer.from('{"id":9}\n{"id":8}\n'), 2);
    const start = await new PartLog(run, 'raw/users', MADE_WITH).resumePoint(undefined);
    assert.deepEqual(
      start.parts.map((p) => p.index),
      [0, 1],
    );
    assert.equal(start.nextOffset, 4, 'the offset after the last intact part');
    assert.equal(start.records, 4);
    assert.equal(start.discarded, 2);

    await rm(path.join(root, 'runs', 'log-2', 'raw', 'users', 'part-000000'));
    const fromScratch = await new PartLog(run, 'raw/users', MADE_WITH).resumePoint(undefined);
    assert.deepEqual(fromScratch.parts, []);
    assert.equal(fromScratch.nextOffset, 0);
  });

  it('starts from scratch when the whole dataset is gone, or when the log disagrees with Temporal', async () => {
    const root = newRoot();
    const run = (await LocalDirectoryStagingStore.open(root)).openRun('log-3');
    await stageLogged(run, new PartLog(run, 'raw/users', MADE_WITH), 3);
    const disagreeing = await new PartLog(run, 'raw/users', MADE_WITH).resumePoint({ partsWritten: 2, records: 5 });
    assert.deepEqual(disagreeing.parts, [], 'a log that does not add up to what Temporal recorded is not trusted');

    await stageLogged(run, new PartLog(run, 'raw/users', MADE_WITH), 3);
    await run.removeDataset('raw/users');
    const gone = await new PartLog(run, 'raw/users', MADE_WITH).resumePoint({ partsWritten: 3, records: 6 });
    assert.deepEqual(gone.parts, []);
    assert.equal(gone.nextOffset, 0);
  });

  it('commits a manifest of exactly the logged parts, with their checksums', async () => {
    const root = newRoot();
    const run = (await LocalDirectoryStagingStore.open(root)).openRun('log-4');
    const log = new PartLog(run, 'raw/users', MADE_WITH);
    await stageLogged(run, log, 2);
    // A part left by a longer, earlier attempt is not part of the dataset.
    await writeRecords(run, 'raw/users', 2, [{ id: 99 }]);
    const manifest = await run.commitManifest('raw/users', log.logged);
    assert.equal(manifest.parts.length, 2);
    assert.ok(manifest.parts.every((part) => /^[0-9a-f]{64}$/.test(part.sha256 ?? '')));
    assert.deepEqual(await readStagedObjects(run, 'raw/users'), [{ id: 0 }, { id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it('keeps nothing made otherwise than the writer makes its parts now', async () => {
    const root = newRoot();
    const run = (await LocalDirectoryStagingStore.open(root)).openRun('log-5');
    await stageLogged(run, new PartLog(run, 'raw/users', MADE_WITH), 3);
    const start = await new PartLog(run, 'raw/users', 'converted with other instance settings').resumePoint(undefined);
    assert.deepEqual(start.parts, []);
    assert.equal(start.nextOffset, 0);
  });
});
