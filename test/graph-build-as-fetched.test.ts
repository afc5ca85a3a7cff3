import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildGraph, resourcesStagedBy, type BuildGraphOptions } from '../src/graph/build-graph';
import {
  CONVERSION_KEY_META,
  FollowedDatasetIdleError,
  FollowedPartsReplacedError,
  conversionKey,
  convertedDatasetName,
  followConvertedParts,
} from '../src/graph/converted-part';
import { untilTheFetchLeavesTime } from '../src/graph/follow-pace';
import { GRAPH_DATASETS } from '../src/graph/data-model';
import type { FetchOutcomeLike } from '../src/graph/partial-datasets';
import { convertPage } from '../src/graph/page-conversion';
import { RESOURCE_NAMES, type ResourceName } from '../src/resources/table';
import { generateTenant } from '../src/simulators/duo/tenant-generator';
import { readDatasetTexts } from '../src/staging/json-lines';
import { LocalDirectoryStagingStore } from '../src/staging/local-directory-store';
import { PartLog } from '../src/staging/part-log';
import { StagedInputMissingError, type PartInfo, type StagedRun } from '../src/staging/store';
import { waitFor } from './harness/inspect';
import { stageRecords, stageRecordsAsFetched, taggedContext } from './harness/staging';
import { tenantRecords } from './harness/tenant-records';

const roots: string[] = [];

async function newRun(): Promise<StagedRun> {
  const root = mkdtempSync(path.join(tmpdir(), 'duo-j1-follow-'));
  roots.push(root);
  return (await LocalDirectoryStagingStore.open(root)).openRun('follow-test');
}

const allComplete = Object.fromEntries(RESOURCE_NAMES.map((r) => [r, { status: 'complete' }])) as Record<
  ResourceName,
  FetchOutcomeLike
>;

/** Every staged graph dataset's texts, by dataset. */
async function graphTexts(run: StagedRun): Promise<Map<string, string[]>> {
  const texts = new Map<string, string[]>();
  for (const { dataset } of GRAPH_DATASETS) {
    const lines: string[] = [];
    for await (const batch of readDatasetTexts(run, dataset)) lines.push(...batch);
    texts.set(dataset, lines);
  }
  return texts;
}

