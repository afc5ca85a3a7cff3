import assert from 'node:assert/strict';
import { WORKFLOW_TYPE, type DuoIngestionResult, type JupiterOneDeliveryReport } from '../src/workflows/contract';
import {
  PHONE_NUMBER_HASH_PREFIX,
  describePhoneNumberRule,
  hashPhoneNumber,
  phoneNumberHashKey,
  withPhoneNumberRule,
  type PhoneNumberPolicy,
} from '../src/graph/phone-numbers';
import { ENTITY_KEYS } from '../src/graph/data-model';
import { startDuoSimulator, type DuoSimulator, type DuoTenant } from '../src/simulators/duo';
import { startTestJupiterOneSimulator } from './harness/jupiterone';
import { filesContaining } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig, uniqueTaskQueue } from './harness/temporal';

/**
 * Every phone number of a tenant, as digits only: found in a text whatever punctuation surrounds
 * it (`+1 555…`, `"15550000001"`). Phones', administrators', users' embedded phones' and the
 * account's caller id.
 */
function phoneNumbersOf(tenant: DuoTenant): string[] {
  const numbers = [
    ...tenant.phones.map((phone) => phone.number),
    ...tenant.users.flatMap((user) => (user.phones ?? []).map((phone) => phone.number)),
    ...tenant.admins.map((admin) => admin.phone),
    tenant.settings.caller_id,
  ];
  return [...new Set(numbers.flatMap((n) => (typeof n === 'string' ? [n.replace(/\D/g, '')] : [])))].filter(
    (digits) => digits.length >= 7,
  );
}

/** The numbers found in a text. */
function numbersIn(text: string, numbers: readonly string[]): string[] {
  return numbers.filter((number) => text.includes(number));
}

async function tenantSimulator(): Promise<DuoSimulator> {
  const duo = await startDuoSimulator({ users: 120, seed: 61 });
  stopAtEnd(() => duo.close());
  return duo;
}

