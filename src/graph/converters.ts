/**
 * Pure converters: one Duo wire object in, one entity out. They set only the properties the data
 * model declaration lists for the entity's kind (the compiler checks the names), never modify their
 * input, and keep the record (minus secrets) as `_rawData`. Whether the result passes the data
 * model's schema is decided afterwards by `validateEntity`.
 */
import type {
  DuoAdmin,
  DuoBypassCode,
  DuoEndpoint,
  DuoAdminUnit,
  DuoGroup,
  DuoIntegrationRecord,
  DuoPhone,
  DuoPolicy,
  DuoSettings,
  DuoToken,
  DuoU2fToken,
  DuoUser,
  DuoUserSummary,
  DuoWebAuthnCredentialSummary,
} from '../duo/types';
import { duoAdminPanelUrl, parseDuoApiHostname } from '../duo/hostname';
import { GLOBAL_POLICY_ID, type DuoAccountRecord } from '../resources/table';
// The secret resolver from its own module, not through config/instances: that module (and what it
// imports, the Temporal workflow API among it) would load into the conversion thread for nothing.
import type { InstanceConfig } from '../config/instances';
import { resolveSecret } from '../config/secrets';
import {
  ACCOUNT_FLAG_SETTINGS,
  ACCOUNT_AUTHENTICATION_ATTEMPT_PROPERTIES,
  ACCOUNT_SETTING_PROPERTIES,
  ACCOUNT_SUMMARY_PROPERTIES,
  ADMIN_AUTH_METHOD_PROPERTIES,
  ENTITY_KEYS,
  ENTITY_KINDS,
  INTEGRATION_GRANT_FLAGS,
  type EntityKindId,
} from './data-model';
import { phoneNumberHashKey, type PhoneNumberRule } from './phone-numbers';
import type { Entity, PropertyValue } from './types';
import { isValidEmail } from './validation';
import {
  duoLocalTimeToEpochMilliseconds,
  epochMilliseconds,
  finiteNumber,
  flag,
  flagSetting,
  listSetting,
  localPart,
  notesList,
  objectOf,
  postureFlag,
  splitFullName,
  stringList,
  text,
} from './values';

/** What the converters need to know about the Duo instance being read. */
export interface GraphInstanceContext {
  /** The `<id>` of `api-<id>.duosecurity.com` (see `parseDuoApiHostname` in src/duo/hostname.ts). */
  siteId: string;
  apiHostname: string;
  /** The instance's account name (its configuration, not Duo's settings). */
  accountName?: string;
  /** Adds `tag.AccountName` (the account name above) to every entity. */
  tagWithAccountName?: boolean;
  /**
   * What records keep of phone numbers (src/graph/phone-numbers.ts); absent: `keep`. Its `hash`
   * key is secret: the context is never written down as it is (converted-part.ts writes a
   * fingerprint).
   */
  phoneNumbers?: PhoneNumberRule;
}

/** The graph context of a configured instance; `env` resolves the Duo secret key a `hash` rule is keyed with. */
export function graphInstanceContext(
  instance: InstanceConfig,
  env: Record<string, string | undefined> = process.env,
): GraphInstanceContext {
  const policy = instance.phoneNumbers ?? 'keep';
  return {
    siteId: instance.duo.siteId,
    apiHostname: instance.duo.apiHostname,
    accountName: instance.accountName,
    tagWithAccountName: instance.tagWithAccountName,
    phoneNumbers:
      policy === 'hash'
        ? { policy, key: phoneNumberHashKey(resolveSecret(instance.duo.secretKey, env), instance.duo.siteId) }
        : { policy },
  };
}

/** A record that cannot become an entity at all (no id to key it by). */
export class UnconvertibleRecordError extends Error {
  constructor(
    readonly resource: string,
    detail: string,
  ) {
    super(`A ${resource} record cannot be converted: ${detail}`);
    this.name = 'UnconvertibleRecordError';
  }
}

/** The Admin Panel of the account: the API hostname with `api-` turned into `admin-`. */
export function adminPanelUrl(context: GraphInstanceContext): string {
  return duoAdminPanelUrl(parseDuoApiHostname(context.apiHostname));
}

type PropertiesOf<K extends EntityKindId> = {
  [P in keyof (typeof ENTITY_KINDS)[K]['properties']]?: PropertyValue | undefined;
};

/** `tag.AccountName`: the account name as a tag (`tagWithAccountName`). */
const ACCOUNT_NAME_TAG = 'tag.AccountName';

