/**
 * Policies, administrative units and the integration properties and edges that come with them:
 * converters with exact expected objects, and the edges the resource table's links make of records.
 * Records are written in the shapes Duo's clients and public tools show (nothing was recorded).
 */
import assert from 'node:assert/strict';
import type { DuoAdmin, DuoAdminUnit, DuoIntegrationRecord, DuoPolicy } from '../src/duo/types';
import { convertAdmin, convertAdminUnit, convertIntegration, convertPolicy } from '../src/graph/converters';
import {
  convertRecords,
  isUnconvertible,
  type ConvertedEntity,
  type SerializedObjects,
} from '../src/graph/record-conversion';
import type { Entity } from '../src/graph/types';
import { validateEntity } from '../src/graph/validation';
import { generateTenant } from '../src/simulators/duo/tenant-generator';

const context = { siteId: 'be7ff7c0', apiHostname: 'api-be7ff7c0.duosecurity.com' };
const raw = (rawData: object) => [{ name: 'default', rawData }];

/** Object `id` of a converted batch, parsed back from its serialised text. */
function objectOf(objects: SerializedObjects, id: number | undefined): unknown {
  assert.ok(id !== undefined, 'the object was serialised');
  const start = id === 0 ? 0 : objects.textEnds[id - 1];
  return JSON.parse(Buffer.from(objects.texts).toString('utf8', start, objects.textEnds[id]));
}

function assertValidAsIs(entity: Entity): void {
  const result = validateEntity(entity);
  assert.ok(result.valid, `${entity._key} fails validation: ${result.valid ? '' : result.error}`);
  assert.deepEqual(result.removedProperties, []);
}

const globalPolicy: DuoPolicy = {
  is_global_policy: true,
  policy_key: 'POGLOBAL000000000001',
  policy_name: 'Global Policy',
  sections: {
    authentication_methods: {
      allowed_auth_list: ['duo-push', 'webauthn-roaming', 'sms'],
      blocked_auth_list: ['phonecall'],
      require_verified_push: true,
      verified_push_digits: 6,
    },
    authentication_policy: { user_auth_behavior: 'enforce' },
    new_user: { new_user_behavior: 'enroll' },
    remembered_devices: {
      browser_apps: { enabled: true, user_based: { max_time_units: 'days', max_time_value: 7 } },
      windows_logon: { enabled: false },
    },
    trusted_endpoints: { trusted_endpoint_checking: 'allow-all', trusted_endpoint_checking_mobile: 'not-configured' },
  },
};

const vpnPolicy: DuoPolicy = {
  is_global_policy: false,
  policy_key: 'POVPN000000000000001',
  policy_name: 'VPN',
  sections: {
    // Comma-separated lists and string booleans, as some handlers send them.
    authentication_methods: { allowed_auth_list: 'webauthn-roaming, duo-push', require_verified_push: 'false' },
    duo_desktop: {
      enforce_encryption: ['macos', 'windows'],
      enforce_firewall: 'windows',
      requires_duo_desktop: 'macos,windows',
    },
    screen_lock: { require_screen_lock: true },
    trusted_endpoints: { trusted_endpoint_checking: 'require-trusted' },
    user_location: { deny_access_countries_list: ['KP', 'IR'] },
    full_disk_encryption: { require_encryption: 'true' },
    // A section duo-j1 does not know: named, kept in _rawData, never a failure.
    risk_based_factor_selection: { enabled: true },
  },
};