describe('phone numbers', () => {
  const key = phoneNumberHashKey('a-duo-secret-key-of-forty-characters-xxx', '1a2b3c4d');

  it('hashes with a key: stable, punctuation ignored, another key another hash, never the number', () => {
    const hash = hashPhoneNumber('+1 555-000-0001', key);
    assert.equal(hash, hashPhoneNumber('+15550000001', key), 'the same number written two ways');
    assert.match(hash, new RegExp(`^${PHONE_NUMBER_HASH_PREFIX}[0-9a-f]{32}$`));
    assert.notEqual(hash, hashPhoneNumber('+15550000002', key));
    const otherAccount = phoneNumberHashKey('a-duo-secret-key-of-forty-characters-xxx', '9f9f9f9f');
    assert.notEqual(hash, hashPhoneNumber('+15550000001', otherAccount), 'keyed per Duo account');
    // What is written down of the rule (staged manifests) is a fingerprint, not the key.
    const described = describePhoneNumberRule({ policy: 'hash', key });
    assert.match(described, /^hash:[0-9a-f]{16}$/);
    assert.ok(!described.includes(key.slice(0, 16)));
    assert.equal(describePhoneNumberRule(undefined), 'keep');
  });

  it('applies to the fields named, in lists too, copying only what changes', () => {
    const user = {
      user_id: 'DU1',
      phones: [
        { phone_id: 'DP1', number: '+15550000001', extension: '12' },
        { phone_id: 'DP2', number: '' },
      ],
      groups: [{ group_id: 'DG1' }],
    };
    const fields = ['phones[].number', 'phones[].extension'];
    const omitted = withPhoneNumberRule(user, fields, { policy: 'omit' });
    assert.deepEqual(omitted.phones, [{ phone_id: 'DP1' }, { phone_id: 'DP2', number: '' }]);
    assert.equal(omitted.groups, user.groups, 'untouched parts are shared, not copied');
    assert.equal(user.phones[0].number, '+15550000001', 'the input is left as it was');
    const hashed = withPhoneNumberRule(user, fields, { policy: 'hash', key });
    assert.equal(hashed.phones[0].number, hashPhoneNumber('+15550000001', key));
    assert.equal(hashed.phones[1].number, '', "a tablet's empty number is not a number");
    assert.equal(withPhoneNumberRule(user, fields, { policy: 'keep' }), user);
    const account = { settings: { caller_id: '+15550000009', name: 'Acme' } };
    assert.deepEqual(withPhoneNumberRule(account, ['settings.caller_id'], { policy: 'omit' }), {
      settings: { name: 'Acme' },
    });
  });

  async function runLocally(duo: DuoSimulator, phoneNumbers: PhoneNumberPolicy) {
    const instance = simulatorInstance(duo, { phoneNumbers });
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();
    const result = (await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `phones-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id }],
    })) as DuoIngestionResult;
    // Whatever the rule, every entity is still valid: nothing dropped, nothing partial.
    assert.deepEqual(result.partialTypes, [], phoneNumbers);
    return config.dataDir;
  }

  it('omit: no phone number in any file of the data folder (graph, picture, change report); keep: all of them', async () => {
    const duo = await tenantSimulator();
    const numbers = phoneNumbersOf(duo.tenant);
    assert.ok(numbers.length > 100, 'phones, administrators and the caller id');

    // The scan finds the numbers where they are kept (so that its silence below means something).
    const kept = filesContaining(await runLocally(duo, 'keep'), numbers);
    const keptNumbers = new Set(kept.map((found) => found.needle));
    assert.equal(keptNumbers.size, numbers.length, 'with keep, every number is in the output');

    const found = filesContaining(await runLocally(duo, 'omit'), numbers);
    assert.deepEqual(found, []);
  });

  it('hash: no phone number in the upload; the same number hashes alike everywhere and in every run', async () => {
    const duo = await tenantSimulator();
    const j1 = await startTestJupiterOneSimulator();
    const instance = simulatorInstance(duo, { jupiterone: j1, phoneNumbers: 'hash' });
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();
    const run = async () =>
      (
        (await client.workflow.execute(WORKFLOW_TYPE, {
          taskQueue: config.taskQueue,
          workflowId: `phones-${uniqueTaskQueue()}`,
          args: [{ instanceId: instance.id }],
        })) as DuoIngestionResult
      ).delivery as JupiterOneDeliveryReport;

    const first = await run();
    assert.equal(first.status, 'FINISHED');
    assert.equal(first.rejected, 0);
    const held = j1.heldGraph({ scope: `duo-${instance.id}` });
    const numbers = phoneNumbersOf(duo.tenant);
    assert.deepEqual(numbersIn(JSON.stringify(held), numbers), [], 'no number in what JupiterOne received');
    assert.deepEqual(filesContaining(config.dataDir, numbers), [], 'nor in the data folder');

    // Keyed from the instance's Duo secret key: what a join on the hash relies on.
    const hashKey = phoneNumberHashKey(duo.secretKey, duo.tenant.siteId);
    const phone = duo.tenant.phones.find((candidate) => candidate.number && (candidate.users?.length ?? 0) > 0)!;
    const phoneEntity = held.entities.find((entity) => entity._key === ENTITY_KEYS.phone(phone.phone_id))!;
    assert.equal(phoneEntity.number, hashPhoneNumber(phone.number!, hashKey));
    assert.equal(phoneEntity.phoneNumber, phoneEntity.number);
    const userEntity = held.entities.find((entity) => entity._key === ENTITY_KEYS.user(phone.users![0].user_id))!;
    const embedded = (userEntity._rawData as { rawData: { phones: { phone_id: string; number: string }[] } }[])[0]
      .rawData.phones;
    assert.equal(embedded.find((p) => p.phone_id === phone.phone_id)?.number, phoneEntity.number);
    const admin = duo.tenant.admins[0];
    const adminEntity = held.entities.find((entity) => entity._key === ENTITY_KEYS.admin(admin.admin_id))!;
    assert.equal(adminEntity.phone, hashPhoneNumber(admin.phone!, hashKey));

    const second = await run();
    assert.deepEqual(second.entities, { created: 0, updated: 0, deleted: 0 }, 'the hashes are the same next run');
  });
});
