import assert from 'node:assert/strict';
import { deserialize } from 'node:v8';
import type { GraphInstanceContext } from '../src/graph/converters';
import { convertPage } from '../src/graph/page-conversion';
import { convertRecords } from '../src/graph/record-conversion';
import { RESOURCE_NAMES, listEndpointOf, withoutSecretFields } from '../src/resources/table';
import { generateTenant } from '../src/simulators/duo/tenant-generator';
import { partChecksum } from '../src/staging/store';
import { mapInOrder } from '../src/util/in-order';

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
      assert.deepEqual(deserialize(converted.bytes), convertRecords(resource, records, context), resource);
      assert.equal(converted.sha256, partChecksum(converted.bytes));
      assert.equal(converted.records, sent.length);
      for (const record of tenant.integrations) {
        assert.ok(!Buffer.from(converted.bytes).includes(record.secret_key!), 'no secret in a converted page');
      }
    }
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
