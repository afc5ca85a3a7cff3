/**
 * Seeded generator of Duo tenants: the same options always give the same tenant, holding
 * wire-shaped objects exactly as Duo's list endpoints return them (alphabetical keys, Duo's
 * embedding of groups, phones, tokens, U2F tokens and WebAuthn credentials in users, users and
 * administrators in tokens, a user or an administrator in each WebAuthn credential).
 *
 * Besides realistic proportions it deliberately contains what real tenants have and naive code
 * trips over: tokens and phones shared by several users, phones nobody uses, unassigned tokens,
 * users with no email or a malformed or upper-case one, unicode and empty names, every user
 * status, administrators holding hardware tokens (one token shared by two of them) and WebAuthn
 * keys, administrators without email and administrators who are also users (the same address in
 * another case), integrations carrying their `secret_key`, bypass codes that never expire or work
 * without limit (or made by an administrator no longer there), and trusted endpoints without a
 * user, without a name, or sharing a name with another.
 */
import type {
  DuoAdmin,
  DuoAdminSummary,
  DuoAllowedAdminAuthMethods,
  DuoAuthenticationAttempts,
  DuoBypassCode,
  DuoEndpoint,
  DuoAdminUnit,
  DuoGroup,
  DuoInfoSummary,
  DuoIntegrationRecord,
  DuoPhone,
  DuoPhoneSummary,
  DuoPolicy,
  DuoPolicySummary,
  DuoSettings,
  DuoToken,
  DuoTokenSummary,
  DuoU2fToken,
  DuoUser,
  DuoUserStatus,
  DuoUserSummary,
  DuoWebAuthnCredential,
  DuoWebAuthnCredentialSummary,
} from '../../duo/types';
import { SeededRandom } from '../seeded-random';
import {
  defaultAccessControlCounts,
  generateAccessControl,
  generateGroupPolicies,
  policySummaryOf,
} from './access-control-generator';

/** Counts of each kind of object; omitted counts follow the proportions of real tenants. */
export interface GenerateTenantOptions {
  users: number;
  /** Same seed, same tenant. Default 1. */
  seed?: number;
  /** Default: about one per user. */
  phones?: number;
  /** Default: about 5 % of users. */
  tokens?: number;
  /** Default: about 20 % of users. */
  webauthn?: number;
  /** Default: users / 50, at least 3. */
  groups?: number;
  /** Default: users / 1000, at least 3. */
  admins?: number;
  /** Default: users / 2000, at least 5. */
  integrations?: number;
  /** Default: about 3 % of users (some users have several). */
  bypassCodes?: number;
  /** Default: about 0.8 per user (laptops, desktops and phones seen in the last 30 days). */
  endpoints?: number;
  /** Custom policies (besides the global one). Default: about 3 per 10 integrations, at least 2. */
  policies?: number;
  /** Default: administrators / 10, at least 2. */
  adminUnits?: number;
}

/** A whole Duo account as its endpoints would return it. */
export interface DuoTenant {
  /** The `<id>` of the API hostname. */
  siteId: string;
  /** `api-<siteId>.duosecurity.com`. */
  apiHostname: string;
  settings: DuoSettings;
  infoSummary: DuoInfoSummary;
  allowedAdminAuthMethods: DuoAllowedAdminAuthMethods;
  admins: DuoAdmin[];
  groups: DuoGroup[];
  users: DuoUser[];
  phones: DuoPhone[];
  tokens: DuoToken[];
  webauthncredentials: DuoWebAuthnCredential[];
  /** As Duo returns them: each still carries its `secret_key`. */
  integrations: DuoIntegrationRecord[];
  bypassCodes: DuoBypassCode[];
  endpoints: DuoEndpoint[];
  authenticationAttempts: DuoAuthenticationAttempts;
  /** The global policy first, then custom ones. */
  policies: DuoPolicy[];
  /** Where each policy is applied (`policySummaryOf` makes it again after a change to the tenant). */
  policySummary: DuoPolicySummary;
  administrativeUnits: DuoAdminUnit[];
}

/**
 * The administrators' allowed methods every generated tenant answers: the fields of Duo's
 * documentation (no recorded answer exists), with some allowed and some not.
 */
export const ALLOWED_ADMIN_AUTH_METHODS: Readonly<DuoAllowedAdminAuthMethods> = {
  hardware_token_enabled: true,
  mobile_otp_enabled: true,
  push_enabled: true,
  sms_enabled: false,
  verified_push_enabled: true,
  verified_push_length: 3,
  voice_enabled: false,
  webauthn_enabled: true,
  yubikey_enabled: false,
};

/** Every user status Duo documents; a tenant of five or more users holds each at least once. */
export const DUO_USER_STATUSES: readonly DuoUserStatus[] = [
  'active',
  'bypass',
  'disabled',
  'locked out',
  'pending deletion',
];

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';

