/**
 * The access-control half of a generated tenant: policies (the global one and custom ones applied
 * to integrations) and administrative units (administrators restricted to some groups and
 * integrations). Made after the rest of the tenant, with a random sequence of its own, so adding it
 * left every other generated record exactly as it was.
 *
 * Awkward cases real tenants have: a custom policy applied to nothing, a policy with a section duo-j1
 * does not know, list settings sent as comma-separated strings, a policy with no sections at all,
 * an administrative unit with no members, and a group policy applying one policy to one group on
 * two applications.
 *
 * Group policies and the applications' sensitivity came later still, from a third random sequence
 * (`generateGroupPolicies`), for the same reason.
 */
import type {
  DuoAdmin,
  DuoAdminUnit,
  DuoGroup,
  DuoIntegrationRecord,
  DuoPolicy,
  DuoPolicyApplication,
  DuoPolicySections,
  DuoPolicySummary,
} from '../../duo/types';
import { SeededRandom } from '../seeded-random';

const ADMIN_API = 'adminapi';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const POLICY_PURPOSES = ['VPN', 'Contractors', 'Finance apps', 'Servers', 'Executives', 'Kiosks', 'Developers'];
const UNIT_PURPOSES = ['EMEA', 'Americas', 'APAC', 'Help desk', 'Engineering', 'Retail stores'];
const AUTH_METHODS = [
  'duo-push',
  'duo-passcode',
  'webauthn-platform',
  'webauthn-roaming',
  'hardware-token',
  'sms',
  'phonecall',
];
const COUNTRIES = ['KP', 'IR', 'RU', 'CU', 'SY', 'BY'];

export interface AccessControlCounts {
  /** Custom policies (the global one comes on top). */
  policies: number;
  adminUnits: number;
}

/** Default counts: a few custom policies per ten integrations; a unit per ten administrators. */
export function defaultAccessControlCounts(integrations: number, admins: number): AccessControlCounts {
  return { policies: Math.max(2, Math.round(integrations * 0.3)), adminUnits: Math.max(2, Math.floor(admins / 10)) };
}

export interface AccessControl {
  policies: DuoPolicy[];
  administrativeUnits: DuoAdminUnit[];
  /** The integrations again, with their policy and prompt settings. */
  integrations: DuoIntegrationRecord[];
  /** The administrators again, with the units that restrict them. */
  admins: DuoAdmin[];
}

/** Keys in Duo's (alphabetical) order. */
function alphabetical<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}