/**
 * The property names of an entity in canonical order (sorted by name; serialization.ts): the names
 * of the converter's property literal plus `_key`, `_type`, `_class` and the tag. Sorting them for
 * every record would cost measurable time, so each distinct literal's order is kept per kind. A
 * kind may be made by several converters (a token and a WebAuthn credential are both MFA devices),
 * so a kept order is used only for a literal with exactly the same names — never for another one
 * that merely has as many — and comparing the names costs one pass over interned strings.
 */
const canonicalOrdersByKind = new Map<EntityKindId, { literalNames: string[]; names: string[] }[]>();
/** Orders kept per kind at most: converters have one literal each, but nothing may grow without bound. */
const MAX_ORDERS_PER_KIND = 16;

export function canonicalNames(kindId: EntityKindId, values: Record<string, unknown>): string[] {
  const literalNames = Object.keys(values);
  let orders = canonicalOrdersByKind.get(kindId);
  if (!orders) canonicalOrdersByKind.set(kindId, (orders = []));
  for (const order of orders) if (sameNames(order.literalNames, literalNames)) return order.names;
  const names = [...new Set([...literalNames, '_key', '_type', '_class', ACCOUNT_NAME_TAG])].sort();
  if (orders.length < MAX_ORDERS_PER_KIND) orders.push({ literalNames, names });
  return names;
}

function sameNames(left: readonly string[], right: readonly string[]): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return false;
  return true;
}

function assemble<K extends EntityKindId>(
  kindId: K,
  key: string,
  rawData: object,
  context: GraphInstanceContext,
  properties: PropertiesOf<K>,
): Entity {
  const kind = ENTITY_KINDS[kindId];
  const values = properties as Record<string, PropertyValue | undefined>;
  const accountName = context.tagWithAccountName ? text(context.accountName) : undefined;
  // Properties are set in canonical order, `_rawData` last, so the entity serialises as it is.
  const entity = {} as Entity;
  for (const name of canonicalNames(kindId, values)) {
    const value =
      name === '_key'
        ? key
        : name === '_type'
          ? kind._type
          : name === '_class'
            ? [...kind._class]
            : name === ACCOUNT_NAME_TAG
              ? accountName
              : values[name];
    if (value !== undefined) entity[name] = value;
  }
  entity._rawData = [{ name: 'default', rawData }];
  return entity;
}

function requiredId(resource: string, record: unknown, field: string): string {
  const value = record && typeof record === 'object' ? text((record as Record<string, unknown>)[field]) : undefined;
  if (!value) throw new UnconvertibleRecordError(resource, `it has no "${field}"`);
  return value;
}

/** A valid email address or undefined (invalid ones stay only in `_rawData`). */
function validEmail(value: unknown): string | undefined {
  const email = text(value);
  return email !== undefined && isValidEmail(email) ? email : undefined;
}

const ACCOUNT_VENDOR = 'Cisco Duo';

function settingValue(property: string, value: unknown): PropertyValue | undefined {
  // Duo sends some flags as 0/1 integers; flags are booleans in the graph.
  if (ACCOUNT_FLAG_SETTINGS.has(property)) return flag(value);
  // Texts as Duo sends them, empty ones included (graph-duo kept them: `fraudEmail = ''` is a
  // query someone may have saved); only a missing value is absent.
  if (typeof value === 'string') return value;
  return finiteNumber(value);
}

/** The allowed methods a phishing page can relay (everything but WebAuthn). */
const PHISHABLE_ADMIN_METHODS = [
  'push_enabled',
  'sms_enabled',
  'voice_enabled',
  'mobile_otp_enabled',
  'hardware_token_enabled',
  'yubikey_enabled',
] as const;