/** [display name, ASCII form used in usernames and emails]. */
const FIRST_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['Alice', 'alice'],
  ['Bob', 'bob'],
  ['Carol', 'carol'],
  ['David', 'david'],
  ['Emma', 'emma'],
  ['Frank', 'frank'],
  ['Grace', 'grace'],
  ['Henry', 'henry'],
  ['Isabel', 'isabel'],
  ['Jack', 'jack'],
  ['Liam', 'liam'],
  ['Maria', 'maria'],
  ['Noah', 'noah'],
  ['Olivia', 'olivia'],
  ['Priya', 'priya'],
  ['Ahmed', 'ahmed'],
  ['Ngozi', 'ngozi'],
  ['Aiko', 'aiko'],
  ['Zoë', 'zoe'],
  ['José', 'jose'],
  ['Søren', 'soren'],
  ['Łukasz', 'lukasz'],
  ['Chloé', 'chloe'],
  ['Jürgen', 'jurgen'],
  ['Siobhán', 'siobhan'],
  ['Олег', 'oleg'],
  ['芳', 'fang'],
  ['Björk', 'bjork'],
];
const LAST_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['Smith', 'smith'],
  ['Johnson', 'johnson'],
  ['Nguyen', 'nguyen'],
  ['Patel', 'patel'],
  ['Kowalski', 'kowalski'],
  ['Tanaka', 'tanaka'],
  ['Okafor', 'okafor'],
  ['Dubois', 'dubois'],
  ['Rossi', 'rossi'],
  ['Silva', 'silva'],
  ['Cohen', 'cohen'],
  ['Schmidt', 'schmidt'],
  ["O'Brien", 'obrien'],
  ['Van der Berg', 'vanderberg'],
  ['Müller', 'muller'],
  ['García', 'garcia'],
  ['Núñez', 'nunez'],
  ['Åström', 'astrom'],
  ['Иванова', 'ivanova'],
  ['王', 'wang'],
];
const COMPANY_NAMES = [
  'Acme Corporation',
  'Globex Inc',
  'Initech LLC',
  'Umbrella Health',
  'Stark Industries',
  'Wayne Enterprises',
  'Soylent Foods',
  'Tyrell Systems',
];
const GROUP_NAMES = [
  'Engineering',
  'Sales',
  'Finance',
  'Human Resources',
  'Support',
  'Marketing',
  'Legal',
  'IT Admins',
  'Contractors',
  'Executives',
  'Field Ops',
  'Research',
];
const ADMIN_ROLES = [
  'Owner',
  'Administrator',
  'Application Manager',
  'User Manager',
  'Help Desk',
  'Billing',
  'Read-only',
];
const INTEGRATION_TYPES = ['adminapi', 'websdk', 'rdp', 'unix', 'sso-generic', 'authapi', 'okta', 'ssh'];
const PHONE_MODELS: ReadonlyArray<readonly [string, string]> = [
  ['Apple iOS', 'iPhone 15'],
  ['Apple iOS', 'iPhone 13 mini'],
  ['Google Android', 'Google Pixel 8'],
  ['Google Android', 'Samsung Galaxy S23'],
  ['Google Android', 'Google Pixel 5'],
];
const TOKEN_TYPES = ['h6', 'h8', 'yk', 'd1'] as const;
const WEBAUTHN_KINDS: ReadonlyArray<readonly [string, string]> = [
  ['Security Key', 'YubiKey 5 NFC'],
  ['Touch ID', 'MacBook Pro Touch ID'],
  ['Windows Hello', 'Windows Hello'],
  ['Security Key', 'Titan Key'],
];

/** Unix seconds of 2018-01-01 and the span up to 2025-12-31: creation dates fall in between. */
const EPOCH_START = 1514764800;
const EPOCH_SPAN = 1767139200 - EPOCH_START;

/**
 * Generates a tenant. 100,000 users take a few seconds; the result is deterministic for
 * (options, seed).
 */
