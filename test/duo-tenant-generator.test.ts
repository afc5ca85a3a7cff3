import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DUO_USER_STATUSES, generateTenant, type DuoTenant } from '../src/simulators/duo';

const RECORDED = join(__dirname, 'fixtures', 'duo-recorded');
function recorded(file: string): { response: unknown } {
  return JSON.parse(readFileSync(join(RECORDED, file), 'utf8')) as { response: unknown };
}

function keysOf(value: unknown): string[] {
  return Object.keys(value as object);
}

function isSortedAlphabetically(keys: string[]): boolean {
  return keys.every((key, index) => index === 0 || keys[index - 1]! < key);
}

describe('Duo tenant generator', () => {
  const tenant: DuoTenant = generateTenant({ users: 10_000, seed: 42 });

  it('is deterministic per seed', () => {
    const again = generateTenant({ users: 300, seed: 7 });
    assert.deepEqual(generateTenant({ users: 300, seed: 7 }), again);
    const other = generateTenant({ users: 300, seed: 8 });
    assert.notEqual(other.siteId, again.siteId);
    assert.notDeepEqual(
      other.users.map((user) => user.user_id),
      again.users.map((user) => user.user_id),
    );
  });

  it('uses realistic proportions by default, and explicit counts when given', () => {
    assert.equal(tenant.users.length, 10_000);
    assert.equal(tenant.phones.length, 10_000);
    assert.equal(tenant.tokens.length, 500);
    assert.equal(tenant.webauthncredentials.length, 2000);
    assert.equal(tenant.groups.length, 200);
    assert.equal(tenant.admins.length, 10);
    assert.equal(tenant.integrations.length, 5);
    const small = generateTenant({ users: 10 });
    assert.deepEqual([small.groups.length, small.admins.length, small.integrations.length], [3, 3, 5]);
    const explicit = generateTenant({
      users: 20,
      phones: 3,
      tokens: 4,
      webauthn: 5,
      groups: 6,
      admins: 7,
      integrations: 8,
    });
    assert.deepEqual(
      [
        explicit.phones.length,
        explicit.tokens.length,
        explicit.webauthncredentials.length,
        explicit.groups.length,
        explicit.admins.length,
        explicit.integrations.length,
      ],
      [3, 4, 5, 6, 7, 8],
    );
    assert.throws(() => generateTenant({ users: -1 }), /users/);
  });

  it('names the account and its API hostname', () => {
    assert.match(tenant.siteId, /^[0-9a-f]{8}$/);
    assert.equal(tenant.apiHostname, `api-${tenant.siteId}.duosecurity.com`);
    assert.match(String(tenant.settings.name), /\s/);
    assert.deepEqual(tenant.infoSummary, {
      admin_count: 10,
      edition: 'PREMIER',
      integration_count: 5,
      telephony_credits_remaining: tenant.infoSummary.telephony_credits_remaining,
      user_count: 10_000,
      user_pending_deletion_count: tenant.users.filter((user) => user.status === 'pending deletion').length,
    });
  });

  it('gives every object a unique, Duo-shaped id', () => {
    const ids = [
      ...tenant.users.map((user) => user.user_id),
      ...tenant.groups.map((group) => group.group_id),
      ...tenant.phones.map((phone) => phone.phone_id),
      ...tenant.tokens.map((token) => token.token_id),
      ...tenant.webauthncredentials.map((credential) => credential.webauthnkey),
      ...tenant.admins.map((admin) => admin.admin_id),
      ...tenant.integrations.map((integration) => integration.integration_key),
    ];
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.every((id) => /^[A-Z0-9]{20}$/.test(id)));
    assert.ok(tenant.users.every((user) => user.user_id.startsWith('DU')));
    assert.equal(new Set(tenant.users.map((user) => user.username)).size, tenant.users.length);
  });

  it('contains the awkward cases of real tenants', () => {
    const { users, phones, tokens, admins, integrations } = tenant;
    assert.deepEqual(new Set(users.map((user) => user.status)), new Set(DUO_USER_STATUSES));
    assert.ok(
      users.some((user) => user.email === ''),
      'a user without email',
    );
    assert.ok(
      users.some((user) => user.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(user.email)),
      'a user with a malformed email',
    );
    assert.ok(
      users.some((user) => user.email && user.email !== user.email.toLowerCase()),
      'an upper-case email',
    );
    assert.ok(
      users.some((user) => /\P{ASCII}/u.test(user.realname ?? '')),
      'a unicode name',
    );
    assert.ok(
      users.some((user) => user.realname === ''),
      'an empty name',
    );
    assert.ok(
      users.some((user) => user.realname && user.firstname === null),
      'a display name only',
    );
    assert.ok(
      phones.some((phone) => phone.users!.length === 0),
      'a phone nobody uses',
    );
    assert.ok(
      phones.some((phone) => phone.users!.length > 1),
      'a shared phone',
    );
    assert.ok(
      tokens.some((token) => token.users!.length === 0),
      'an unassigned token',
    );
    assert.ok(
      tokens.some((token) => token.users!.length > 1),
      'a shared token',
    );
    assert.ok(
      admins.some((admin) => admin.hardtoken),
      'an admin with a hardware token',
    );
    assert.ok(
      users.some((user) => user.u2ftokens!.length > 0),
      'a legacy U2F token',
    );
    assert.ok(
      users.some((user) => !user.is_enrolled),
      'an unenrolled user',
    );
    assert.ok(integrations.every((integration) => /^[A-Za-z0-9]{40}$/.test(integration.secret_key!)));
  });

  it('embeds objects exactly as Duo does, consistently in both directions', () => {
    const phoneOwners = new Map<string, Set<string>>();
    const tokenOwners = new Map<string, Set<string>>();
    const credentialOwner = new Map<string, string>();
    for (const user of tenant.users) {
      for (const phone of user.phones!) {
        assert.ok(!('users' in phone), 'phones inside users carry no users');
        (phoneOwners.get(phone.phone_id) ?? phoneOwners.set(phone.phone_id, new Set()).get(phone.phone_id)!).add(
          user.user_id,
        );
      }
      for (const token of user.tokens!) {
        assert.deepEqual(keysOf(token), ['serial', 'token_id', 'type']);
        (tokenOwners.get(token.token_id) ?? tokenOwners.set(token.token_id, new Set()).get(token.token_id)!).add(
          user.user_id,
        );
      }
      for (const credential of user.webauthncredentials!) {
        assert.deepEqual(keysOf(credential), ['credential_name', 'date_added', 'label', 'webauthnkey']);
        credentialOwner.set(credential.webauthnkey, user.user_id);
      }
      const groupIds = user.groups!.map((group) => group.group_id);
      assert.equal(new Set(groupIds).size, groupIds.length);
      assert.equal(
        user.is_enrolled,
        user.phones!.length + user.tokens!.length + user.webauthncredentials!.length + user.u2ftokens!.length > 0,
      );
    }
    for (const phone of tenant.phones) {
      assert.deepEqual(new Set(phone.users!.map((user) => user.user_id)), phoneOwners.get(phone.phone_id) ?? new Set());
      for (const user of phone.users!) assert.ok(!('phones' in user) && !('groups' in user), 'embedded users are flat');
    }
    for (const token of tenant.tokens) {
      assert.deepEqual(new Set(token.users!.map((user) => user.user_id)), tokenOwners.get(token.token_id) ?? new Set());
    }
    for (const credential of tenant.webauthncredentials) {
      // An administrator's credential names the administrator instead (and no user lists it).
      if (credential.admin) assert.ok(!credential.user && !credentialOwner.has(credential.webauthnkey));
      else assert.equal(credential.user!.user_id, credentialOwner.get(credential.webauthnkey));
    }
    for (const admin of tenant.admins.filter((candidate) => candidate.hardtoken)) {
      const token = tenant.tokens.find((candidate) => candidate.token_id === admin.hardtoken!.token_id)!;
      assert.ok(token.admins!.some((tokenAdmin) => tokenAdmin.admin_id === admin.admin_id));
    }
  });

  it('matches the recorded responses field for field, keys in Duo’s alphabetical order', () => {
    const [recordedUser] = recorded('admin_v1_users.200.json').response as object[];
    const [recordedPhone] = recorded('admin_v1_phones.200.json').response as object[];
    const [recordedGroup] = recorded('admin_v1_groups.200.json').response as object[];
    const [recordedAdmin] = recorded('admin_v1_admins.200.json').response as object[];
    const [recordedIntegration] = recorded('admin_v1_integrations.200.json').response as object[];
    const recordedSettings = recorded('admin_v1_settings.200.json').response;

    assert.deepEqual(keysOf(tenant.users[0]), keysOf(recordedUser));
    const phone = tenant.phones.find((candidate) => candidate.users!.length > 0)!;
    assert.deepEqual(keysOf(phone), keysOf(recordedPhone));
    assert.deepEqual(keysOf(phone.users![0]), keysOf((recordedPhone as { users: object[] }).users[0]));
    const embeddedPhone = tenant.users.find((user) => user.phones!.length > 0)!.phones![0];
    assert.deepEqual(keysOf(embeddedPhone), keysOf((recordedUser as { phones: object[] }).phones[0]));
    // `caller_id` is documented but was not in the recorded answer.
    assert.deepEqual(
      keysOf(tenant.settings).filter((key) => key !== 'caller_id'),
      keysOf(recordedSettings),
    );
    // Newer fields on top of the 2022 recordings are allowed; none of the recorded ones may be missing.
    const group = tenant.groups.find((candidate) => !('voice_enabled' in candidate))!;
    assert.deepEqual(keysOf(group), keysOf(recordedGroup));
    for (const key of keysOf(recordedAdmin)) assert.ok(key in tenant.admins[0]!, `admins lack ${key}`);
    for (const key of keysOf(recordedIntegration))
      assert.ok(key in tenant.integrations[0]!, `integrations lack ${key}`);

    for (const record of [
      tenant.users[0],
      phone,
      phone.users![0],
      group,
      tenant.admins[0],
      tenant.integrations[0],
      tenant.tokens[0],
      tenant.webauthncredentials[0],
      tenant.settings,
      tenant.infoSummary,
    ]) {
      assert.ok(isSortedAlphabetically(keysOf(record)), `keys out of order: ${keysOf(record).join(',')}`);
    }
  });

  it('builds 100,000 users', () => {
    const large = generateTenant({ users: 100_000, seed: 3 });
    assert.equal(large.users.length, 100_000);
    assert.equal(large.phones.length, 100_000);
    assert.equal(new Set(large.users.map((user) => user.user_id)).size, 100_000);
  });
});