export function convertAccount(record: DuoAccountRecord, context: GraphInstanceContext): Entity {
  const settings: DuoSettings = record?.settings ?? {};
  const name = text(settings.name) ?? text(context.accountName) ?? context.siteId;
  const webLink = adminPanelUrl(context);
  const properties: PropertiesOf<'account'> = {
    id: context.siteId,
    name,
    displayName: `${name} Duo Account`,
    siteId: context.siteId,
    vendor: ACCOUNT_VENDOR,
    webLink,
    accessURL: webLink,
  };
  const assign = properties as Record<string, PropertyValue | undefined>;
  for (const [field, property] of Object.entries(ACCOUNT_SETTING_PROPERTIES)) {
    assign[property] = settingValue(property, settings[field]);
  }
  for (const [field, property] of Object.entries(ACCOUNT_SUMMARY_PROPERTIES)) {
    assign[property] = finiteNumber(record?.infoSummary?.[field]);
  }
  const methods = record?.allowedAdminAuthMethods;
  if (methods) {
    for (const [field, property] of Object.entries(ADMIN_AUTH_METHOD_PROPERTIES)) {
      assign[property] = field === 'verified_push_length' ? finiteNumber(methods[field]) : flag(methods[field]);
    }
    // Known only when Duo answered every one of these methods.
    const phishable = PHISHABLE_ADMIN_METHODS.map((field) => flag(methods[field]));
    assign.adminPhishableMethodsAllowed = phishable.includes(true)
      ? true
      : phishable.every((allowed) => allowed === false)
        ? false
        : undefined;
  }
  assign.edition = text(record?.infoSummary?.edition);
  const attempts = record?.authenticationAttempts;
  // Duo's reference nests the counts under `authentication_attempts`; duo_client_python's
  // docstring shows them at the top of the answer. Either way, each result's count.
  const counts = (attempts?.authentication_attempts ?? attempts) as Record<string, unknown> | undefined;
  for (const [result, property] of Object.entries(ACCOUNT_AUTHENTICATION_ATTEMPT_PROPERTIES)) {
    assign[property] = finiteNumber(counts?.[result]);
  }
  assign.authAttemptsFrom = epochMilliseconds(attempts?.mintime);
  assign.authAttemptsTo = epochMilliseconds(attempts?.maxtime);
  return assemble('account', ENTITY_KEYS.account(context.siteId, name), record, context, properties);
}

/** First and last name: Duo's own fields first, then the real name split at its first space. */
export function userNames(user: Pick<DuoUserSummary, 'firstname' | 'lastname' | 'realname'>): {
  firstName?: string;
  lastName?: string;
} {
  const fromRealName = splitFullName(text(user.realname));
  return {
    firstName: text(user.firstname) ?? fromRealName.first,
    lastName: text(user.lastname) ?? fromRealName.rest,
  };
}

function userDisplayName(user: DuoUserSummary, userId: string): string {
  const { firstname, lastname } = user;
  const fullName = [text(firstname), text(lastname)].filter(Boolean).join(' ');
  return text(user.realname) ?? text(fullName) ?? text(user.username) ?? text(user.email) ?? userId;
}

function aliasesOf(user: DuoUserSummary): string[] | undefined {
  const values: unknown[] = [user.alias1, user.alias2, user.alias3, user.alias4];
  if (user.aliases && typeof user.aliases === 'object') values.push(...Object.values(user.aliases));
  return stringList(values);
}

/** Users who can sign in: `bypass` users skip the second factor but are not disabled. */
const ACTIVE_USER_STATUSES = new Set(['active', 'bypass']);

export function convertUser(user: DuoUser, context: GraphInstanceContext): Entity {
  const userId = requiredId('user', user, 'user_id');
  const name = userDisplayName(user, userId);
  const username = text(user.username);
  const status = text(user.status);
  const active = status === undefined ? undefined : ACTIVE_USER_STATUSES.has(status.toLowerCase());
  const email = validEmail(user.email);
  const { firstName, lastName } = userNames(user);
  const enrolled = typeof user.is_enrolled === 'boolean' ? user.is_enrolled : undefined;
  return assemble('user', ENTITY_KEYS.user(userId), user, context, {
    id: userId,
    name,
    displayName: name,
    username: username === undefined ? null : [username],
    email: email === undefined ? null : [email],
    shortLoginId: username === undefined ? null : [localPart(username)],
    firstName: firstName ?? null,
    lastName: lastName ?? null,
    status,
    active,
    isActive: active,
    mfaEnabled: enrolled,
    isMfaEnabled: enrolled,
    createdOn: epochMilliseconds(user.created),
    lastLogin: epochMilliseconds(user.last_login),
    lastDirectorySyncOn: epochMilliseconds(user.last_directory_sync),
    aliases: aliasesOf(user),
    notes: notesList(user.notes),
    lockoutReason: text(user.lockout_reason),
  });
}