export function generateTenant(options: GenerateTenantOptions): DuoTenant {
  const userCount = wholeCount(options.users, 'users');
  const seed = options.seed ?? 1;
  const random = new SeededRandom(seed);
  const counts = {
    groups: wholeCount(options.groups ?? Math.max(3, Math.round(userCount / 50)), 'groups'),
    phones: wholeCount(options.phones ?? userCount, 'phones'),
    tokens: wholeCount(options.tokens ?? Math.round(userCount * 0.05), 'tokens'),
    webauthn: wholeCount(options.webauthn ?? Math.round(userCount * 0.2), 'webauthn'),
    admins: wholeCount(options.admins ?? Math.max(3, Math.floor(userCount / 1000)), 'admins'),
    integrations: wholeCount(options.integrations ?? Math.max(5, Math.floor(userCount / 2000)), 'integrations'),
  };

  const siteId = random.chars(HEX, 8);
  const apiHostname = `api-${siteId}.duosecurity.com`;
  const company = COMPANY_NAMES[seed % COMPANY_NAMES.length]!;
  const emailDomain = `${company.split(' ')[0]!.toLowerCase()}.example.com`;
  const id = (prefix: string, index: number) =>
    `${prefix}${random.chars(UPPER_ALNUM, 10)}${index.toString(36).toUpperCase().padStart(8, '0')}`;
  const timestamp = () => EPOCH_START + random.int(EPOCH_SPAN);

  const groups = Array.from({ length: counts.groups }, (_, index) => makeGroup(random, id('DG', index), index));

  // Users first without their collections: phones, tokens and WebAuthn credentials embed them.
  const userSummaries = Array.from({ length: userCount }, (_, index) =>
    makeUserSummary(random, id('DU', index), index, emailDomain, timestamp),
  );

  const phonesOfUser: DuoPhoneSummary[][] = userSummaries.map(() => []);
  const phones: DuoPhone[] = [];
  for (let index = 0; index < counts.phones; index++) {
    const summary = makePhoneSummary(random, id('DP', index), index);
    const owners: number[] = [];
    // About 3 % of phones belong to nobody (left behind after a user was deleted).
    if (userCount > 0 && !random.chance(0.03)) {
      owners.push(index < userCount && random.chance(0.7) ? index : random.int(userCount));
      // About 2 % are shared (a front-desk or on-call phone).
      if (random.chance(0.02)) addDistinct(owners, random, userCount, 1 + random.int(2));
    }
    for (const owner of owners) phonesOfUser[owner]!.push(summary);
    phones.push({ ...summary, users: owners.map((owner) => userSummaries[owner]!) });
  }

  const tokensOfUser: DuoTokenSummary[][] = userSummaries.map(() => []);
  const tokenRecords: Array<{ summary: DuoTokenSummary; users: number[]; admins: DuoAdminSummary[] }> = [];
  for (let index = 0; index < counts.tokens; index++) {
    const type = random.pick(TOKEN_TYPES);
    const summary: DuoTokenSummary = {
      serial: type === 'yk' ? String(1000000 + index) : `${type.toUpperCase()}-${String(index).padStart(6, '0')}`,
      token_id: id('DH', index),
      totp_step: null,
      type,
    };
    const owners: number[] = [];
    // About 10 % unassigned (in a drawer), about 10 % shared by 2–4 users.
    if (userCount > 0 && !random.chance(0.1)) {
      owners.push(random.int(userCount));
      if (random.chance(0.1)) addDistinct(owners, random, userCount, 1 + random.int(3));
    }
    for (const owner of owners) tokensOfUser[owner]!.push(embeddedToken(summary));
    tokenRecords.push({ summary, users: owners, admins: [] });
  }

  const webauthnOfUser: DuoWebAuthnCredentialSummary[][] = userSummaries.map(() => []);
  const webauthncredentials: DuoWebAuthnCredential[] = [];
  for (let index = 0; index < counts.webauthn && userCount > 0; index++) {
    const [label, credentialName] = random.pick(WEBAUTHN_KINDS);
    const summary: DuoWebAuthnCredentialSummary = {
      credential_name: credentialName,
      date_added: timestamp(),
      label,
      webauthnkey: id('WA', index),
    };
    const owner = random.int(userCount);
    webauthnOfUser[owner]!.push(summary);
    webauthncredentials.push({
      credential_name: summary.credential_name,
      date_added: summary.date_added,
      label: summary.label,
      user: userSummaries[owner]!,
      webauthnkey: summary.webauthnkey,
    });
  }

  const groupsOfUser = userSummaries.map(() => pickGroups(random, groups));
  const users: DuoUser[] = userSummaries.map((summary, index) => {
    // A legacy U2F key on about 1 % of users.
    const u2ftokens: DuoU2fToken[] = random.chance(0.01)
      ? [{ date_added: timestamp(), registration_id: id('D2', index) }]
      : [];
    const userPhones = phonesOfUser[index]!;
    const userTokens = tokensOfUser[index]!;
    const userWebauthn = webauthnOfUser[index]!;
    const enrolled = userPhones.length + userTokens.length + userWebauthn.length + u2ftokens.length > 0;
    summary.is_enrolled = enrolled;
    // Keys in Duo's (alphabetical) order.
    return {
      alias1: summary.alias1,
      alias2: summary.alias2,
      alias3: summary.alias3,
      alias4: summary.alias4,
      aliases: summary.aliases,
      created: summary.created,
      desktoptokens: [],
      email: summary.email,
      firstname: summary.firstname,
      groups: groupsOfUser[index]!,
      is_enrolled: enrolled,
      last_directory_sync: summary.last_directory_sync,
      last_login: summary.last_login,
      lastname: summary.lastname,
      notes: summary.notes,
      phones: userPhones,
      realname: summary.realname,
      status: summary.status,
      tokens: userTokens,
      u2ftokens,
      user_id: summary.user_id,
      username: summary.username,
      webauthncredentials: userWebauthn,
    };
  });

  // The administrators' own cases draw from a stream of their own, so that adding them left every
  // other record of a seed's tenant as it was.
  const adminCases = new SeededRandom(seed + 0x5eed);
  let firstAdminToken: (typeof tokenRecords)[number] | undefined;
  let adminCredentials = 0;
  const adminRecords: DuoAdmin[] = Array.from({ length: counts.admins }, (_, index) => {
    const [first, firstAscii] = random.pick(FIRST_NAMES);
    const [last, lastAscii] = random.pick(LAST_NAMES);
    const adminId = id('DE', index);
    const name = `${first} ${last}`;
    // Every third administrator is also a Duo user (same address, other capitalisation); one in
    // ten has no email at all.
    const email =
      index % 10 === 7
        ? null
        : index % 3 === 2
          ? (userEmailInOtherCase(users, adminCases.int(Math.max(1, users.length))) ??
            `${firstAscii}.${lastAscii}.admin${index}@${emailDomain}`)
          : `${firstAscii}.${lastAscii}.admin${index}@${emailDomain}`;
    // Every fourth administrator signs in with a hardware token, which then lists the admin; the
    // second such administrator shares the first one's token.
    let hardtoken: DuoTokenSummary | null = null;
    if (index % 4 === 1 && tokenRecords.length > 0) {
      const picked = tokenRecords[random.int(tokenRecords.length)]!;
      const token = index === 5 && firstAdminToken ? firstAdminToken : picked;
      firstAdminToken ??= token;
      hardtoken = embeddedToken(token.summary);
      token.admins.push({ admin_id: adminId, email, name });
    }
    // Every third administrator, the owner first, holds a WebAuthn key: one of the generated
    // credentials, taken from its user (from the end of the list).
    if (index % 3 === 0 && adminCredentials < webauthncredentials.length) {
      adminCredentials += 1;
      const position = webauthncredentials.length - adminCredentials;
      webauthncredentials[position] = credentialOfAdmin(
        webauthncredentials[position]!,
        { admin_id: adminId, email, name },
        users,
        userSummaries,
      );
    }
    return {
      admin_id: adminId,
      admin_units: [],
      // Duo reports null for administrators created before October 2021.
      created: random.chance(0.3) ? null : timestamp(),
      email,
      hardtoken,
      last_login: random.chance(0.2) ? null : timestamp(),
      name,
      password_change_required: random.chance(0.05),
      phone: `+1555${String(9000000 + index).padStart(7, '0')}`,
      restricted_by_admin_units: false,
      role: index === 0 ? 'Owner' : random.pick(ADMIN_ROLES),
      status: index === 0 ? 'Active' : random.chance(0.85) ? 'Active' : random.pick(['Disabled', 'Pending Activation']),
    };
  });

  const tokens: DuoToken[] = tokenRecords.map(({ summary, users: owners, admins: tokenAdmins }) => ({
    admins: tokenAdmins,
    ...summary,
    users: owners.map((owner) => userSummaries[owner]!),
  }));

  const integrationRecords: DuoIntegrationRecord[] = Array.from({ length: counts.integrations }, (_, index) => {
    const type = index === 0 ? 'adminapi' : random.pick(INTEGRATION_TYPES);
    const adminApi = type === 'adminapi';
    const flag = (probability: number) => (adminApi && random.chance(probability) ? 1 : 0);
    const restricted = !adminApi && groups.length > 0 && random.chance(0.2);
    return {
      adminapi_admins: flag(0.5),
      adminapi_info: flag(0.5),
      adminapi_integrations: flag(0.2),
      adminapi_read_log: flag(0.5),
      adminapi_read_resource: adminApi ? 1 : 0,
      adminapi_settings: flag(0.5),
      adminapi_write_resource: flag(0.2),
      enroll_policy: adminApi ? '' : random.pick(['enroll', 'allow', 'deny']),
      groups_allowed: restricted ? [random.pick(groups).group_id] : [],
      integration_key: id('DI', index),
      name: adminApi ? (index === 0 ? 'Admin API' : `Admin API ${index}`) : `${type} application ${index}`,
      networks_for_api_access: '',
      notes: index % 7 === 3 ? 'Owned by the platform team ✓' : '',
      secret_key: random.chars(ALNUM, 40),
      self_service_allowed: random.chance(0.3),
      type,
      user_access: restricted ? 'PERMITTED_GROUPS' : 'ALL_USERS',
      username_normalization_policy: random.pick(['None', 'Simple']),
      visual_style: 'default',
    };
  });

  const settings = makeSettings(random, company);
  const defaults = defaultAccessControlCounts(integrationRecords.length, adminRecords.length);
  const accessControl = generateAccessControl(
    seed,
    {
      policies: wholeCount(options.policies ?? defaults.policies, 'policies'),
      adminUnits: wholeCount(options.adminUnits ?? defaults.adminUnits, 'adminUnits'),
    },
    { integrations: integrationRecords, admins: adminRecords, groups },
  );
  const { admins, policies, administrativeUnits } = accessControl;
  const { integrations, groupPolicies } = generateGroupPolicies(seed, {
    integrations: accessControl.integrations,
    policies,
    groups,
  });
  // The resources added later draw from a stream of their own, so that a seed still gives the very
  // records it gave before they existed (tests and kept graphs rely on it).
  const later = new SeededRandom(seed * 7919 + 22);
  const laterTimestamp = () => EPOCH_START + later.int(EPOCH_SPAN);
  const laterId = (prefix: string, index: number) =>
    `${prefix}${later.chars(UPPER_ALNUM, 10)}${index.toString(36).toUpperCase().padStart(8, '0')}`;
  const bypassCodes = makeBypassCodes(later, {
    count: wholeCount(options.bypassCodes ?? Math.round(userCount * 0.03), 'bypassCodes'),
    users: userSummaries,
    admins,
    emailDomain,
    id: laterId,
    timestamp: laterTimestamp,
  });
  const endpoints = makeEndpoints(later, {
    count: wholeCount(options.endpoints ?? Math.round(userCount * 0.8), 'endpoints'),
    users: userSummaries,
    id: laterId,
    timestamp: laterTimestamp,
  });

  return {
    siteId,
    apiHostname,
    settings,
    allowedAdminAuthMethods: { ...ALLOWED_ADMIN_AUTH_METHODS },
    infoSummary: {
      admin_count: admins.length,
      edition: 'PREMIER',
      integration_count: integrations.length,
      telephony_credits_remaining: 1000 + random.int(9000),
      user_count: users.length,
      user_pending_deletion_count: users.filter((user) => user.status === 'pending deletion').length,
    },
    admins,
    groups,
    users,
    phones,
    tokens,
    webauthncredentials,
    integrations,
    bypassCodes,
    endpoints,
    authenticationAttempts: makeAuthenticationAttempts(later, users.length),
    policies,
    policySummary: policySummaryOf({ policies, integrations, groups, groupPolicies }),
    administrativeUnits,
  };
}