describe('policies, administrative units and integration policy properties', () => {
  it('converts the global policy, keyed `global`, with its settings as properties', () => {
    const entity = convertPolicy(globalPolicy, context);
    assert.deepEqual(entity, {
      _key: 'duo-policy:global',
      _type: 'duo_policy',
      _class: ['ControlPolicy'],
      id: 'POGLOBAL000000000001',
      name: 'Global Policy',
      displayName: 'Global Policy',
      category: 'config',
      isGlobal: true,
      sections: [
        'authentication_methods',
        'authentication_policy',
        'new_user',
        'remembered_devices',
        'trusted_endpoints',
      ],
      userAuthBehavior: 'enforce',
      newUserBehavior: 'enroll',
      allowedAuthMethods: ['duo-push', 'webauthn-roaming', 'sms'],
      blockedAuthMethods: ['phonecall'],
      verifiedPushRequired: true,
      verifiedPushDigits: 6,
      rememberedDevicesEnabled: true,
      rememberedDevicesKinds: ['browser_apps'],
      trustedEndpointChecking: 'allow-all',
      trustedEndpointCheckingMobile: 'not-configured',
      trustedEndpointsRequired: false,
      _rawData: raw(globalPolicy),
    });
    assertValidAsIs(entity);
  });

  it('converts a custom policy: string lists and flags read, an unknown section named and kept', () => {
    const entity = convertPolicy(vpnPolicy, context);
    assert.deepEqual(entity, {
      _key: 'duo-policy:POVPN000000000000001',
      _type: 'duo_policy',
      _class: ['ControlPolicy'],
      id: 'POVPN000000000000001',
      name: 'VPN',
      displayName: 'VPN',
      category: 'config',
      isGlobal: false,
      sections: [
        'authentication_methods',
        'duo_desktop',
        'screen_lock',
        'trusted_endpoints',
        'user_location',
        'full_disk_encryption',
        'risk_based_factor_selection',
      ],
      allowedAuthMethods: ['webauthn-roaming', 'duo-push'],
      verifiedPushRequired: false,
      trustedEndpointChecking: 'require-trusted',
      trustedEndpointsRequired: true,
      duoDesktopRequired: true,
      duoDesktopRequiredPlatforms: ['macos', 'windows'],
      diskEncryptionRequiredPlatforms: ['macos', 'windows'],
      firewallRequiredPlatforms: ['windows'],
      screenLockRequired: true,
      mobileEncryptionRequired: true,
      blockedCountries: ['KP', 'IR'],
      _rawData: raw(vpnPolicy),
    });
    assertValidAsIs(entity);
    // The countries under the singular name some sources give the field are read as well.
    const singular = { policy_key: 'POGEO', sections: { user_location: { deny_access_country_list: 'CU, SY' } } };
    assert.deepEqual(convertPolicy(singular, context).blockedCountries, ['CU', 'SY']);
  });

  it('converts a policy with no sections at all, and names an unnamed one by its key', () => {
    const empty: DuoPolicy = { policy_key: 'POEMPTY0000000000001', sections: {} };
    assert.deepEqual(convertPolicy(empty, context), {
      _key: 'duo-policy:POEMPTY0000000000001',
      _type: 'duo_policy',
      _class: ['ControlPolicy'],
      id: 'POEMPTY0000000000001',
      name: 'POEMPTY0000000000001',
      displayName: 'POEMPTY0000000000001',
      category: 'config',
      isGlobal: false,
      _rawData: raw(empty),
    });
    assertValidAsIs(convertPolicy(empty, context));
  });

  it('converts an administrative unit, members counted, and one with no members', () => {
    const unit: DuoAdminUnit = {
      admin_unit_id: 'DNEMEA00000000000001',
      admins: ['DE5L076HW5D9M0LSGS35'],
      description: 'Administrators of EMEA',
      groups: ['DGAAAAAAAAAAAAAAAAA1', 'DGAAAAAAAAAAAAAAAAA2'],
      integrations: [],
      name: 'EMEA',
      restrict_by_groups: true,
      restrict_by_integrations: false,
    };
    const entity = convertAdminUnit(unit, context);
    assert.deepEqual(entity, {
      _key: 'duo-admin-unit:DNEMEA00000000000001',
      _type: 'duo_admin_unit',
      _class: ['Group'],
      id: 'DNEMEA00000000000001',
      name: 'EMEA',
      displayName: 'EMEA',
      description: 'Administrators of EMEA',
      restrictByGroups: true,
      restrictByIntegrations: false,
      adminCount: 1,
      groupCount: 2,
      integrationCount: 0,
      _rawData: raw(unit),
    });
    assertValidAsIs(entity);
    const bare: DuoAdminUnit = { admin_unit_id: 'DNBARE00000000000001' };
    assert.deepEqual(convertAdminUnit(bare, context), {
      _key: 'duo-admin-unit:DNBARE00000000000001',
      _type: 'duo_admin_unit',
      _class: ['Group'],
      id: 'DNBARE00000000000001',
      name: 'DNBARE00000000000001',
      displayName: 'DNBARE00000000000001',
      adminCount: 0,
      groupCount: 0,
      integrationCount: 0,
      _rawData: raw(bare),
    });
  });

  it('says on an administrator which units restrict them', () => {
    const admin: DuoAdmin = {
      admin_id: 'DEAAAAAAAAAAAAAAAAA1',
      admin_units: ['DNEMEA00000000000001'],
      email: 'help.desk@example.com',
      name: 'Help Desk',
      restricted_by_admin_units: true,
      role: 'Help Desk',
      status: 'Active',
    };
    const entity = convertAdmin(admin, context);
    assert.equal(entity.restrictedByAdminUnits, true);
    assert.deepEqual(entity.adminUnits, ['DNEMEA00000000000001']);
    assertValidAsIs(entity);
  });

  it('reads an integration’s policy, prompt and sensitivity settings, and not the policy of a v1 record', () => {
    const v3: DuoIntegrationRecord = {
      frameless_auth_prompt_enabled: 1,
      groups_allowed: ['DGAAAAAAAAAAAAAAAAA1'],
      integration_key: 'DIVPN000000000000001',
      name: 'VPN',
      policy_key: 'POVPN000000000000001',
      prompt_v4_enabled: 1,
      secret_key: 'never-in-the-graph',
      sensitivity_level: 'high',
      compliance_requirements: ['PCI', 'HIPAA'],
      trusted_device_days: 7,
      type: 'sso-generic',
      user_access: 'PERMITTED_GROUPS',
    };
    const { secret_key: _secret, ...withoutSecret } = v3;
    assert.deepEqual(convertIntegration(v3, context), {
      _key: 'DIVPN000000000000001',
      _type: 'duo_integration',
      _class: ['Application'],
      id: 'DIVPN000000000000001',
      name: 'VPN',
      displayName: 'VPN',
      type: 'sso-generic',
      userAccess: 'PERMITTED_GROUPS',
      groupsAllowed: ['DGAAAAAAAAAAAAAAAAA1'],
      policyKey: 'POVPN000000000000001',
      usesGlobalPolicy: false,
      universalPromptEnabled: true,
      framelessPromptEnabled: true,
      trustedDeviceDays: 7,
      sensitivity: 'high',
      complianceRequirements: ['PCI', 'HIPAA'],
      _rawData: raw(withoutSecret),
    });
    assertValidAsIs(convertIntegration(v3, context));
    const governedByGlobal = convertIntegration({ integration_key: 'DIAPP000000000000001', policy_key: '' }, context);
    assert.equal(governedByGlobal.usesGlobalPolicy, true);
    assert.equal(governedByGlobal.policyKey, undefined);
    assert.equal(convertIntegration({ integration_key: 'DIAPP000000000000001' }, context).usesGlobalPolicy, undefined);
  });

  it('links each integration to its policy, else the global one, and to the groups it allows', () => {
    const records: DuoIntegrationRecord[] = [
      { integration_key: 'DIVPN000000000000001', policy_key: 'POVPN000000000000001', groups_allowed: ['DG1', 'DG2'] },
      { integration_key: 'DIAPP000000000000001', policy_key: '', groups_allowed: [] },
      // Another handler embeds group objects: their ids are read.
      { integration_key: 'DIOLD000000000000001', groups_allowed: [{ group_id: 'DG3', name: 'Old' }] },
    ];
    const batch = convertRecords('integrations', records, context);
    const ends = batch.records.map((record) => record.links?.map((edges) => edges.map((edge) => edge.end)));
    assert.deepEqual(ends, [
      [['duo-policy:POVPN000000000000001'], ['duo-group:DG1', 'duo-group:DG2']],
      [['duo-policy:global'], []],
      [['duo-policy:global'], []],
    ]);
    assert.deepEqual(
      batch.records[0]!.links![0]!.map((edge) => edge.key),
      ['DIVPN000000000000001|uses|duo-policy:POVPN000000000000001'],
    );
  });

  it('links a policy to the groups of its group policies, not to the applications it governs whole', () => {
    const policy: DuoPolicy = {
      ...vpnPolicy,
      // As the fetch joins it from Duo's policy summary.
      policy_applies_to: [
        { app_integration_key: 'DIVPN000000000000001', app_name: 'VPN', apply_type: 'app' },
        {
          app_integration_key: 'DIMAIL00000000000001',
          app_name: 'Mail',
          apply_type: 'group_app',
          group_id: 'DGCONTRACTORS0000001',
          group_name: 'Contractors',
        },
        {
          app_integration_key: 'DIWIKI00000000000001',
          app_name: 'Wiki',
          apply_type: 'group_app',
          group_id: 'DGCONTRACTORS0000001',
          group_name: 'Contractors',
        },
        // A group named without its id makes no edge.
        { app_integration_key: 'DIWIKI00000000000001', apply_type: 'group_app', group_name: 'Interns' },
      ],
    };
    const batch = convertRecords('policies', [policy, globalPolicy], context);
    const [vpn, global] = batch.records;
    // Candidates, one per group policy (the build writes one edge per policy and group).
    const enforces = {
      _class: 'ENFORCES',
      _fromEntityKey: 'duo-policy:POVPN000000000000001',
      _key: 'duo-policy:POVPN000000000000001|enforces|duo-group:DGCONTRACTORS0000001',
      _toEntityKey: 'duo-group:DGCONTRACTORS0000001',
      _type: 'duo_policy_enforces_group',
      displayName: 'ENFORCES',
    };
    assert.deepEqual(
      vpn!.links!.map((edges) => edges.map((edge) => [edge.end, objectOf(batch.objects, edge.object)])),
      [
        [
          ['duo-group:DGCONTRACTORS0000001', enforces],
          ['duo-group:DGCONTRACTORS0000001', enforces],
        ],
      ],
    );
    assert.deepEqual(global!.links, [[]]);
    // Where the policy is applied stays in `_rawData`, as Duo's summary said it.
    assert.deepEqual(convertPolicy(policy, context)._rawData, raw(policy));
  });

  it('links each administrative unit to its administrators, groups and integrations', () => {
    const unit: DuoAdminUnit = {
      admin_unit_id: 'DNEMEA00000000000001',
      admins: ['DE1'],
      groups: ['DG1', 'DG2'],
      integrations: ['DI1'],
    };
    const batch = convertRecords('adminUnits', [unit, { admin_unit_id: 'DNEMPTY0000000000001' }], context);
    assert.deepEqual(
      batch.records.map((record) => record.links?.map((edges) => edges.map((edge) => edge.key))),
      [
        [
          ['duo-admin-unit:DNEMEA00000000000001|has|duo-admin:DE1'],
          [
            'duo-admin-unit:DNEMEA00000000000001|has|duo-group:DG1',
            'duo-admin-unit:DNEMEA00000000000001|has|duo-group:DG2',
          ],
          ['duo-admin-unit:DNEMEA00000000000001|has|DI1'],
        ],
        [[], [], []],
      ],
    );
  });

  it('makes valid entities of every generated policy and unit, at every size', () => {
    for (const users of [0, 5, 2000]) {
      const tenant = generateTenant({ users, seed: 3 });
      assert.ok(tenant.policies.filter((policy) => policy.is_global_policy === true).length === 1);
      assert.ok(tenant.administrativeUnits.some((unit) => (unit.admins ?? []).length === 0));
      for (const [resource, records] of [
        ['policies', tenant.policies],
        ['adminUnits', tenant.administrativeUnits],
        ['integrations', tenant.integrations],
        ['admins', tenant.admins],
      ] as const) {
        const batch = convertRecords(resource, records, context);
        for (const record of batch.records) {
          assert.ok(!isUnconvertible(record.entity));
          const entity = record.entity as ConvertedEntity;
          assert.equal(entity.error, undefined, `${resource} ${entity.key}: ${entity.error}`);
          assert.deepEqual(entity.valuesLeftOut, [], `${resource} ${entity.key}`);
        }
      }
      // An administrator's `adminUnits` names exactly the units that list them among their administrators.
      for (const admin of tenant.admins) {
        const units = tenant.administrativeUnits
          .filter((unit) => (unit.admins ?? []).includes(admin.admin_id))
          .map((unit) => unit.admin_unit_id);
        const entity = convertAdmin(admin, context);
        assert.deepEqual(entity.adminUnits, units.length > 0 ? units : undefined, admin.admin_id);
        assert.equal(entity.restrictedByAdminUnits, units.length > 0, admin.admin_id);
      }
    }
  });
});