export function convertAdmin(admin: DuoAdmin, context: GraphInstanceContext): Entity {
  const adminId = requiredId('admin', admin, 'admin_id');
  const rawEmail = text(admin.email);
  const name = text(admin.name) ?? rawEmail ?? adminId;
  const status = text(admin.status)?.toLowerCase();
  const active = status === undefined ? undefined : status === 'active';
  const email = validEmail(admin.email);
  const { first, rest } = splitFullName(text(admin.name));
  return assemble('admin', ENTITY_KEYS.admin(adminId), admin, context, {
    id: adminId,
    adminId,
    name,
    displayName: name,
    username: rawEmail === undefined ? null : [rawEmail],
    email: email === undefined ? null : [email],
    shortLoginId: rawEmail === undefined ? null : [localPart(rawEmail)],
    firstName: first ?? null,
    lastName: rest ?? null,
    admin: true,
    isAdmin: true,
    role: text(admin.role),
    status,
    active,
    isActive: active,
    lastLogin: epochMilliseconds(admin.last_login),
    createdOn: epochMilliseconds(admin.created),
    created: finiteNumber(admin.created),
    // Already hashed or left out when the instance says so (phone-numbers.ts).
    phone: text(admin.phone),
    passwordChangeRequired: flag(admin.password_change_required),
    restrictedByAdminUnits: flag(admin.restricted_by_admin_units),
    adminUnits: stringList(admin.admin_units),
  });
}

export function convertGroup(group: DuoGroup, context: GraphInstanceContext): Entity {
  const groupId = requiredId('group', group, 'group_id');
  const name = text(group.name) ?? groupId;
  const status = text(group.status)?.toLowerCase();
  const description = text(group.desc);
  return assemble('group', ENTITY_KEYS.group(groupId), group, context, {
    id: groupId,
    groupId,
    name,
    displayName: name,
    description,
    desc: description,
    status,
    active: status === undefined ? undefined : status === 'active',
    pushEnabled: flag(group.push_enabled),
    smsEnabled: flag(group.sms_enabled),
    voiceEnabled: flag(group.voice_enabled),
    mobileOtpEnabled: flag(group.mobile_otp_enabled),
  });
}

export function convertIntegration(integration: DuoIntegrationRecord, context: GraphInstanceContext): Entity {
  const integrationKey = requiredId('integration', integration, 'integration_key');
  // The fetch stage already drops the secret; dropping it here too keeps it out of the graph even
  // if a record ever arrives with it.
  const { secret_key: _secretKey, ...withoutSecret } = integration;
  const name = text(integration.name) ?? integrationKey;
  const properties: PropertiesOf<'integration'> = {
    id: integrationKey,
    name,
    displayName: name,
    type: text(integration.type),
    enrollPolicy: text(integration.enroll_policy),
    userAccess: text(integration.user_access),
    groupsAllowed: stringList(integration.groups_allowed),
    selfServiceAllowed: flag(integration.self_service_allowed),
    usernameNormalizationPolicy: text(integration.username_normalization_policy),
    networksForApiAccess: text(integration.networks_for_api_access),
    policyKey: text(integration.policy_key),
    // Only the v3 handler reports `policy_key`; without the field nothing is known.
    usesGlobalPolicy: 'policy_key' in integration ? text(integration.policy_key) === undefined : undefined,
    universalPromptEnabled: flag(integration.prompt_v4_enabled),
    framelessPromptEnabled: flag(integration.frameless_auth_prompt_enabled),
    trustedDeviceDays: finiteNumber(integration.trusted_device_days),
    sensitivity: text(integration.sensitivity_level),
    complianceRequirements: listSetting(integration.compliance_requirements),
    notes: notesList(integration.notes),
  };
  const assign = properties as Record<string, PropertyValue | undefined>;
  for (const [field, property] of Object.entries(INTEGRATION_GRANT_FLAGS)) {
    assign[property] = flag(integration[field]);
  }
  return assemble('integration', ENTITY_KEYS.integration(integrationKey), withoutSecret, context, properties);
}

/** The checking value that lets only trusted endpoints authenticate. */
const REQUIRE_TRUSTED = 'require-trusted';

/** Kinds of remembered devices whose setting says `enabled: true`. */
function rememberedDeviceKinds(section: Record<string, unknown>): string[] | undefined {
  return stringList(Object.keys(section).filter((kind) => flagSetting(objectOf(section[kind]).enabled) === true));
}

/**
 * A policy. Only the settings security teams ask about become properties; every section, known or
 * not, is named in `sections` and kept whole in `_rawData`, so a section Duo adds later costs
 * nothing and loses nothing. The global policy is keyed `global` (GLOBAL_POLICY_ID) so that the
 * integrations it governs, which name no policy, can point at it.
 */