/**
 * Bypass codes of a few users (some users several). Created by an administrator, mostly; some by
 * one who has since left (an email no administrator has), some by the user's own help desk
 * request with the email in other case. About a third never expire, a fifth work without limit.
 */
function makeBypassCodes(
  random: SeededRandom,
  tenant: {
    count: number;
    users: readonly DuoUserSummary[];
    admins: readonly DuoAdmin[];
    emailDomain: string;
    id: (prefix: string, index: number) => string;
    timestamp: () => number;
  },
): DuoBypassCode[] {
  if (tenant.users.length === 0) return [];
  const codes: DuoBypassCode[] = [];
  let owner = random.int(tenant.users.length);
  for (let index = 0; index < tenant.count; index++) {
    // Codes come in runs per user: a user who needed one often got a few.
    if (index === 0 || random.chance(0.7)) owner = random.int(tenant.users.length);
    const created = tenant.timestamp();
    const admin = tenant.admins.length > 0 ? random.pick(tenant.admins) : undefined;
    const creatorRoll = random.next();
    const adminEmail =
      index === 1 || creatorRoll < 0.05 || admin === undefined
        ? `former.admin${index}@${tenant.emailDomain}`
        : index === 2 || creatorRoll < 0.1
          ? String(admin.email).toUpperCase()
          : String(admin.email);
    const neverExpires = index === 0 || random.chance(0.3);
    const unlimited = index === 0 || random.chance(0.2);
    const reuseCount = unlimited ? null : 1 + random.int(10);
    codes.push({
      admin_email: adminEmail,
      bypass_code_id: tenant.id('DB', index),
      created,
      expiration: neverExpires ? null : created + 3600 * (1 + random.int(24 * 14)),
      remaining_uses: reuseCount === null ? null : random.int(reuseCount + 1),
      reuse_count: reuseCount,
      user: tenant.users[owner]!,
    });
  }
  return codes;
}