describe('the build as the fetch stages its pages', function () {
  this.timeout(60_000);

  const tenant = generateTenant({ users: 400, seed: 11, tokens: 80 });
  const context = taggedContext(tenant, 'Generated Tenant');
  const key = conversionKey(context);

  after(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  it('applies each page once it is staged and builds the very graph it builds from the finished datasets', async () => {
    const finished = await newRun();
    for (const resource of RESOURCE_NAMES) {
      await stageRecords(finished, resource, tenantRecords(tenant, resource), context, 97);
    }
    const options: BuildGraphOptions = { recordsPerPart: 113 };
    const expected = await buildGraph(finished, allComplete, context, options);

    const run = await newRun();
    // The parts of each resource the build has been given, and how many of them came before its manifest.
    const given = new Map<ResourceName, number>(RESOURCE_NAMES.map((r) => [r, 0]));
    const committed = new Set<ResourceName>();
    let givenBeforeManifest = 0;
    const building = buildGraph(run, allComplete, context, {
      ...options,
      partsOf: async function* (resource, partsKey) {
        for await (const part of followConvertedParts(run, resource, partsKey, { pollMs: 5 })) {
          given.set(resource, given.get(resource)! + 1);
          if (!committed.has(resource)) givenBeforeManifest += 1;
          yield part;
        }
      },
    });
    // Every resource staged at once, as the fetches run; the users page by page, each next page
    // only once the build has taken the one before.
    await Promise.all(
      RESOURCE_NAMES.map(async (resource) => {
        let pages = 0;
        await stageRecordsAsFetched(run, resource, tenantRecords(tenant, resource), context, 97, async () => {
          pages += 1;
          if (resource === 'users') await waitFor(() => given.get('users') === pages, `users page ${pages} taken`);
        });
        committed.add(resource);
      }),
    );
    const summary = await building;

    const userPages = Math.ceil(tenant.users.length / 97);
    assert.equal(given.get('users'), userPages);
    assert.ok(givenBeforeManifest >= userPages, `parts given before their manifest: ${givenBeforeManifest}`);
    assert.deepEqual(summary, expected);
    const texts = await graphTexts(run);
    for (const [dataset, lines] of await graphTexts(finished)) {
      assert.deepEqual(texts.get(dataset), lines, dataset);
    }
  });

  it('refuses to go on when a retried fetch writes again a part it gave, or commits fewer parts than it gave', async () => {
    const run = await newRun();
    const dataset = convertedDatasetName('users');
    const log = new PartLog(run, dataset, key);
    await log.resumePoint(undefined);
    const stage = async (index: number, records: readonly object[]): Promise<PartInfo> => {
      const page = convertPage('users', records, context);
      const part = await run.writePart(dataset, index, page.bytes, page.records, page.sha256);
      await log.add({ ...part, sha256: page.sha256, offset: index * 50, nextOffset: (index + 1) * 50 });
      return part;
    };
    await stage(0, tenant.users.slice(0, 50));
    await stage(1, tenant.users.slice(50, 100));
    const parts = followConvertedParts(run, 'users', key, { pollMs: 5 });
    assert.equal((await parts.next()).value?.index, 0);
    assert.equal((await parts.next()).value?.index, 1);
    // Written again from another page of the list (the tenant changed between two attempts).
    await stage(1, tenant.users.slice(60, 110));
    await assert.rejects(
      parts.next(),
      (error: unknown) => error instanceof FollowedPartsReplacedError && /part 1 was written again/.test(error.message),
    );

    const again = followConvertedParts(run, 'users', key, { pollMs: 5 });
    assert.equal((await again.next()).value?.index, 0);
    assert.equal((await again.next()).value?.index, 1);
    await run.commitManifest(dataset, log.logged.slice(0, 1), { [CONVERSION_KEY_META]: key });
    await assert.rejects(
      again.next(),
      (error: unknown) =>
        error instanceof FollowedPartsReplacedError && /2 parts were read, its manifest lists 1/.test(error.message),
    );
  });

  it('takes only the time the fetch leaves idle, and all of it once every fetch it follows is over', async () => {
    const run = await newRun();
    const datasets = ['users', 'phones'].map((resource) => convertedDatasetName(resource as ResourceName));
    const pace = untilTheFetchLeavesTime(run, datasets, { windowMs: 50 });
    const within = (ms: number, promise: Promise<void>) =>
      Promise.race([promise.then(() => 'given'), new Promise((resolve) => setTimeout(() => resolve('waiting'), ms))]);

    // An idle thread: a part at the end of a window.
    assert.equal(await within(1_000, pace()), 'given');
    // A thread kept busy (as by an unthrottled fetch, 18 ms of every 20): the build waits...
    const busy = setInterval(() => {
      const until = performance.now() + 18;
      while (performance.now() < until);
    }, 20);
    try {
      const waiting = pace();
      assert.equal(await within(600, waiting), 'waiting');
      // ...until every fetch it follows is over: then at once, busy or not.
      await stageRecords(run, 'users', tenant.users.slice(0, 10), context);
      assert.equal(await within(300, waiting), 'waiting', 'the phones are still being fetched');
      await stageRecords(run, 'phones', tenant.phones.slice(0, 10), context);
      assert.equal(await within(1_000, waiting), 'given');
      assert.equal(await within(100, pace()), 'given');
    } finally {
      clearInterval(busy);
    }
  });

  it('waits for a fetch that has started however long it takes, and gives up on one that never starts', async () => {
    const run = await newRun();
    await assert.rejects(
      followConvertedParts(run, 'phones', key, { pollMs: 10, patienceMs: 100 }).next(),
      (error: unknown) =>
        error instanceof FollowedDatasetIdleError && /converted\/phones" did not start staging it/.test(error.message),
    );

    // A fetch saves its part log as it starts: from then on the build waits for its pages.
    const dataset = convertedDatasetName('tokens');
    await new PartLog(run, dataset, key).resumePoint(undefined);
    const parts = followConvertedParts(run, 'tokens', key, { pollMs: 10, patienceMs: 100 });
    const first = parts.next();
    const outcome = await Promise.race([first, new Promise((resolve) => setTimeout(() => resolve('waiting'), 400))]);
    assert.equal(outcome, 'waiting');
    const [part] = await stageRecords(run, 'tokens', tenant.tokens.slice(0, 10), context);
    assert.deepEqual((await first).value, part);
    assert.equal((await parts.next()).done, true);
  });
  it('gives up at once on a dataset that was staged and is gone, whether this attempt or an earlier one read it', async () => {
    // An earlier attempt reported the phones: every dataset applied before them, and the phones'
    // own, had been staged. A retry that finds one of them gone does not wait for its fetch to start.
    const staged = resourcesStagedBy('phones');
    assert.ok(staged.includes('groups') && staged.includes('phones'), `staged: ${staged.join(', ')}`);
    assert.ok(!staged.includes('users'), 'the users are applied after the phones');
    const run = await newRun();
    const gone = (dataset: string) => (error: unknown) =>
      error instanceof StagedInputMissingError &&
      error.dataset === dataset &&
      /it was staged, and its part log and manifest are gone since/.test(error.message);
    const started = performance.now();
    await assert.rejects(
      followConvertedParts(run, 'phones', key, { pollMs: 10, patienceMs: 60_000, stagedBefore: true }).next(),
      gone(convertedDatasetName('phones')),
    );
    assert.ok(performance.now() - started < 5_000, 'given up without waiting for the fetch to start');

    // This attempt took the first page of the tokens as their fetch logged it, and the staging went
    // before the rest.
    const dataset = convertedDatasetName('tokens');
    const log = new PartLog(run, dataset, key);
    await log.resumePoint(undefined);
    const page = convertPage('tokens', tenant.tokens.slice(0, 10), context);
    const part = await run.writePart(dataset, 0, page.bytes, page.records, page.sha256);
    await log.add({ ...part, sha256: page.sha256, offset: 0, nextOffset: 10 });
    const parts = followConvertedParts(run, 'tokens', key, { pollMs: 10, patienceMs: 60_000 });
    const taken = (await parts.next()).value as PartInfo;
    assert.deepEqual([taken.index, taken.sha256], [0, page.sha256]);
    await run.remove();
    await assert.rejects(parts.next(), gone(convertedDatasetName('tokens')));

    // Without either sign, a dataset not staged yet is waited for (until the patience runs out).
    await assert.rejects(
      followConvertedParts(run, 'webauthn', key, { pollMs: 10, patienceMs: 100 }).next(),
      (error: unknown) => error instanceof FollowedDatasetIdleError,
    );
  });
});