export function generateAccessControl(
  seed: number,
  counts: AccessControlCounts,
  tenant: { integrations: DuoIntegrationRecord[]; admins: DuoAdmin[]; groups: DuoGroup[] },
): AccessControl {
  const random = new SeededRandom(seed * 7919 + 4099);
  const id = (prefix: string, index: number) =>
    `${prefix}${random.chars(UPPER_ALNUM, 10)}${index.toString(36).toUpperCase().padStart(8, '0')}`;

  const policies: DuoPolicy[] = [
    {
      is_global_policy: true,
      policy_key: id('PO', 0),
      policy_name: 'Global Policy',
      sections: {
        authentication_methods: {
          allowed_auth_list: ['duo-push', 'webauthn-platform', 'webauthn-roaming', 'hardware-token', 'sms'],
          blocked_auth_list: ['phonecall', 'duo-passcode'],
          require_verified_push: true,
          verified_push_digits: 6,
        },
        authentication_policy: { user_auth_behavior: 'enforce' },
        new_user: { new_user_behavior: 'enroll' },
        remembered_devices: {
          browser_apps: { enabled: true, user_based: { max_time_units: 'days', max_time_value: 7 } },
        },
        screen_lock: { require_screen_lock: true },
        trusted_endpoints: { trusted_endpoint_checking: 'allow-all', trusted_endpoint_checking_mobile: 'allow-all' },
      },
    },
  ];
  for (let index = 1; index <= counts.policies; index++) {
    policies.push({
      is_global_policy: false,
      policy_key: id('PO', index),
      policy_name: `${POLICY_PURPOSES[(index - 1) % POLICY_PURPOSES.length]} policy ${index}`,
      sections: customSections(random, index),
    });
  }

  // About 40 % of integrations have a custom policy; the rest are governed by the global one. The
  // last custom policy is applied to nothing (left over from a retired application).
  const applicable = policies.slice(1, Math.max(1, policies.length - 1));
  // Every tenant with groups has at least one integration limited to permitted groups (small
  // tenants would otherwise often have none, and their graphs no ALLOWS edge to check).
  const last = tenant.integrations.length - 1;
  const noneLimited = !tenant.integrations.some((integration) => (integration.groups_allowed ?? []).length > 0);
  const limitedIndex =
    noneLimited && tenant.groups.length > 0 && tenant.integrations[last]?.type !== ADMIN_API ? last : -1;
  const integrations = tenant.integrations.map((given, index) => {
    const integration =
      index === limitedIndex
        ? { ...given, groups_allowed: [tenant.groups[0]!.group_id], user_access: 'PERMITTED_GROUPS' }
        : given;
    const custom = applicable.length > 0 && integration.type !== ADMIN_API && random.chance(0.4);
    const prompt = integration.type !== ADMIN_API && random.chance(0.7);
    return alphabetical({
      ...integration,
      frameless_auth_prompt_enabled: prompt && random.chance(0.8) ? 1 : 0,
      policy_key: custom ? random.pick(applicable).policy_key : '',
      prompt_v4_enabled: prompt ? 1 : 0,
      trusted_device_days: custom && random.chance(0.5) ? 1 + random.int(30) : null,
    });
  });

  // Unit 0 has no members at all (created, never filled). The Owner (administrator 0) is never in one.
  const unitsOfAdmin = new Map<string, string[]>();
  const administrativeUnits: DuoAdminUnit[] = Array.from({ length: counts.adminUnits }, (_, index) => {
    const unitId = id('DN', index);
    const members = (count: number, ids: readonly string[]) =>
      index === 0 ? [] : [...new Set(Array.from({ length: Math.min(count, ids.length) }, () => random.pick(ids)))];
    const admins = members(
      1 + random.int(4),
      tenant.admins.slice(1).map((admin) => admin.admin_id),
    );
    for (const adminId of admins) unitsOfAdmin.set(adminId, [...(unitsOfAdmin.get(adminId) ?? []), unitId]);
    return {
      admin_unit_id: unitId,
      admins,
      description: index === 0 ? '' : `Administrators of ${UNIT_PURPOSES[index % UNIT_PURPOSES.length]}`,
      groups: members(
        1 + random.int(8),
        tenant.groups.map((group) => group.group_id),
      ),
      integrations: members(
        random.int(4),
        tenant.integrations.map((integration) => integration.integration_key),
      ),
      name: `${UNIT_PURPOSES[index % UNIT_PURPOSES.length]} unit ${index}`,
      restrict_by_groups: index !== 0 && random.chance(0.8),
      restrict_by_integrations: index !== 0 && random.chance(0.5),
    };
  });
  const admins = tenant.admins.map((admin) => {
    const units = unitsOfAdmin.get(admin.admin_id);
    return units ? { ...admin, admin_units: units, restricted_by_admin_units: true } : admin;
  });

  return { policies, administrativeUnits, integrations, admins };
}

/** The sections of a custom policy: each a variation real tenants use. */
function customSections(random: SeededRandom, index: number): DuoPolicySections {
  // A policy with nothing set (it inherits everything from the global one).
  if (index % 5 === 4) return {};
  const blocked = AUTH_METHODS.filter(() => random.chance(0.3));
  const sections: DuoPolicySections = {
    authentication_methods: {
      allowed_auth_list: AUTH_METHODS.filter((method) => !blocked.includes(method)),
      blocked_auth_list: blocked,
      require_verified_push: random.chance(0.6),
      verified_push_digits: random.pick([3, 4, 6]),
    },
    new_user: { new_user_behavior: random.pick(['enroll', 'no-mfa', 'deny']) },
  };
  if (random.chance(0.5)) {
    sections.trusted_endpoints = {
      trusted_endpoint_checking: random.pick(['not-configured', 'allow-all', 'require-trusted']),
      trusted_endpoint_checking_mobile: random.pick(['not-configured', 'allow-all', 'require-trusted']),
    };
  }
  if (random.chance(0.4)) {
    // Some handlers send list settings as comma-separated strings.
    sections.duo_desktop = {
      enforce_encryption: index % 2 === 0 ? 'macos,windows' : ['windows'],
      enforce_firewall: ['windows'],
      requires_duo_desktop: index % 2 === 0 ? 'macos,windows' : ['windows'],
    };
  }
  if (random.chance(0.3)) sections.screen_lock = { require_screen_lock: true };
  if (random.chance(0.3)) {
    sections.remembered_devices = {
      windows_logon: { enabled: random.chance(0.5), max_time_units: 'hours', max_time_value: 8 },
    };
  }
  if (random.chance(0.3))
    sections.user_location = { deny_access_countries_list: COUNTRIES.filter(() => random.chance(0.5)) };
  // Chosen by index, not drawn: every record after it stays as a seed gave it before.
  if (index % 4 === 2) sections.full_disk_encryption = { require_encryption: true };
  // A section duo-j1 does not interpret: kept as received, never a failure.
  if (index % 3 === 1) sections.risk_based_factor_selection = { enabled: true, mode: 'adaptive-2026' };
  return sections;
}