const ENDPOINT_KINDS: ReadonlyArray<{
  family: string;
  versions: readonly string[];
  models: readonly string[];
  type: string;
}> = [
  {
    family: 'Windows',
    versions: ['10', '11'],
    models: ['Latitude 7440', 'ThinkPad X1 Carbon', 'Surface Laptop 5'],
    type: 'Windows',
  },
  {
    family: 'Mac OS X',
    versions: ['13.6', '14.4', '15.1'],
    models: ['MacBook Pro', 'MacBook Air', 'iMac'],
    type: 'Mac',
  },
  { family: 'iOS', versions: ['17.4', '18.1'], models: ['iPhone 15', 'iPad Air'], type: 'Mobile' },
  { family: 'Android', versions: ['14', '15'], models: ['Pixel 8', 'Galaxy S23'], type: 'Mobile' },
  { family: 'Linux', versions: ['6.5'], models: ['Unknown'], type: 'Linux' },
];
const SECURITY_AGENTS = ['CrowdStrike Falcon', 'Microsoft Defender', 'SentinelOne', 'Jamf Protect'];
const BROWSERS = ['Chrome', 'Edge', 'Safari', 'Firefox'];

/**
 * Trusted endpoints: most users' laptop, some users' second machine or phone. Awkward cases:
 * endpoints without a user (seen before anyone signed in), without a device name (phones), two
 * with the same name (re-imaged machines), and every posture value Duo reports.
 */
