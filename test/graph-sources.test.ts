/**
 * Bypass codes, trusted endpoints and the account's reports: converters with exact expected
 * objects, the mapping of an endpoint to the same machine elsewhere, and every generated record
 * valid against the data model as it is. Records are written in the shapes of duo_client_python's
 * docstrings and cartography's fixtures (nothing of these was recorded).
 */
import assert from 'node:assert/strict';
import type { DuoAccountRecord } from '../src/resources/table';
import type { DuoBypassCode, DuoEndpoint } from '../src/duo/types';
import { convertAccount, convertBypassCode, convertEndpoint } from '../src/graph/converters';
import { convertRecords, isUnconvertible, type ConvertedEntity } from '../src/graph/record-conversion';
import { endpointDeviceMapping } from '../src/graph/relationships';
import type { Entity } from '../src/graph/types';
import { validateEntity } from '../src/graph/validation';
import { generateTenant } from '../src/simulators/duo/tenant-generator';

const context = { siteId: 'be7ff7c0', apiHostname: 'api-be7ff7c0.duosecurity.com' };
const raw = (rawData: object) => [{ name: 'default', rawData }];
const CREATED = 1_764_000_000;
const EXPIRES = 1_764_086_400;

function assertValidAsIs(entity: Entity): void {
  const result = validateEntity(entity);
  assert.ok(result.valid, `${entity._key} fails validation: ${result.valid ? '' : result.error}`);
  assert.deepEqual(result.removedProperties, []);
}

const user = { user_id: 'DUJANE00000000000001', username: 'jane', email: 'jane@example.com' };

/** What the Device schema requires and Duo never reports: null on every endpoint. */
const UNREPORTED = {
  fqdn: null,
  make: null,
  serial: null,
  ipv4Addresses: null,
  ipv6Addresses: null,
  macAddresses: null,
  publicIpAddresses: null,
  privateIpAddresses: null,
};

