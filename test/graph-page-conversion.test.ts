import assert from 'node:assert/strict';
import { deserialize } from 'node:v8';
import type { GraphInstanceContext } from '../src/graph/converters';
import { PageConversion, convertPage } from '../src/graph/page-conversion';
import { RESOURCE_NAMES, listEndpointOf, withoutSecretFields } from '../src/resources/table';
import { generateTenant } from '../src/simulators/duo/tenant-generator';
import { partChecksum } from '../src/staging/store';
import { mapInOrder } from '../src/util/in-order';
import { stopAtEnd } from './harness/root-hooks';

/** A list page's answer as Duo writes it. */
function answer(records: readonly object[]): Buffer {
  return Buffer.from(
    JSON.stringify({ metadata: { total_objects: records.length }, response: records, stat: 'OK' }),
    'utf8',
  );
}

describe('page conversion', function () {
  this.timeout(60_000);
  // Duplicates, invalid values, U2F tokens, shared devices, unicode: the generator's awkward cases.
  const tenant = generateTenant({ users: 900, seed: 23, tokens: 60 });
  const context: GraphInstanceContext = {
    siteId: tenant.siteId,
    apiHostname: tenant.apiHostname,
    accountName: 'Ünïcode & Co',
    tagWithAccountName: true,
  };
  const threads = new PageConversion({ threadsFrom: 0, threads: 2 });
  stopAtEnd(() => threads.close());

  it('stages on a thread, from the answer, exactly what it stages inline from the records', async () => {
    for (const resource of RESOURCE_NAMES) {
      const endpoint = listEndpointOf(resource);
      if (!endpoint) continue;
      const sent = tenant[endpoint.name] as object[];
      // What the client hands on: the records parsed, their secret fields removed.
      const records = (JSON.parse(answer(sent).toString('utf8')) as { response: object[] }).response.map((record) =>
        withoutSecretFields(record, endpoint.secretFields),
      );
      const inline = convertPage(resource, records, context);
      const threaded = await threads.convert(resource, { records, body: answer(sent) }, context);
      // The same converted records and graph texts (V8 may lay an array out differently in the bytes).
      assert.deepEqual(deserialize(threaded.bytes), deserialize(inline.bytes), resource);
      assert.equal(threaded.sha256, partChecksum(threaded.bytes));
      assert.equal(threaded.records, sent.length);
      for (const record of tenant.integrations) {
        assert.ok(!Buffer.from(threaded.bytes).includes(record.secret_key!), 'no secret in a converted page');
      }
    }
  });

  it('converts small lists on the calling thread, without the answer', async () => {
    const inline = new PageConversion();
    const records = tenant.groups.slice(0, 3);
    const converted = await inline.convert('groups', { records, totalObjects: 3 }, context);
    assert.deepEqual(converted, convertPage('groups', records, context));
  });

  it('fails a page with the thread’s error, refuses a page the thread read otherwise, and goes on', async () => {
    const users = tenant.users.slice(0, 2);
    await assert.rejects(
      threads.convert('users', { records: users, body: Buffer.from('{"response": [') }, context),
      /Converting a page of users failed: SyntaxError/,
    );
    await assert.rejects(
      threads.convert('users', { records: users, body: answer(users.slice(0, 1)) }, context),
      /converted to 1 records where the Duo client read 2/,
    );
    const converted = await threads.convert('users', { records: users, body: answer(users) }, context);
    assert.equal(converted.records, 2, 'the threads go on after a failed page');
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