export function convertPolicy(policy: DuoPolicy, context: GraphInstanceContext): Entity {
  const policyKey = requiredId('policy', policy, 'policy_key');
  const isGlobal = flagSetting(policy.is_global_policy) === true;
  const name = text(policy.policy_name) ?? (isGlobal ? 'Global Policy' : policyKey);
  const sections = objectOf(policy.sections);
  const methods = objectOf(sections.authentication_methods);
  const remembered = objectOf(sections.remembered_devices);
  const endpoints = objectOf(sections.trusted_endpoints);
  // Duo Desktop settings were once the "Device Health application" section; either may be there.
  const desktop = { ...objectOf(sections.device_health_app), ...objectOf(sections.duo_desktop) };
  const requiresDesktop = desktop.requires_duo_desktop ?? desktop.requires_DHA;
  const desktopPlatforms = typeof requiresDesktop === 'boolean' ? undefined : listSetting(requiresDesktop);
  const checking = text(endpoints.trusted_endpoint_checking);
  const checkingMobile = text(endpoints.trusted_endpoint_checking_mobile);
  const rememberedKinds = rememberedDeviceKinds(remembered);
  const location = objectOf(sections.user_location);
  return assemble('policy', ENTITY_KEYS.policy(isGlobal ? GLOBAL_POLICY_ID : policyKey), policy, context, {
    id: policyKey,
    name,
    displayName: name,
    category: 'config',
    isGlobal,
    sections: stringList(Object.keys(sections)),
    userAuthBehavior: text(objectOf(sections.authentication_policy).user_auth_behavior),
    newUserBehavior: text(objectOf(sections.new_user).new_user_behavior),
    allowedAuthMethods: listSetting(methods.allowed_auth_list),
    blockedAuthMethods: listSetting(methods.blocked_auth_list),
    verifiedPushRequired: flagSetting(methods.require_verified_push),
    verifiedPushDigits: finiteNumber(methods.verified_push_digits),
    rememberedDevicesEnabled: sections.remembered_devices === undefined ? undefined : rememberedKinds !== undefined,
    rememberedDevicesKinds: rememberedKinds,
    trustedEndpointChecking: checking,
    trustedEndpointCheckingMobile: checkingMobile,
    trustedEndpointsRequired:
      checking === undefined && checkingMobile === undefined
        ? undefined
        : checking === REQUIRE_TRUSTED || checkingMobile === REQUIRE_TRUSTED,
    duoDesktopRequired:
      typeof requiresDesktop === 'boolean'
        ? requiresDesktop
        : requiresDesktop === undefined
          ? undefined
          : !!desktopPlatforms,
    duoDesktopRequiredPlatforms: desktopPlatforms,
    diskEncryptionRequiredPlatforms: listSetting(desktop.enforce_encryption),
    firewallRequiredPlatforms: listSetting(desktop.enforce_firewall),
    screenLockRequired: flagSetting(objectOf(sections.screen_lock).require_screen_lock),
    mobileEncryptionRequired: flagSetting(objectOf(sections.full_disk_encryption).require_encryption),
    // Field name not confirmed by Duo's documentation: public tools that read policies name it
    // `deny_access_countries_list`, an older guess of ours `deny_access_country_list`; either is read.
    blockedCountries: listSetting(location.deny_access_countries_list ?? location.deny_access_country_list),
  });
}

/** An administrative unit; its members become edges (the resource table's links), counted here. */
export function convertAdminUnit(unit: DuoAdminUnit, context: GraphInstanceContext): Entity {
  const unitId = requiredId('administrative unit', unit, 'admin_unit_id');
  const name = text(unit.name) ?? unitId;
  const count = (list: unknown) => (Array.isArray(list) ? list.length : 0);
  return assemble('adminUnit', ENTITY_KEYS.adminUnit(unitId), unit, context, {
    id: unitId,
    name,
    displayName: name,
    description: text(unit.description),
    restrictByGroups: flag(unit.restrict_by_groups),
    restrictByIntegrations: flag(unit.restrict_by_integrations),
    adminCount: count(unit.admins),
    groupCount: count(unit.groups),
    integrationCount: count(unit.integrations),
  });
}