describe('bypass codes, trusted endpoints and account reports', () => {
  it('converts a bypass code that never expires and works any number of times, never a code', () => {
    const code: DuoBypassCode = {
      admin_email: 'Helpdesk@Example.com',
      bypass_code_id: 'DBNEVER0000000000001',
      created: CREATED,
      expiration: null,
      reuse_count: null,
      user,
    };
    const entity = convertBypassCode(code, context);
    assert.deepEqual(entity, {
      _key: 'duo-bypass-code:DBNEVER0000000000001',
      _type: 'duo_bypass_code',
      _class: ['AccessKey'],
      id: 'DBNEVER0000000000001',
      name: 'Bypass code for jane',
      displayName: 'Bypass code for jane',
      createdOn: CREATED * 1000,
      neverExpires: true,
      unlimitedUse: true,
      createdBy: 'Helpdesk@Example.com',
      username: 'jane',
      _rawData: raw(code),
    });
    assertValidAsIs(entity);
  });

  it('converts a bypass code with an expiry and a number of uses, and one without a user', () => {
    const code: DuoBypassCode = {
      admin_email: 'helpdesk@example.com',
      bypass_code_id: 'DBLIMITED00000000001',
      created: CREATED,
      expiration: EXPIRES,
      remaining_uses: 2,
      reuse_count: 3,
      user,
    };
    const entity = convertBypassCode(code, context);
    assert.deepEqual(entity, {
      _key: 'duo-bypass-code:DBLIMITED00000000001',
      _type: 'duo_bypass_code',
      _class: ['AccessKey'],
      id: 'DBLIMITED00000000001',
      name: 'Bypass code for jane',
      displayName: 'Bypass code for jane',
      createdOn: CREATED * 1000,
      expiresOn: EXPIRES * 1000,
      neverExpires: false,
      reuseCount: 3,
      remainingUses: 2,
      unlimitedUse: false,
      createdBy: 'helpdesk@example.com',
      username: 'jane',
      _rawData: raw(code),
    });
    assertValidAsIs(entity);
    // Duo's Admin Panel shows a reuse count of 0 as unlimited.
    const orphan = convertBypassCode({ bypass_code_id: 'DBORPHAN000000000001', reuse_count: 0 }, context);
    assert.deepEqual(orphan, {
      _key: 'duo-bypass-code:DBORPHAN000000000001',
      _type: 'duo_bypass_code',
      _class: ['AccessKey'],
      id: 'DBORPHAN000000000001',
      name: 'Bypass code DBORPHAN000000000001',
      displayName: 'Bypass code DBORPHAN000000000001',
      unlimitedUse: true,
      _rawData: raw({ bypass_code_id: 'DBORPHAN000000000001', reuse_count: 0 }),
    });
    assertValidAsIs(orphan);
  });

  it('converts a managed Windows laptop with its health, and maps it to the same machine elsewhere by name', () => {
    const endpoint: DuoEndpoint = {
      browsers: [
        { browser_family: 'Chrome', browser_version: '131.0', flash_version: 'uninstalled', last_used: CREATED },
      ],
      computer_sid: 'S-1-5-21-1-2',
      cpu_id: 'BFEBFBFF000906EA',
      device_identifier: '4C4C4544-0044-3510-8052-B4C04F4E4B32',
      device_identifier_type: 'hardware_uuid',
      device_name: 'WS-FINANCE-07',
      device_username: 'jane',
      disk_encryption_status: 'Encrypted',
      domain_sid: 'S-1-5-21-1',
      email: 'Jane@Example.com',
      epkey: 'EPWIN000000000000001',
      firewall_status: 'On',
      hardware_uuid: '4C4C4544-0044-3510-8052-B4C04F4E4B32',
      health_app_client_version: '2.14.0',
      health_data_last_collected: CREATED,
      last_updated: EXPIRES,
      machine_guid: '0f9b1b4e-6e0e-4f8e-9c55-3a1f1f7a2b11',
      model: 'Latitude 7440',
      os_build: '22631',
      os_family: 'Windows',
      os_version: '11',
      password_status: 'Set',
      security_agents: [{ security_agent: 'CrowdStrike Falcon', version: '7.10' }, 'Windows Defender'],
      trusted_endpoint: 'yes',
      type: 'Windows',
      username: 'jane',
    };
    const entity = convertEndpoint(endpoint, context);
    assert.deepEqual(entity, {
      _key: 'duo-endpoint:EPWIN000000000000001',
      _type: 'duo_endpoint',
      _class: ['Device'],
      id: 'EPWIN000000000000001',
      name: 'WS-FINANCE-07',
      displayName: 'WS-FINANCE-07',
      category: 'endpoint',
      hostname: 'WS-FINANCE-07',
      deviceId: ['4C4C4544-0044-3510-8052-B4C04F4E4B32'],
      deviceIdentifierType: 'hardware_uuid',
      hardwareUuid: '4C4C4544-0044-3510-8052-B4C04F4E4B32',
      machineGuid: '0f9b1b4e-6e0e-4f8e-9c55-3a1f1f7a2b11',
      computerSid: 'S-1-5-21-1-2',
      domainSid: 'S-1-5-21-1',
      cpuId: 'BFEBFBFF000906EA',
      model: 'Latitude 7440',
      type: 'Windows',
      osName: 'Windows',
      osType: 'windows',
      platform: 'windows',
      osVersion: '11',
      osBuild: '22631',
      osDetails: 'Windows 11 (22631)',
      encrypted: true,
      firewallEnabled: true,
      passwordSet: true,
      screenLockEnabled: true,
      securityAgents: ['CrowdStrike Falcon 7.10', 'Windows Defender'],
      malwareProtected: true,
      trusted: true,
      healthAppVersion: '2.14.0',
      healthDataLastCollectedOn: CREATED * 1000,
      browsers: ['Chrome 131.0'],
      lastSeenOn: EXPIRES * 1000,
      username: 'jane',
      deviceUsername: 'jane',
      userEmails: ['Jane@Example.com'],
      ...UNREPORTED,
      _rawData: raw(endpoint),
    });
    assertValidAsIs(entity);
    assert.deepEqual(endpointDeviceMapping(endpoint, entity._key), {
      _class: 'IS',
      _key: 'duo-endpoint:EPWIN000000000000001|is|FORWARD:_class=Device:hostname=WS-FINANCE-07',
      _mapping: {
        relationshipDirection: 'FORWARD',
        skipTargetCreation: true,
        sourceEntityKey: 'duo-endpoint:EPWIN000000000000001',
        targetFilterKeys: [['_class', 'hostname']],
        targetEntity: { _class: 'Device', hostname: 'WS-FINANCE-07' },
      },
      _type: 'duo_endpoint_is_device',
      displayName: 'IS',
    });
  });

  it('converts an unmanaged phone seen without a user or a name, and maps it to nothing', () => {
    const endpoint: DuoEndpoint = {
      device_name: null,
      disk_encryption_status: 'Unknown',
      email: null,
      epkey: 'EPPHONE0000000000001',
      firewall_status: 'Unknown',
      last_updated: null,
      model: 'iPhone 15',
      os_family: 'iOS',
      os_version: '18.1',
      trusted_endpoint: 'no',
      type: 'Mobile',
    };
    const entity = convertEndpoint(endpoint, context);
    assert.deepEqual(entity, {
      _key: 'duo-endpoint:EPPHONE0000000000001',
      _type: 'duo_endpoint',
      _class: ['Device'],
      id: 'EPPHONE0000000000001',
      name: 'iPhone 15 EPPHONE0000000000001',
      displayName: 'iPhone 15 EPPHONE0000000000001',
      category: 'endpoint',
      hostname: null,
      deviceId: null,
      model: 'iPhone 15',
      type: 'Mobile',
      osName: 'iOS',
      osType: 'ios',
      platform: 'ios',
      osVersion: '18.1',
      osDetails: 'iOS 18.1',
      trusted: false,
      lastSeenOn: null,
      ...UNREPORTED,
      _rawData: raw(endpoint),
    });
    assertValidAsIs(entity);
    assert.equal(endpointDeviceMapping(endpoint, entity._key), undefined);
  });

  it('puts the edition and the last 30 days’ attempts by result on the account', () => {
    const record: DuoAccountRecord = {
      settings: { name: 'Acme Corp' },
      infoSummary: {
        admin_count: 3,
        edition: 'PREMIER',
        integration_count: 5,
        telephony_credits_remaining: 420,
        user_count: 40,
        user_pending_deletion_count: 1,
      },
      authenticationAttempts: {
        authentication_attempts: { ERROR: 0, FAILURE: 12, FRAUD: 1, SUCCESS: 980 },
        maxtime: EXPIRES,
        mintime: CREATED,
      },
    };
    const entity = convertAccount(record, context);
    assert.deepEqual(entity, {
      _key: 'duo-account:be7ff7c0:acme-corp',
      _type: 'duo_account',
      _class: ['Account'],
      id: 'be7ff7c0',
      name: 'Acme Corp',
      displayName: 'Acme Corp Duo Account',
      siteId: 'be7ff7c0',
      vendor: 'Cisco Duo',
      webLink: 'https://admin-be7ff7c0.duosecurity.com/',
      accessURL: 'https://admin-be7ff7c0.duosecurity.com/',
      adminCount: 3,
      integrationCount: 5,
      userCount: 40,
      userPendingDeletionCount: 1,
      telephonyCreditsRemaining: 420,
      edition: 'PREMIER',
      authAttemptsSuccess: 980,
      authAttemptsFailure: 12,
      authAttemptsFraud: 1,
      authAttemptsError: 0,
      authAttemptsFrom: CREATED * 1000,
      authAttemptsTo: EXPIRES * 1000,
      _rawData: raw(record),
    });
    assertValidAsIs(entity);
    // duo_client_python documents the counts at the top of the answer: read the same.
    const flat = convertAccount(
      { settings: { name: 'Acme Corp' }, authenticationAttempts: { SUCCESS: 7, FAILURE: 1 } },
      context,
    );
    assert.deepEqual([flat.authAttemptsSuccess, flat.authAttemptsFailure, flat.edition], [7, 1, undefined]);
  });

  it('makes valid entities of every generated bypass code and endpoint, at every size', () => {
    for (const users of [0, 5, 2000]) {
      const tenant = generateTenant({ users, seed: 5 });
      for (const [resource, records] of [
        ['bypassCodes', tenant.bypassCodes],
        ['endpoints', tenant.endpoints],
      ] as const) {
        for (const record of convertRecords(resource, records, context).records) {
          assert.ok(!isUnconvertible(record.entity));
          const entity = record.entity as ConvertedEntity;
          assert.equal(entity.error, undefined, `${resource} ${entity.key}: ${entity.error}`);
          assert.deepEqual(entity.valuesLeftOut, [], `${resource} ${entity.key}`);
        }
      }
    }
  });
});