function makeEndpoints(
  random: SeededRandom,
  tenant: {
    count: number;
    users: readonly DuoUserSummary[];
    id: (prefix: string, index: number) => string;
    timestamp: () => number;
  },
): DuoEndpoint[] {
  const endpoints: DuoEndpoint[] = [];
  for (let index = 0; index < tenant.count; index++) {
    const kind = random.next() < 0.85 ? ENDPOINT_KINDS[random.int(3) === 0 ? 1 : 0]! : random.pick(ENDPOINT_KINDS);
    const computer = kind.type !== 'Mobile';
    // Users in order, then around again for second machines; a few endpoints have no user.
    const user =
      index === 0 || random.chance(0.05) || tenant.users.length === 0
        ? undefined
        : tenant.users[index % tenant.users.length]!;
    const lastUpdated = tenant.timestamp();
    const hasHealth = computer && random.chance(0.7);
    const deviceName = !computer
      ? null
      : index === 2
        ? 'WS-SHARED-01'
        : index === 3
          ? 'WS-SHARED-01'
          : `${kind.type === 'Mac' ? 'MAC' : 'WS'}-${random.chars(UPPER_ALNUM, 6)}`;
    const hardwareUuid = computer ? uuid(random) : null;
    endpoints.push({
      browsers: [
        {
          browser_family: random.pick(BROWSERS),
          browser_version: `${100 + random.int(30)}.0`,
          flash_version: 'uninstalled',
          java_version: 'uninstalled',
          last_used: lastUpdated,
        },
      ],
      computer_sid: kind.family === 'Windows' ? `S-1-5-21-${random.int(1e9)}-${random.int(1e9)}` : null,
      cpu_id: computer ? random.chars(UPPER_ALNUM, 16) : null,
      device_id: null,
      device_identifier: hardwareUuid,
      device_identifier_type: hardwareUuid ? 'hardware_uuid' : null,
      device_name: deviceName,
      device_udid: kind.family === 'iOS' ? random.chars(UPPER_ALNUM, 24) : null,
      device_username: user && computer ? user.username : null,
      device_username_type: user && computer ? 'os_username' : null,
      disk_encryption_status: hasHealth
        ? random.pick(['Encrypted', 'Encrypted', 'Encrypted', 'Unencrypted'])
        : 'Unknown',
      domain_sid: kind.family === 'Windows' ? `S-1-5-21-${random.int(1e9)}` : null,
      email: user?.email ?? null,
      epkey: tenant.id('EP', index),
      firewall_status: hasHealth ? random.pick(['On', 'On', 'Off']) : 'Unknown',
      hardware_uuid: hardwareUuid,
      health_app_client_version: hasHealth ? `2.${random.int(20)}.0` : null,
      health_data_last_collected: hasHealth ? lastUpdated : null,
      last_updated: lastUpdated,
      machine_guid: kind.family === 'Windows' ? uuid(random) : null,
      model: random.pick(kind.models),
      os_build: computer ? String(19000 + random.int(7000)) : null,
      os_family: kind.family,
      os_version: random.pick(kind.versions),
      password_status: hasHealth ? random.pick(['Set', 'Set', 'Unset']) : 'Unknown',
      security_agents:
        hasHealth && random.chance(0.8)
          ? [{ security_agent: random.pick(SECURITY_AGENTS), version: `7.${random.int(20)}` }]
          : [],
      trusted_endpoint: random.pick(['yes', 'yes', 'no', 'unknown']),
      type: kind.type,
      username: user?.username ?? null,
    });
  }
  return endpoints;
}

function uuid(random: SeededRandom): string {
  const hex = random.chars(HEX.toUpperCase(), 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The authentication attempts report of the last 30 days: a few sign-ins per user per day. */
function makeAuthenticationAttempts(random: SeededRandom, users: number): DuoAuthenticationAttempts {
  const success = users * (20 + random.int(40));
  return {
    authentication_attempts: {
      ERROR: Math.round(success * 0.001),
      FAILURE: Math.round(success * 0.03),
      FRAUD: Math.round(users * 0.002),
      SUCCESS: success,
    },
    maxtime: EPOCH_START + EPOCH_SPAN,
    mintime: EPOCH_START + EPOCH_SPAN - 30 * 86400,
  };
}

function wholeCount(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`generateTenant: ${name} must be a whole number ≥ 0, not ${value}.`);
  }
  return value;
}

/** Adds `count` user indexes not already in `owners` (fewer if the tenant is too small). */
function addDistinct(owners: number[], random: SeededRandom, userCount: number, count: number): void {
  const target = Math.min(userCount, owners.length + count);
  for (let tries = 0; tries < count * 4 && owners.length < target; tries++) {
    const candidate = random.int(userCount);
    if (!owners.includes(candidate)) owners.push(candidate);
  }
}