/** Duo platform names → the data model's `osType` values. */
const PLATFORM_OS_TYPES: Readonly<Record<string, string>> = {
  'apple ios': 'ios',
  ios: 'ios',
  'google android': 'android',
  android: 'android',
  'windows phone': 'windows',
  windows: 'windows',
  'mac os x': 'darwin',
  macos: 'darwin',
  'rim blackberry': 'legacy',
  blackberry: 'legacy',
  'symbian os': 'legacy',
  'palm webos': 'legacy',
  'java j2me': 'legacy',
  'generic smartphone': 'other',
};

/** Normalises Duo's platform to the data model's `osType`; unknown platforms are `other`, none is null. */
export function normalisePlatform(platform: unknown): string | null {
  const value = text(platform)?.toLowerCase();
  if (value === undefined || value === 'unknown') return null;
  return PLATFORM_OS_TYPES[value] ?? 'other';
}

function phoneCategory(type: string | undefined): string {
  const value = type?.toLowerCase();
  return value === 'mobile' ? 'mobile' : value === 'landline' ? 'landline' : 'other';
}

export function convertPhone(phone: DuoPhone, context: GraphInstanceContext): Entity {
  const phoneId = requiredId('phone', phone, 'phone_id');
  const users = Array.isArray(phone.users) ? phone.users : [];
  const firstUser = users[0];
  const owner = firstUser ? (text(firstUser.realname) ?? text(firstUser.username)) : undefined;
  const model = text(phone.model);
  const number = text(phone.number);
  const type = text(phone.type);
  const knownModel = model && model.toLowerCase() !== 'unknown' ? model : undefined;
  const kind = type?.toLowerCase() === 'landline' ? 'landline' : 'phone';
  // A name is no place for a hashed number: the phone id names it then.
  const keptNumber = (context.phoneNumbers?.policy ?? 'keep') === 'keep' ? number : undefined;
  const fallbackName = owner
    ? `${owner}'s ${knownModel ?? kind}`
    : `${knownModel ?? (kind === 'landline' ? 'Landline' : 'Phone')} ${keptNumber ?? phoneId}`;
  const name = text(phone.name) ?? fallbackName;
  const osType = normalisePlatform(phone.platform);
  const userEmails = stringList(users.map((u) => validEmail(u?.email)));
  return assemble('phone', ENTITY_KEYS.phone(phoneId), phone, context, {
    id: phoneId,
    name,
    displayName: name,
    category: phoneCategory(type),
    number,
    phoneNumber: number,
    extension: text(phone.extension),
    type,
    platform: osType,
    osType,
    osName: text(phone.platform) ?? null,
    model: model ?? null,
    encrypted: postureFlag(phone.encrypted, 'Encrypted', 'Unencrypted'),
    tampered: postureFlag(phone.tampered, 'Tampered', 'Not tampered'),
    screenLockEnabled: postureFlag(phone.screenlock, 'Locked', 'Unlocked'),
    fingerprintEnabled: postureFlag(phone.fingerprint, 'Configured', 'Disabled'),
    activated: flag(phone.activated),
    smsPasscodesSent: flag(phone.sms_passcodes_sent),
    capabilities: Array.isArray(phone.capabilities) ? (stringList(phone.capabilities) ?? []) : undefined,
    lastSeenOn: duoLocalTimeToEpochMilliseconds(phone.last_seen) ?? null,
    owner,
    ownerUsername: firstUser ? text(firstUser.username) : undefined,
    userEmails,
    username: firstUser ? text(firstUser.username) : undefined,
    userId: firstUser ? text(firstUser.user_id) : undefined,
    email: firstUser ? validEmail(firstUser.email) : undefined,
    make: null,
    serial: null,
    deviceId: [phoneId],
    hostname: null,
    fqdn: null,
    ipv4Addresses: null,
    ipv6Addresses: null,
    macAddresses: null,
    publicIpAddresses: null,
    privateIpAddresses: null,
    osDetails: null,
    osVersion: null,
  });
}

const TOKEN_KINDS: Readonly<Record<string, string>> = {
  h6: 'HOTP-6 token',
  h8: 'HOTP-8 token',
  t6: 'TOTP-6 token',
  t8: 'TOTP-8 token',
  yk: 'YubiKey',
  d1: 'Duo D-100 token',
};

