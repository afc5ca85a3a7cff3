import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GraphInstanceContext } from '../src/graph/converters';
import { CONVERSION_THREAD_SETTING, conversionThreadOn } from '../src/graph/conversion-thread-setting';
import {
  PageConverter,
  convertPage,
  type ConvertedPage,
  type PageConverterOptions,
  type PageToConvert,
} from '../src/graph/page-conversion';
import { phoneNumberHashKey } from '../src/graph/phone-numbers';
import { decodeConvertedPart } from '../src/graph/converted-part';
import { convertRecords, type ConvertedBatch } from '../src/graph/record-conversion';
import {
  RESOURCE_NAMES,
  listEndpointOf,
  listPageRecords,
  withoutSecretFields,
  type ResourceName,
} from '../src/resources/table';
import { generateTenant } from '../src/simulators/duo/tenant-generator';
import { partChecksum } from '../src/staging/store';
import { mapInOrder } from '../src/util/in-order';
import { modulesLoaded, waitFor } from './harness/inspect';
import { taggedContext } from './harness/staging';

/** A staged part's batch (read back) is the batch converted: the same records, the same objects' bytes. */
function assertSameBatch(staged: ConvertedBatch | undefined, converted: ConvertedBatch, message?: string) {
  assert.ok(staged, `${message ?? 'the part'} reads back`);
  assert.deepEqual(staged.records, converted.records, message);
  for (const name of ['texts', 'textEnds', 'entries', 'entryEnds'] as const) {
    const bytes = (array: Uint8Array | Uint32Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
    assert.deepEqual(bytes(staged.objects[name]), bytes(converted.objects[name]), `${message ?? ''} ${name}`);
  }
}

describe('page conversion', function () {
  this.timeout(60_000);
  // Duplicates, invalid values, U2F tokens, shared devices, unicode: the generator's awkward cases.
  const tenant = generateTenant({ users: 900, seed: 23, tokens: 60 });
  const context = taggedContext(tenant, 'Ünïcode & Co');

  it('stages the converted records of a page as the client hands them on, with their checksum', () => {
    for (const resource of RESOURCE_NAMES) {
      const endpoint = listEndpointOf(resource);
      if (!endpoint) continue;
      const sent = tenant[endpoint.name] as object[];
      // What the client hands on: the records parsed, their secret fields removed.
      const records = (JSON.parse(JSON.stringify(sent)) as object[]).map((record) =>
        withoutSecretFields(record, endpoint.secretFields),
      );
      const converted = convertPage(resource, records, context);
      assertSameBatch(decodeConvertedPart(converted.bytes), convertRecords(resource, records, context), resource);
      assert.equal(converted.sha256, partChecksum(converted.bytes));
      assert.equal(converted.records, sent.length);
      for (const record of tenant.integrations) {
        assert.ok(!Buffer.from(converted.bytes).includes(record.secret_key!), 'no secret in a converted page');
      }
    }
  });

  it('reads back only bytes of its own form, whole', () => {
    const records = tenant.users.slice(0, 20).map((user) => JSON.parse(JSON.stringify(user)) as object);
    const bytes = Buffer.from(convertPage('users', records, context).bytes);
    assert.ok(decodeConvertedPart(bytes));
    // Cut short, one byte more, a count that does not add up, records that are not a list, too short.
    assert.equal(decodeConvertedPart(bytes.subarray(0, bytes.length - 1)), undefined);
    assert.equal(decodeConvertedPart(Buffer.concat([bytes, Buffer.from([0])])), undefined);
    const recount = Buffer.from(bytes);
    recount.writeUInt32LE(recount.readUInt32LE(4) - 1, 4);
    recount.writeUInt32LE(recount.readUInt32LE(8) + 8, 8);
    assert.equal(decodeConvertedPart(recount), undefined);
    const notAList = Buffer.alloc(18);
    notAList.writeUInt32LE(2, 0);
    notAList.write('{}', 16);
    assert.equal(decodeConvertedPart(notAList), undefined);
    assert.equal(decodeConvertedPart(new Uint8Array(8)), undefined);
  });

  it('keeps results in order, whatever finishes first', async () => {
    const delays = [30, 0, 10, 0];
    const order: number[] = [];
    async function* items() {
      for (let index = 0; index < delays.length; index += 1) yield index;
    }
    for await (const [item, result] of mapInOrder(
      items(),
      (item) => new Promise<string>((resolve) => setTimeout(() => resolve(`result ${item}`), delays[item])),
      3,
    )) {
      assert.equal(result, `result ${item}`);
      order.push(item);
    }
    assert.deepEqual(order, [0, 1, 2, 3]);
  });
});

describe('page conversion on the conversion thread', function () {
  this.timeout(60_000);
  const tenant = generateTenant({ users: 900, seed: 23, tokens: 60 });
  const contexts: GraphInstanceContext[] = [
    { siteId: tenant.siteId, apiHostname: tenant.apiHostname, accountName: 'Ünïcode & Co', tagWithAccountName: true },
    {
      siteId: tenant.siteId,
      apiHostname: tenant.apiHostname,
      phoneNumbers: {
        policy: 'hash',
        key: phoneNumberHashKey('a secret key of forty characters or so..', tenant.siteId),
      },
    },
  ];

  /** A list page as the Duo client hands it on: the records it parsed, and the bytes it parsed them from. */
  function pageOf(resource: ResourceName, records: readonly object[]): PageToConvert {
    const endpoint = listEndpointOf(resource)!;
    const bytes = Buffer.from(
      JSON.stringify({ stat: 'OK', response: records, metadata: { total_objects: records.length } }),
    );
    // The client's own handling of an answer; owned bytes, as the client's are.
    const parsed = JSON.parse(bytes.toString('utf8')) as { response: object[] };
    return { records: listPageRecords(parsed.response, endpoint), body: new Uint8Array(bytes) };
  }

  /** `converted` holds `records` converted, whichever thread did it (see the first test on bytes). */
  function assertSamePage(
    converted: ConvertedPage,
    resource: ResourceName,
    records: readonly object[],
    context: GraphInstanceContext,
  ) {
    assertSameBatch(decodeConvertedPart(converted.bytes), convertRecords(resource, records, context));
    assert.equal(converted.sha256, partChecksum(converted.bytes));
    assert.equal(converted.records, records.length);
  }

  const converters: PageConverter[] = [];
  function converter(options: PageConverterOptions = {}): PageConverter {
    const made = new PageConverter({ thread: true, smallestPageForThread: 1, busyAbove: 0, ...options });
    converters.push(made);
    return made;
  }
  after(async () => {
    for (const made of converters) await made.close();
  });

  it('stages the same page from the answer on the thread as from the records inline, for every list without secrets', async () => {
    const pages = converter();
    let expected = 0;
    for (const context of contexts) {
      for (const resource of RESOURCE_NAMES) {
        const endpoint = listEndpointOf(resource);
        if (!endpoint || endpoint.secretFields.length > 0) continue;
        const sent = tenant[endpoint.name] as object[];
        if (sent.length === 0) continue;
        const page = pageOf(resource, sent);
        const inline = convertPage(resource, page.records, context);
        const onThread = await pages.convert(resource, page, context);
        expected += 1;
        assert.equal(pages.counts.onThread, expected, `${resource} went to the thread`);
        // The same converted page, byte for byte, whichever thread made it.
        assert.deepEqual(Buffer.from(onThread.bytes), Buffer.from(inline.bytes), resource);
        assert.equal(onThread.sha256, partChecksum(onThread.bytes));
        assert.equal(onThread.records, sent.length);
      }
    }
    assert.equal(pages.counts.inline, 0);
    assert.equal(pages.counts.threadFailures, 0);
  });

  it('converts a page inline while the thread holds two, and joined records or small pages always', async () => {
    const pages = converter({ smallestPageForThread: 50 });
    const [context] = contexts;
    const slices = [0, 300, 600].map((start) => tenant.users.slice(start, start + 300));
    const converting = slices.map((records) => pages.convert('users', pageOf('users', records), context));
    // The first two wait on the thread; the third is converted here, at once.
    assert.deepEqual(pages.counts, { onThread: 0, inline: 1, threadFailures: 0 }, 'the third page, at once');
    const converted = await Promise.all(converting);
    assert.equal(pages.counts.onThread, 2);
    converted.forEach((page, index) => assertSamePage(page, 'users', pageOf('users', slices[index]).records, context));
    // Once the thread has room again, it takes the next page.
    await pages.convert('users', pageOf('users', slices[0]), context);
    assert.equal(pages.counts.onThread, 3);
    // No answer's bytes (joined records) or fewer records than worth a hand-over: inline.
    await pages.convert('users', { records: pageOf('users', slices[0]).records }, context);
    await pages.convert('users', pageOf('users', tenant.users.slice(0, 49)), context);
    assert.deepEqual(pages.counts, { onThread: 3, inline: 3, threadFailures: 0 });
  });

  it('converts the page inline when the thread cannot live, and stops starting it after a few deaths', async () => {
    const warnings: string[] = [];
    // A heap far too small to load the converters: the thread dies of it, for real.
    const pages = converter({
      resourceLimits: { maxOldGenerationSizeMb: 2, maxYoungGenerationSizeMb: 1 },
      log: (level, message, fields) => warnings.push(`${level} ${message} ${JSON.stringify(fields)}`),
    });
    const [, context] = contexts;
    for (let index = 0; index < 5; index += 1) {
      const page = pageOf('phones', tenant.phones.slice(0, 200));
      const converted = await pages.convert('phones', page, context);
      assertSamePage(converted, 'phones', page.records, context);
    }
    assert.deepEqual(pages.counts, { onThread: 0, inline: 5, threadFailures: 3 });
    assert.equal(warnings.length, 3);
    assert.ok(warnings.every((line) => line.startsWith('warn The conversion thread failed a page')));
    const { key } = context.phoneNumbers as { key: string };
    for (const line of warnings) assert.ok(!line.includes(key), 'no hash key in a log line');
    assert.equal(pages.threadRunning, false);
  });

  it('converts the page inline when the thread is stopped in the middle of it', async () => {
    const pages = converter();
    const [context] = contexts;
    const page = pageOf('users', tenant.users);
    const records = page.records;
    const converting = pages.convert('users', page, context);
    await waitFor(() => pages.threadRunning, 'the thread started');
    await pages.close();
    const converted = await converting;
    assertSamePage(converted, 'users', records, context);
    assert.deepEqual(pages.counts, { onThread: 0, inline: 1, threadFailures: 1 });
  });

  it('converts the page inline when the thread fails it, and keeps the thread', async () => {
    const pages = converter();
    const [context] = contexts;
    const page = pageOf('users', tenant.users.slice(0, 300));
    // Bytes the thread cannot parse: the conversion throws there, and the records in hand are converted here.
    const converted = await pages.convert(
      'users',
      { records: page.records, body: Buffer.from('{"stat":"OK","resp') },
      context,
    );
    assertSamePage(converted, 'users', page.records, context);
    assert.deepEqual(pages.counts, { onThread: 0, inline: 1, threadFailures: 1 });
    assert.equal(pages.threadRunning, true, 'a thread that threw is sound');
  });

  it('ends the wait for the thread as soon as the fetch is cancelled', async () => {
    const pages = converter();
    const [context] = contexts;
    // Warm: the thread is up, so the page below is mid-conversion when the signal comes.
    await pages.convert('users', pageOf('users', tenant.users.slice(0, 300)), context);
    const controller = new AbortController();
    const converting = pages.convert('users', pageOf('users', tenant.users), context, controller.signal);
    const cancelled = new Error('cancelled');
    const abortedAt = performance.now();
    controller.abort(cancelled);
    await assert.rejects(converting, (error) => error === cancelled);
    assert.ok(performance.now() - abortedAt < 50, 'ended at once, not when the thread answered');
    // The thread is still of use to the next page.
    await pages.convert('users', pageOf('users', tenant.users.slice(0, 300)), context);
    assert.equal(pages.counts.onThread, 2);
  });

  it('leaves pages on the fetch’s thread while it has time to spare, and hands them over when it has not', async () => {
    const pages = converter({ busyAbove: 0.5 });
    const [context] = contexts;
    const page = () => pageOf('users', tenant.users.slice(0, 300));
    // Waiting, as a fetch waits for a rate-limited Duo: converted here, and no thread started.
    await sleep(300);
    await pages.convert('users', page(), context);
    assert.deepEqual(pages.counts, { onThread: 0, inline: 1, threadFailures: 0 });
    assert.equal(pages.threadRunning, false);
    // Busy all the time, as a fetch of an unthrottled Duo is: the page goes to the thread.
    const until = performance.now() + 400;
    while (performance.now() < until);
    await pages.convert('users', page(), context);
    assert.deepEqual(pages.counts, { onThread: 1, inline: 1, threadFailures: 0 });
  });

  it('loads only what converting needs into the thread: no Temporal SDK, no TypeBox copies of the schemas', async () => {
    // What conversion-thread.ts imports, loaded alone in a fresh process: every module listed is
    // memory the thread holds for as long as it lives.
    const { before: loaded } = await modulesLoaded(['resources/table', 'util/thread-pool', 'graph/page-conversion']);
    assert.ok(
      loaded.some((file) => file.endsWith('@jupiterone/data-model/dist/IntegrationSchema.js')),
      'the schemas converting validates with are loaded',
    );
    const needless = loaded.filter(
      (file) =>
        /\/node_modules\/(@temporalio|@sinclair\/typebox)\//.test(file) || file.endsWith('/src/config/instances.ts'),
    );
    assert.deepEqual(needless, []);
  });

  it('starts the thread again for every burst of pages, however many times it stopped idle', async () => {
    // A worker lives through many runs: each run's fetch starts the thread, which stops once idle.
    // Only deaths count against the restarts (the test above); stops when idle never do.
    const pages = converter({ idleMs: 50 });
    const [context] = contexts;
    for (let run = 1; run <= 5; run += 1) {
      await pages.convert('users', pageOf('users', tenant.users.slice(0, 300)), context);
      assert.equal(pages.threadRunning, true, `the thread converts run ${run}'s page`);
      await waitFor(() => !pages.threadRunning, `the thread stopped, idle, after run ${run}`);
    }
    assert.deepEqual(pages.counts, { onThread: 5, inline: 0, threadFailures: 0 });
  });

  it('stops the thread when idle, and starts none when switched off (it is on by default)', async () => {
    const lines: string[] = [];
    const pages = converter({
      idleMs: 200,
      log: (level, message, fields) => lines.push(`${message} ${JSON.stringify(fields)}`),
    });
    const [context] = contexts;
    await pages.convert('users', pageOf('users', tenant.users.slice(0, 300)), context);
    assert.equal(pages.threadRunning, true);
    await waitFor(() => !pages.threadRunning, 'the idle thread stopped');
    assert.deepEqual(lines, ['The conversion thread stopped, idle {"onThread":1,"inline":0,"threadFailures":0}']);

    const off = new PageConverter({ env: { [CONVERSION_THREAD_SETTING]: 'off' }, smallestPageForThread: 1 });
    await off.convert('users', pageOf('users', tenant.users.slice(0, 300)), context);
    assert.deepEqual(off.counts, { onThread: 0, inline: 1, threadFailures: 0 });
    assert.equal(off.threadRunning, false);
    assert.equal(conversionThreadOn({}), true);
    assert.equal(conversionThreadOn({ [CONVERSION_THREAD_SETTING]: 'off' }), false);
    assert.equal(conversionThreadOn({ [CONVERSION_THREAD_SETTING]: ' ON ' }), true);
    assert.throws(() => conversionThreadOn({ [CONVERSION_THREAD_SETTING]: 'maybe' }), /must be on or off/);
  });
});