/** The email of the first user from `start` on with a plausible address, its first letter's case flipped. */
function userEmailInOtherCase(users: readonly DuoUser[], start: number): string | undefined {
  for (let step = 0; step < users.length; step++) {
    const email = users[(start + step) % users.length]!.email;
    if (typeof email === 'string' && /^[a-z][^@\s]*@[^@\s]+\.[a-z]+$/i.test(email)) {
      const head = email[0]!;
      return (head === head.toUpperCase() ? head.toLowerCase() : head.toUpperCase()) + email.slice(1);
    }
  }
  return undefined;
}

/**
 * A generated WebAuthn credential made an administrator's: its record names the administrator
 * (`admin`) instead of a user, and its user no longer lists it (nor counts as enrolled by it).
 */
function credentialOfAdmin(
  credential: DuoWebAuthnCredential,
  admin: DuoAdminSummary,
  users: DuoUser[],
  userSummaries: DuoUserSummary[],
): DuoWebAuthnCredential {
  const { user, ...rest } = credential;
  // Keys in Duo's (alphabetical) order.
  const adminCredential: DuoWebAuthnCredential = { admin, ...rest };
  const index = users.findIndex((candidate) => candidate.user_id === user?.user_id);
  const owner = users[index];
  if (!owner) return adminCredential;
  owner.webauthncredentials = owner.webauthncredentials!.filter((held) => held.webauthnkey !== credential.webauthnkey);
  const enrolled =
    owner.phones!.length + owner.tokens!.length + owner.webauthncredentials.length + owner.u2ftokens!.length > 0;
  owner.is_enrolled = enrolled;
  userSummaries[index]!.is_enrolled = enrolled;
  return adminCredential;
}

/** A user's embedded token holds serial, id and type only. */
function embeddedToken(token: DuoTokenSummary): DuoTokenSummary {
  return { serial: token.serial, token_id: token.token_id, type: token.type };
}

function makeGroup(random: SeededRandom, groupId: string, index: number): DuoGroup {
  const base = GROUP_NAMES[index % GROUP_NAMES.length]!;
  const round = Math.floor(index / GROUP_NAMES.length);
  const group: DuoGroup = {
    desc: random.chance(0.2) ? '' : `${base} team`,
    group_id: groupId,
    mobile_otp_enabled: random.chance(0.3),
    // Directory-synced groups carry the directory in their name.
    name: round === 0 ? base : random.chance(0.5) ? `${base} ${round} (from AD sync)` : `${base} ${round}`,
    push_enabled: random.chance(0.7),
    sms_enabled: random.chance(0.3),
    status: random.chance(0.9) ? 'Active' : random.pick(['Bypass', 'Disabled']),
  };
  // Real 2022 responses had no voice_enabled; newer ones do. Both occur.
  if (random.chance(0.5)) group.voice_enabled = random.chance(0.2);
  return group;
}

/** A user's groups, biased towards the first (larger) groups, without repeats. */
function pickGroups(random: SeededRandom, groups: readonly DuoGroup[]): DuoGroup[] {
  if (groups.length === 0) return [];
  const roll = random.next();
  const wanted = Math.min(groups.length, roll < 0.2 ? 0 : roll < 0.7 ? 1 : roll < 0.95 ? 2 : 3);
  const chosen: DuoGroup[] = [];
  for (let tries = 0; chosen.length < wanted && tries < wanted * 4; tries++) {
    const r = random.next();
    const group = groups[Math.floor(r * r * groups.length)]!;
    if (!chosen.includes(group)) chosen.push(group);
  }
  return chosen;
}