export function convertToken(token: DuoToken, context: GraphInstanceContext): Entity {
  const tokenId = requiredId('token', token, 'token_id');
  const tokenType = text(token.type);
  const serial = text(token.serial);
  const name = `${(tokenType && TOKEN_KINDS[tokenType.toLowerCase()]) ?? 'Hardware token'} ${serial ?? tokenId}`;
  return assemble('mfaDevice', ENTITY_KEYS.mfaDevice(tokenId), token, context, {
    id: tokenId,
    name,
    displayName: name,
    factorType: 'token',
    serial,
    tokenType,
    type: tokenType,
    totpStep: finiteNumber(token.totp_step),
  });
}

export function convertWebAuthnCredential(
  credential: DuoWebAuthnCredentialSummary,
  context: GraphInstanceContext,
): Entity {
  const webauthnKey = requiredId('WebAuthn credential', credential, 'webauthnkey');
  const label = text(credential.label);
  const name = text(credential.credential_name) ?? label ?? `WebAuthn credential ${webauthnKey}`;
  return assemble('mfaDevice', ENTITY_KEYS.mfaDevice(webauthnKey), credential, context, {
    id: webauthnKey,
    name,
    displayName: name,
    factorType: 'webauthn',
    label,
    createdOn: epochMilliseconds(credential.date_added),
  });
}

export function convertU2fToken(token: DuoU2fToken, context: GraphInstanceContext): Entity {
  const registrationId = requiredId('U2F token', token, 'registration_id');
  const name = `U2F token ${registrationId}`;
  return assemble('mfaDevice', ENTITY_KEYS.mfaDevice(registrationId), token, context, {
    id: registrationId,
    name,
    displayName: name,
    factorType: 'u2f',
    createdOn: epochMilliseconds(token.date_added),
  });
}

export function convertBypassCode(code: DuoBypassCode, context: GraphInstanceContext): Entity {
  const bypassCodeId = requiredId('bypass code', code, 'bypass_code_id');
  const username = text(code.user?.username);
  const name = username ? `Bypass code for ${username}` : `Bypass code ${bypassCodeId}`;
  const expiresOn = epochMilliseconds(code.expiration);
  const reuseCount = finiteNumber(code.reuse_count);
  return assemble('bypassCode', ENTITY_KEYS.bypassCode(bypassCodeId), code, context, {
    id: bypassCodeId,
    name,
    displayName: name,
    createdOn: epochMilliseconds(code.created),
    expiresOn,
    // Duo says "never" with null; a field left out says nothing.
    neverExpires: code.expiration === null ? true : expiresOn !== undefined ? false : undefined,
    // Duo's reuse_count: null (or 0, which the Admin Panel shows as unlimited) means no limit.
    reuseCount: reuseCount !== undefined && reuseCount > 0 ? reuseCount : undefined,
    remainingUses: finiteNumber(code.remaining_uses),
    unlimitedUse: code.reuse_count === null || reuseCount === 0 ? true : reuseCount !== undefined ? false : undefined,
    createdBy: text(code.admin_email),
    username,
  });
}

/** Duo's OS family names → the data model's `osType` values; unknown families are `other`. */
const OS_FAMILY_TYPES: Readonly<Record<string, string>> = {
  windows: 'windows',
  'mac os x': 'darwin',
  macos: 'darwin',
  'os x': 'darwin',
  ios: 'ios',
  ipados: 'ios',
  android: 'android',
  linux: 'linux',
  'chrome os': 'chromeos',
  chromeos: 'chromeos',
};

function endpointOsType(family: string | undefined): string | null {
  if (family === undefined || family.toLowerCase() === 'unknown') return null;
  return OS_FAMILY_TYPES[family.toLowerCase()] ?? 'other';
}

/** Duo's endpoint posture strings (`Encrypted`, `On`, `Set`, ...), tolerantly, to booleans. */
function endpointPosture(
  value: unknown,
  whenTrue: readonly string[],
  whenFalse: readonly string[],
): boolean | undefined {
  if (typeof value === 'boolean') return value;
  const v = text(value)?.toLowerCase();
  if (v === undefined) return undefined;
  if (whenTrue.includes(v)) return true;
  if (whenFalse.includes(v)) return false;
  return undefined;
}

/** `<agent> <version>` for each security agent, whether Duo lists strings or objects. */
function securityAgentsOf(agents: unknown): string[] | undefined {
  if (!Array.isArray(agents)) return undefined;
  return stringList(
    agents.map((agent) => {
      if (typeof agent === 'string') return agent;
      if (!agent || typeof agent !== 'object') return undefined;
      const fields = agent as Record<string, unknown>;
      const name = text(fields.security_agent) ?? text(fields.name);
      const version = text(fields.version);
      return name && version ? `${name} ${version}` : name;
    }),
  );
}