/** A custom policy applied to some groups' users on one application (a group policy). */
export interface GroupPolicy {
  policyKey: string;
  integrationKey: string;
  groupIds: readonly string[];
}

/**
 * Sensitivity levels the generator gives applications. UNVERIFIED: Duo's values are not documented
 * in any source at hand; these are the ones a reader would expect of a level.
 */
const SENSITIVITY_LEVELS = ['low', 'medium', 'high'];

/**
 * Group policies (about one application in four has one, for one or two groups; every tenant with
 * groups, a custom policy in use and two applications has one applying a policy to the same group
 * on two of them) and the applications' sensitivity (about half are rated).
 */
export function generateGroupPolicies(
  seed: number,
  tenant: { integrations: DuoIntegrationRecord[]; policies: DuoPolicy[]; groups: DuoGroup[] },
): { integrations: DuoIntegrationRecord[]; groupPolicies: GroupPolicy[] } {
  const random = new SeededRandom(seed * 7919 + 5281);
  const eligible = tenant.integrations.filter((integration) => integration.type !== ADMIN_API);
  // The last custom policy stays applied to nothing (see generateAccessControl).
  const custom = tenant.policies.filter((policy) => policy.is_global_policy !== true).slice(0, -1);
  const groupIds = tenant.groups.map((group) => group.group_id);
  const groupPolicies: GroupPolicy[] = [];
  if (custom.length > 0 && groupIds.length > 0) {
    for (const integration of eligible) {
      if (!random.chance(0.25)) continue;
      const groups = [...new Set([random.pick(groupIds), ...(random.chance(0.3) ? [random.pick(groupIds)] : [])])];
      groupPolicies.push({
        policyKey: random.pick(custom).policy_key,
        integrationKey: integration.integration_key,
        groupIds: groups,
      });
    }
    if (eligible.length >= 2) {
      const [first, second] = eligible;
      const repeated = groupPolicies[0] ?? {
        policyKey: custom[0]!.policy_key,
        integrationKey: first!.integration_key,
        groupIds: [groupIds[0]!],
      };
      if (groupPolicies.length === 0) groupPolicies.push(repeated);
      const other = repeated.integrationKey === first!.integration_key ? second! : first!;
      if (
        !groupPolicies.some((g) => g.integrationKey === other.integration_key && g.policyKey === repeated.policyKey)
      ) {
        groupPolicies.push({ ...repeated, integrationKey: other.integration_key, groupIds: [repeated.groupIds[0]!] });
      }
    }
  }
  const integrations = tenant.integrations.map((integration) =>
    integration.type !== ADMIN_API && random.chance(0.5)
      ? alphabetical({ ...integration, sensitivity_level: random.pick(SENSITIVITY_LEVELS) })
      : integration,
  );
  return { integrations, groupPolicies };
}

/**
 * The policy summary (`/admin/v2/policies/summary`) of a tenant: per policy, the applications it
 * governs as a whole (the global policy: those naming no policy) and its group policies.
 */
export function policySummaryOf(tenant: {
  policies: readonly DuoPolicy[];
  integrations: readonly DuoIntegrationRecord[];
  groups: readonly DuoGroup[];
  groupPolicies: readonly GroupPolicy[];
}): DuoPolicySummary {
  const groupNames = new Map(tenant.groups.map((group) => [group.group_id, group.name ?? '']));
  const appNames = new Map(tenant.integrations.map((app) => [app.integration_key, app.name ?? '']));
  const policies = tenant.policies.map((policy) => {
    const isGlobal = policy.is_global_policy === true;
    const applications: DuoPolicyApplication[] = tenant.integrations
      .filter((app) => (isGlobal ? !app.policy_key : app.policy_key === policy.policy_key))
      .map((app) => ({ app_integration_key: app.integration_key, app_name: app.name ?? '', apply_type: 'app' }));
    for (const groupPolicy of tenant.groupPolicies.filter((g) => g.policyKey === policy.policy_key)) {
      for (const groupId of groupPolicy.groupIds) {
        applications.push({
          app_integration_key: groupPolicy.integrationKey,
          app_name: appNames.get(groupPolicy.integrationKey) ?? '',
          apply_type: 'group_app',
          group_id: groupId,
          group_name: groupNames.get(groupId) ?? '',
        });
      }
    }
    return { policy_applies_to: applications, policy_key: policy.policy_key, policy_name: policy.policy_name ?? '' };
  });
  return { policies, policy_count: policies.length, response_is_truncated: false, warnings: [] };
}