function makeUserSummary(
  random: SeededRandom,
  userId: string,
  index: number,
  emailDomain: string,
  timestamp: () => number,
): DuoUserSummary {
  const [first, firstAscii] = random.pick(FIRST_NAMES);
  const [last, lastAscii] = random.pick(LAST_NAMES);
  const username = `${firstAscii}.${lastAscii}${index}`;

  // The first users cover every status; later ones follow realistic proportions.
  const statusRoll = random.next();
  const status: DuoUserStatus =
    index < DUO_USER_STATUSES.length
      ? DUO_USER_STATUSES[index]!
      : statusRoll < 0.9
        ? 'active'
        : DUO_USER_STATUSES[1 + Math.floor(((statusRoll - 0.9) / 0.1) * 4)]!;

  let realname: string | null = `${first} ${last}`;
  let firstname: string | null = first;
  let lastname: string | null = last;
  const nameRoll = random.next();
  if (index === 5 || nameRoll < 0.01) {
    // Empty name.
    realname = '';
    firstname = null;
    lastname = null;
  } else if (nameRoll < 0.12) {
    // Only a display name, as for users created by hand (the recorded response looks like this).
    firstname = null;
    lastname = null;
  } else if (nameRoll < 0.13) {
    realname = null;
  }

  let email = `${username}@${emailDomain}`;
  const emailRoll = random.next();
  if (index === 6 || emailRoll < 0.02) {
    email = '';
  } else if (index === 7 || emailRoll < 0.03) {
    email = random.pick([
      'not-an-email',
      `${username}@`,
      `@${emailDomain}`,
      `${firstAscii} ${lastAscii}@${emailDomain}`,
      `${username}@@${emailDomain}`,
    ]);
  } else if (emailRoll < 0.05) {
    email = `${firstAscii[0]!.toUpperCase()}${firstAscii.slice(1)}.${lastAscii.toUpperCase()}${index}@${emailDomain.toUpperCase()}`;
  }

  const created = timestamp();
  const alias = random.chance(0.05) ? `${firstAscii}${lastAscii[0]}${index}` : null;
  return {
    alias1: alias,
    alias2: null,
    alias3: null,
    alias4: null,
    aliases: alias ? { alias1: alias } : {},
    created,
    email,
    firstname,
    is_enrolled: false,
    last_directory_sync: random.chance(0.3) ? created + random.int(86400 * 30) : null,
    last_login: random.chance(0.15) ? null : created + random.int(86400 * 365),
    lastname,
    notes: random.chance(0.03) ? random.pick(['Contractor', 'On leave until Q3', 'Bürokraft – temporär']) : '',
    realname,
    status,
    user_id: userId,
    username,
  };
}

function makePhoneSummary(random: SeededRandom, phoneId: string, index: number): DuoPhoneSummary {
  const kind = random.next();
  const number = `+1555${String(index).padStart(7, '0')}`;
  if (kind < 0.1) {
    // A desk phone: calls only, no device posture.
    return {
      activated: false,
      capabilities: ['phone'],
      encrypted: '',
      extension: random.chance(0.5) ? String(100 + random.int(900)) : '',
      fingerprint: '',
      last_seen: '',
      model: 'Unknown',
      name: random.chance(0.5) ? 'Desk phone' : '',
      number,
      phone_id: phoneId,
      platform: 'Unknown',
      screenlock: '',
      sms_passcodes_sent: false,
      tampered: '',
      type: 'Landline',
    };
  }
  const [platform, model] = kind < 0.15 ? (['Apple iOS', 'iPad Air'] as const) : random.pick(PHONE_MODELS);
  const seen = new Date((EPOCH_START + random.int(EPOCH_SPAN)) * 1000).toISOString().slice(0, 19);
  return {
    activated: random.chance(0.95),
    capabilities: ['auto', 'push', 'sms', 'phone', 'mobile_otp'].filter((c) => kind >= 0.15 || c !== 'sms'),
    encrypted: random.pick(['Encrypted', 'Encrypted', 'Unencrypted', 'Unknown']),
    extension: '',
    fingerprint: random.pick(['Configured', 'Configured', 'Disabled', 'Unknown']),
    last_seen: seen,
    model,
    name: random.chance(0.2) ? 'Work phone' : '',
    // Tablets have no number.
    number: kind < 0.15 ? '' : number,
    phone_id: phoneId,
    platform,
    screenlock: random.pick(['Locked', 'Locked', 'Locked', 'Unlocked']),
    sms_passcodes_sent: random.chance(0.1),
    tampered: random.chance(0.01) ? 'Tampered' : 'Not tampered',
    type: kind < 0.15 ? 'Unknown' : 'Mobile',
  };
}

function makeSettings(random: SeededRandom, company: string): DuoSettings {
  // The fields and value types of the recorded response (booleans and 0/1 integers mixed).
  return {
    // Not in the recorded answer, but documented: the number Duo calls users from.
    caller_id: '+15555550100',
    enrollment_module: 'new',
    fraud_email: '',
    fraud_email_enabled: true,
    helpdesk_bypass: random.pick(['allow', 'limit', 'deny']),
    helpdesk_bypass_expiration: 0,
    helpdesk_can_send_enroll_email: false,
    helpdesk_message: '',
    inactive_admin_expiration: 0,
    inactive_user_expiration: 0,
    instant_restore_enabled: 1,
    language: 'EN',
    lockout_expire_duration: null,
    lockout_threshold: 10,
    log_retention_days: null,
    minimum_password_length: 12,
    mobile_analytics_disabled: 0,
    mobile_otp_enabled: false,
    name: company,
    password_requires_lower_alpha: false,
    password_requires_numeric: false,
    password_requires_special: false,
    password_requires_upper_alpha: false,
    push_enabled: true,
    reactivation_integration_key: null,
    reactivation_url: '',
    req_fips_passcodes_android: false,
    security_checkup_enabled: 1,
    sms_batch: 1,
    sms_enabled: false,
    sms_expiration: 0,
    sms_message: 'SMS passcodes',
    sms_refresh: 0,
    telephony_warning_min: 0,
    timezone: 'UTC',
    user_telephony_cost_max: 20.0,
  };
}