function browsersOf(browsers: unknown): string[] | undefined {
  if (!Array.isArray(browsers)) return undefined;
  return stringList(
    browsers.map((browser) => {
      if (!browser || typeof browser !== 'object') return undefined;
      const fields = browser as Record<string, unknown>;
      return text([text(fields.browser_family), text(fields.browser_version)].filter(Boolean).join(' '));
    }),
  );
}

/** The first hardware identifier Duo reports, and what kind it is. */
function endpointDeviceId(endpoint: DuoEndpoint): { deviceId: string | null; deviceIdentifierType?: string } {
  const identifier = text(endpoint.device_identifier);
  if (identifier) return { deviceId: identifier, deviceIdentifierType: text(endpoint.device_identifier_type) };
  for (const [field, type] of [
    ['hardware_uuid', 'hardware_uuid'],
    ['machine_guid', 'machine_guid'],
    ['device_udid', 'device_udid'],
    ['device_id', 'device_id'],
  ] as const) {
    const value = text(endpoint[field]);
    if (value) return { deviceId: value, deviceIdentifierType: type };
  }
  return { deviceId: null };
}

export function convertEndpoint(endpoint: DuoEndpoint, context: GraphInstanceContext): Entity {
  const epkey = requiredId('endpoint', endpoint, 'epkey');
  const deviceName = text(endpoint.device_name);
  const model = text(endpoint.model);
  const name = deviceName ?? `${model ?? 'Endpoint'} ${epkey}`;
  const osFamily = text(endpoint.os_family);
  const osType = endpointOsType(osFamily);
  const osVersion = text(endpoint.os_version);
  const osBuild = text(endpoint.os_build);
  const osDetails = text([osFamily, osVersion, osBuild ? `(${osBuild})` : undefined].filter(Boolean).join(' '));
  const passwordSet = endpointPosture(
    endpoint.password_status,
    ['set', 'on', 'enabled'],
    ['unset', 'off', 'disabled', 'not set'],
  );
  const securityAgents = securityAgentsOf(endpoint.security_agents);
  const email = validEmail(endpoint.email);
  const { deviceId, deviceIdentifierType } = endpointDeviceId(endpoint);
  return assemble('endpoint', ENTITY_KEYS.endpoint(epkey), endpoint, context, {
    id: epkey,
    name,
    displayName: name,
    category: 'endpoint',
    hostname: deviceName ?? null,
    fqdn: null,
    // The data model keeps device ids as a list.
    deviceId: deviceId === null ? null : [deviceId],
    deviceIdentifierType,
    hardwareUuid: text(endpoint.hardware_uuid),
    machineGuid: text(endpoint.machine_guid),
    deviceUdid: text(endpoint.device_udid),
    computerSid: text(endpoint.computer_sid),
    domainSid: text(endpoint.domain_sid),
    cpuId: text(endpoint.cpu_id),
    make: null,
    model: model ?? null,
    serial: null,
    type: text(endpoint.type),
    osName: osFamily ?? null,
    osType,
    platform: osType,
    osVersion: osVersion ?? null,
    osBuild,
    osDetails: osDetails ?? null,
    encrypted: endpointPosture(
      endpoint.disk_encryption_status,
      ['encrypted', 'on', 'enabled'],
      ['unencrypted', 'not encrypted', 'off', 'disabled'],
    ),
    firewallEnabled: endpointPosture(endpoint.firewall_status, ['on', 'enabled'], ['off', 'disabled']),
    passwordSet,
    screenLockEnabled: passwordSet,
    securityAgents,
    malwareProtected: securityAgents ? true : undefined,
    trusted: endpointPosture(
      endpoint.trusted_endpoint,
      ['yes', 'true', 'trusted'],
      ['no', 'false', 'untrusted', 'not trusted'],
    ),
    healthAppVersion: text(endpoint.health_app_client_version),
    healthDataLastCollectedOn: epochMilliseconds(endpoint.health_data_last_collected),
    browsers: browsersOf(endpoint.browsers),
    lastSeenOn: epochMilliseconds(endpoint.last_updated) ?? null,
    username: text(endpoint.username),
    deviceUsername: text(endpoint.device_username),
    userEmails: email === undefined ? undefined : [email],
    ipv4Addresses: null,
    ipv6Addresses: null,
    macAddresses: null,
    publicIpAddresses: null,
    privateIpAddresses: null,
  });
}
