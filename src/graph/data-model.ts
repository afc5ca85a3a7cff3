/**
 * THE data model of duo-j1: every entity, relationship and mapped relationship the integration
 * produces, declared once. Converters, the graph builder, the partial-dataset rule, the generated
 * "Data Model" section of docs/jupiterone.md and the tests all read this file; no other file in
 * src spells a `_type`. Which resource makes which kind is declared in the resource table
 * (src/resources/table.ts).
 *
 * Keys stay compatible with JupiterOne's own Duo integration (graph-duo) so that switching to
 * duo-j1 does not churn anyone's graph.
 */

/**
 * Steps of the local graph directory (`.j1-integration/graph/<step id>/…`, the layout
 * `j1-integration collect` writes). Each declared type names the step that owns it.
 */
export const GRAPH_STEPS = [
  { id: 'fetch-account', name: 'Fetch Account' },
  { id: 'fetch-admins', name: 'Fetch Admins' },
  { id: 'fetch-groups', name: 'Fetch Groups' },
  { id: 'fetch-users', name: 'Fetch Users' },
  { id: 'fetch-phones', name: 'Fetch Phones' },
  { id: 'fetch-mfa-devices', name: 'Fetch MFA Devices' },
  { id: 'fetch-integrations', name: 'Fetch Integrations' },
  { id: 'fetch-bypass-codes', name: 'Fetch Bypass Codes' },
  { id: 'fetch-endpoints', name: 'Fetch Trusted Endpoints' },
  { id: 'fetch-policies', name: 'Fetch Policies' },
  { id: 'fetch-admin-units', name: 'Fetch Administrative Units' },
  { id: 'summarize-logs', name: 'Usage from Duo Logs' },
] as const;
export type StepId = (typeof GRAPH_STEPS)[number]['id'];

export interface EntityKind {
  /** The "Resources" column of the generated docs. */
  readonly resourceName: string;
  readonly _type: string;
  readonly _class: readonly string[];
  readonly stepId: StepId;
  /** How `_key` is formed, for the docs. */
  readonly keyFormat: string;
  /** Property name → what it holds; converters set nothing else (besides `_key`, `_type`, `_class`, `_rawData`, `tag.*`). */
  readonly properties: Readonly<Record<string, string>>;
}

const USER_IDENTITY_PROPERTIES = {
  username: 'Login names, as a one-element list (the data model wants a list); null when unknown.',
  email:
    'Email address, as a one-element list; null when missing or not a valid address (the value stays in `_rawData`).',
  shortLoginId: 'The login name before any `@`, as a one-element list; null when unknown.',
  firstName: 'First name; null when unknown.',
  lastName: 'Last name; null when unknown.',
};

const DEVICE_FIELDS_DUO_DOES_NOT_REPORT = {
  make: 'Always null: Duo does not report it (the Device schema requires the property).',
  serial: 'Always null: Duo does not report it (the Device schema requires the property).',
  deviceId: 'Always null: Duo does not report it (the Device schema requires the property).',
  hostname: 'Always null: Duo does not report it (the Device schema requires the property).',
  fqdn: 'Always null: Duo does not report it (the Device schema requires the property).',
  ipv4Addresses: 'Always null: Duo does not report it (the Device schema requires the property).',
  ipv6Addresses: 'Always null: Duo does not report it (the Device schema requires the property).',
  macAddresses: 'Always null: Duo does not report it (the Device schema requires the property).',
  publicIpAddresses: 'Always null: Duo does not report it (the Device schema requires the property).',
  privateIpAddresses: 'Always null: Duo does not report it (the Device schema requires the property).',
  osDetails: 'Always null: Duo does not report it (the Device schema requires the property).',
  osVersion: 'Always null: Duo does not report it (the Device schema requires the property).',
};

/**
 * Properties from Duo's authentication log, set by the build when the instance's logs are on and
 * only on entities that have log activity (docs/logs.md). Counts cover the last 30 days.
 */
export const USER_LOG_PROPERTIES = {
  lastAuthenticatedOn: 'Last authentication in Duo’s log, epoch milliseconds (logs on).',
  lastFactor: 'Factor of the last authentication, e.g. `duo_push`, `sms_passcode` (logs on).',
  onlyWeakFactors:
    'True when every authentication of the last 30 days used SMS, voice or a passcode (no push, security key or platform authenticator) (logs on).',
  fraudReports30d: 'Authentications the user reported as fraud in the last 30 days (logs on).',
  denials30d: 'Authentications denied in the last 30 days (logs on).',
};
export const INTEGRATION_LOG_PROPERTIES = {
  lastAuthenticatedOn: 'Last authentication to the integration in Duo’s log, epoch milliseconds (logs on).',
  activeUsers30d: 'Users who authenticated to it in the last 30 days (logs on).',
};

export const ADMIN_LOG_PROPERTIES = {
  lastActionOn: 'Last action in Duo’s administrator or activity log, epoch milliseconds (logs on).',
  lastAction: 'That action as Duo names it, e.g. `admin_login`, `integration_create`, `user_update` (logs on).',
  actions30d: 'Actions in the administrator log in the last 30 days (logs on).',
};

/** The admin API grant flags of an integration: wire field → entity property. */
export const INTEGRATION_GRANT_FLAGS = {
  adminapi_admins: 'adminApiAdmins',
  adminapi_admins_read: 'adminApiAdminsRead',
  adminapi_info: 'adminApiInfo',
  adminapi_integrations: 'adminApiIntegrations',
  adminapi_read_log: 'adminApiReadLog',
  adminapi_read_resource: 'adminApiReadResource',
  adminapi_settings: 'adminApiSettings',
  adminapi_write_resource: 'adminApiWriteResource',
  adminapi_allow_to_set_permissions: 'adminApiAllowToSetPermissions',
} as const;

/** Account security settings: wire field of `/admin/v1/settings` → entity property. */
export const ACCOUNT_SETTING_PROPERTIES = {
  timezone: 'timezone',
  language: 'language',
  lockout_threshold: 'lockoutThreshold',
  lockout_expire_duration: 'lockoutExpireDuration',
  unenrolled_user_lockout_threshold: 'unenrolledUserLockoutThreshold',
  inactive_user_expiration: 'inactiveUserExpiration',
  inactive_admin_expiration: 'inactiveAdminExpiration',
  pending_deletion_days: 'pendingDeletionDays',
  log_retention_days: 'logRetentionDays',
  minimum_password_length: 'minimumPasswordLength',
  password_requires_lower_alpha: 'passwordRequiresLowerAlpha',
  password_requires_upper_alpha: 'passwordRequiresUpperAlpha',
  password_requires_numeric: 'passwordRequiresNumeric',
  password_requires_special: 'passwordRequiresSpecial',
  push_enabled: 'pushEnabled',
  sms_enabled: 'smsEnabled',
  voice_enabled: 'voiceEnabled',
  mobile_otp_enabled: 'mobileOtpEnabled',
  helpdesk_bypass: 'helpdeskBypass',
  helpdesk_bypass_expiration: 'helpdeskBypassExpiration',
  fraud_email_enabled: 'fraudEmailEnabled',
  security_checkup_enabled: 'securityCheckupEnabled',
  // The settings below are graph-duo's (it copied every setting under its camel-cased name).
  enrollment_module: 'enrollmentModule',
  fraud_email: 'fraudEmail',
  helpdesk_can_send_enroll_email: 'helpdeskCanSendEnrollEmail',
  helpdesk_message: 'helpdeskMessage',
  instant_restore_enabled: 'instantRestoreEnabled',
  mobile_analytics_disabled: 'mobileAnalyticsDisabled',
  reactivation_url: 'reactivationUrl',
  req_fips_passcodes_android: 'reqFipsPasscodesAndroid',
  sms_batch: 'smsBatch',
  sms_expiration: 'smsExpiration',
  sms_message: 'smsMessage',
  sms_refresh: 'smsRefresh',
  telephony_warning_min: 'telephonyWarningMin',
  user_telephony_cost_max: 'userTelephonyCostMax',
  // Documented by Duo, absent from the recorded answer; graph-duo copied them when present.
  caller_id: 'callerId',
  keypress_confirm: 'keypressConfirm',
  keypress_fraud: 'keypressFraud',
  reactivation_integration_key: 'reactivationIntegrationKey',
  email_activity_notification_enabled: 'emailActivityNotificationEnabled',
  push_activity_notification_enabled: 'pushActivityNotificationEnabled',
  enrollment_universal_prompt_enabled: 'enrollmentUniversalPromptEnabled',
  user_managers_can_put_users_in_bypass: 'userManagersCanPutUsersInBypass',
} as const;

/**
 * Account settings that are yes/no: booleans in the graph, whether Duo sends `true` or `1` (it sends
 * both, even for one setting across accounts).
 */
export const ACCOUNT_FLAG_SETTINGS: ReadonlySet<string> = new Set([
  'passwordRequiresLowerAlpha',
  'passwordRequiresUpperAlpha',
  'passwordRequiresNumeric',
  'passwordRequiresSpecial',
  'pushEnabled',
  'smsEnabled',
  'voiceEnabled',
  'mobileOtpEnabled',
  'fraudEmailEnabled',
  'securityCheckupEnabled',
  'helpdeskCanSendEnrollEmail',
  'instantRestoreEnabled',
  'mobileAnalyticsDisabled',
  'reqFipsPasscodesAndroid',
  'smsRefresh',
  'emailActivityNotificationEnabled',
  'pushActivityNotificationEnabled',
  'enrollmentUniversalPromptEnabled',
  'userManagersCanPutUsersInBypass',
]);

/**
 * The authentication methods the account allows administrators (`/admin/v1/admins/allowed_auth_methods`):
 * wire field → entity property. Duo documents these fields; all are yes/no except the length.
 */
export const ADMIN_AUTH_METHOD_PROPERTIES = {
  push_enabled: 'adminPushAllowed',
  sms_enabled: 'adminSmsAllowed',
  voice_enabled: 'adminVoiceAllowed',
  mobile_otp_enabled: 'adminMobileOtpAllowed',
  hardware_token_enabled: 'adminHardwareTokenAllowed',
  yubikey_enabled: 'adminYubikeyAllowed',
  webauthn_enabled: 'adminWebauthnAllowed',
  verified_push_enabled: 'adminVerifiedPushAllowed',
  verified_push_length: 'adminVerifiedPushLength',
} as const;

/**
 * What the build works out about each administrator's MFA devices once every device is known
 * (src/graph/mfa-posture.ts). Set only when every resource naming administrators' devices was read
 * completely: absent rather than a wrong `false`.
 */
export const ADMIN_MFA_POSTURE_PROPERTIES = {
  mfaFactors:
    'Kinds of MFA devices the administrator holds, sorted: `token` (hardware OTP token), `webauthn` (security key or platform authenticator); empty when none. Phone factors are not listed (Duo does not say which an administrator uses; see `phone`). Absent when the tokens or WebAuthn fetch did not complete.',
  mfaDeviceCount: 'Number of hardware tokens and WebAuthn credentials the administrator holds. Absent as above.',
  hasHardwareToken: 'The administrator holds a hardware OTP token. Absent as above.',
  hasWebauthnCredential: 'The administrator holds a WebAuthn credential. Absent as above.',
  hasPhishingResistantMfa:
    'The administrator holds a phishing-resistant factor: a WebAuthn credential (FIDO2 binds the sign-in to the site; OTP codes, push and phone factors can be relayed by a phishing page). Absent as above.',
} as const;

/** Account summary counts: wire field of `/admin/v1/info/summary` → entity property. */
export const ACCOUNT_SUMMARY_PROPERTIES = {
  admin_count: 'adminCount',
  integration_count: 'integrationCount',
  user_count: 'userCount',
  user_pending_deletion_count: 'userPendingDeletionCount',
  telephony_credits_remaining: 'telephonyCreditsRemaining',
} as const;

/**
 * Authentication attempts by result, from `/admin/v1/info/authentication_attempts`: Duo's result
 * name → entity property.
 */
export const ACCOUNT_AUTHENTICATION_ATTEMPT_PROPERTIES = {
  SUCCESS: 'authAttemptsSuccess',
  FAILURE: 'authAttemptsFailure',
  FRAUD: 'authAttemptsFraud',
  ERROR: 'authAttemptsError',
} as const;

export const ENTITY_KINDS = {
  account: {
    resourceName: 'Account',
    _type: 'duo_account',
    _class: ['Account'],
    stepId: 'fetch-account',
    keyFormat: '`duo-account:<siteId>:<name>` (name lower-cased, its first whitespace character replaced by `-`)',
    properties: {
      id: 'The site id (the `<id>` of `api-<id>.duosecurity.com`).',
      name: "Duo's account (customer) name; falls back to the instance's account name, then the site id.",
      displayName: '`<name> Duo Account`.',
      siteId: 'The `<id>` of the API hostname `api-<id>.duosecurity.com`.',
      vendor: 'Always `Cisco Duo`.',
      webLink: 'The Admin Panel of the account, `https://admin-<siteId>.duosecurity.com/`.',
      accessURL: 'Same as `webLink`.',
      timezone: 'Account time zone.',
      language: 'Account language.',
      lockoutThreshold: 'Failed authentications before a user is locked out.',
      lockoutExpireDuration:
        'Minutes after which a locked-out user is unlocked; 0 or absent: only an administrator unlocks.',
      unenrolledUserLockoutThreshold: 'Days after which unenrolled users are locked out.',
      inactiveUserExpiration: 'Days of inactivity after which users are removed (0: never).',
      inactiveAdminExpiration: 'Days of inactivity after which administrators are disabled (0: never).',
      pendingDeletionDays: 'Days users stay pending deletion.',
      logRetentionDays: 'Log retention in days; absent when logs are kept indefinitely.',
      minimumPasswordLength: 'Minimum administrator password length.',
      passwordRequiresLowerAlpha: 'Administrator passwords need a lower-case letter.',
      passwordRequiresUpperAlpha: 'Administrator passwords need an upper-case letter.',
      passwordRequiresNumeric: 'Administrator passwords need a digit.',
      passwordRequiresSpecial: 'Administrator passwords need a special character.',
      pushEnabled: 'Duo Push allowed account-wide.',
      smsEnabled: 'SMS passcodes allowed account-wide.',
      voiceEnabled: 'Phone callback allowed account-wide.',
      mobileOtpEnabled: 'Duo Mobile passcodes allowed account-wide.',
      helpdeskBypass: 'Whether help desk administrators may create bypass codes (`allow`, `limit`, `deny`).',
      helpdeskBypassExpiration: 'Default minutes until help desk bypass codes expire (0: no limit).',
      fraudEmailEnabled: 'Fraud reports are emailed.',
      securityCheckupEnabled: 'Security checkup shown to administrators.',
      enrollmentModule: 'Which enrollment flow new users get, as Duo names it (e.g. `new`).',
      fraudEmail: 'Where fraud reports are emailed (as Duo sends it; empty when unset).',
      helpdeskCanSendEnrollEmail: 'Help desk administrators may send enrollment emails.',
      helpdeskMessage: 'Message shown to help desk administrators (as Duo sends it; empty when unset).',
      instantRestoreEnabled: 'Duo Mobile Instant Restore allowed.',
      mobileAnalyticsDisabled: 'Duo Mobile analytics turned off.',
      reactivationUrl: 'Where users reactivate Duo Mobile (as Duo sends it; empty when unset).',
      reqFipsPasscodesAndroid: 'Android passcodes must be generated in FIPS mode.',
      smsBatch: 'SMS passcodes sent per message.',
      smsExpiration: 'Minutes until SMS passcodes expire (0: never).',
      smsMessage: 'Text sent before SMS passcodes.',
      smsRefresh: 'New SMS passcodes are sent after one is used.',
      telephonyWarningMin: 'Telephony credits left below which administrators are warned.',
      userTelephonyCostMax: 'Most telephony credits one authentication may cost.',
      callerId: "The number Duo's phone calls come from; hashed or left out by the instance's `phoneNumbers` setting.",
      keypressConfirm: 'The key a user presses to approve a phone call.',
      keypressFraud: 'The key a user presses to report a phone call as fraud.',
      reactivationIntegrationKey: 'The integration that handles Duo Mobile reactivation.',
      emailActivityNotificationEnabled: 'Users are emailed about changes to their authenticators.',
      pushActivityNotificationEnabled: 'Users are notified in Duo Mobile about changes to their authenticators.',
      enrollmentUniversalPromptEnabled: 'Enrollment uses the Universal Prompt.',
      userManagersCanPutUsersInBypass: 'User managers may put users in bypass.',
      adminPushAllowed:
        'Administrators may sign in with Duo Push (from the allowed administrator methods, when allowed).',
      adminSmsAllowed: 'Administrators may sign in with SMS passcodes (as above).',
      adminVoiceAllowed: 'Administrators may sign in with a phone call (as above).',
      adminMobileOtpAllowed: 'Administrators may sign in with Duo Mobile passcodes (as above).',
      adminHardwareTokenAllowed: 'Administrators may sign in with hardware OTP tokens (as above).',
      adminYubikeyAllowed: 'Administrators may sign in with YubiKey OTP (as above).',
      adminWebauthnAllowed:
        'Administrators may sign in with WebAuthn security keys or platform authenticators (as above).',
      adminVerifiedPushAllowed: 'Duo Push for administrators asks for a verification code (as above).',
      adminVerifiedPushLength: 'Digits of that verification code (as above).',
      adminPhishableMethodsAllowed:
        'Administrators may sign in with a method a phishing page can relay (push, SMS, phone call, passcodes, OTP tokens); absent when the allowed methods are unknown.',
      adminCount: 'Number of administrators (from the account summary).',
      integrationCount: 'Number of integrations (from the account summary).',
      userCount: 'Number of users (from the account summary).',
      userPendingDeletionCount: 'Number of users pending deletion (from the account summary).',
      telephonyCreditsRemaining: 'Telephony credits left (from the account summary).',
      edition: 'The Duo edition, as the account summary names it (e.g. `ESSENTIALS`, `ADVANTAGE`, `PREMIER`).',
      authAttemptsSuccess: 'Successful authentications in the report window (authentication attempts report).',
      authAttemptsFailure: 'Failed authentications in the report window.',
      authAttemptsFraud: 'Authentications users reported as fraud in the report window.',
      authAttemptsError: 'Authentications that ended in an error in the report window.',
      authAttemptsFrom:
        'Start of the authentication attempts report window, epoch milliseconds (Duo: the last 30 days).',
      authAttemptsTo: 'End of the authentication attempts report window, epoch milliseconds.',
    },
  },
  admin: {
    resourceName: 'Admin',
    _type: 'duo_admin',
    _class: ['User'],
    stepId: 'fetch-admins',
    keyFormat: '`duo-admin:<admin_id>`',
    properties: {
      id: 'The administrator id.',
      adminId: "Same as `id` (graph-duo's name for it).",
      name: "The administrator's name; falls back to the email, then the id.",
      displayName: 'Same as `name`.',
      ...USER_IDENTITY_PROPERTIES,
      username: "The administrator's email as a one-element list (administrators log in with it); null when unknown.",
      firstName: 'First word of the name; null when unknown.',
      lastName: 'Rest of the name; null when unknown.',
      admin: 'Always true.',
      isAdmin: 'Always true.',
      role: 'Administrative role, e.g. `Owner`, `Administrator`, `Help Desk`.',
      status: 'Status lower-cased: `active`, `disabled`, `expired`, `pending activation`.',
      active: 'True when the status is `active`.',
      isActive: 'Same as `active`.',
      lastLogin: 'Last login, epoch milliseconds.',
      createdOn: 'Creation time, epoch milliseconds (Duo knows it only for administrators created since October 2021).',
      created: "Creation time as Duo sends it, Unix seconds (graph-duo's property); prefer `createdOn`.",
      phone:
        "The administrator's phone number as Duo sends it; hashed or left out by the instance's `phoneNumbers` setting.",
      passwordChangeRequired: 'The administrator must change their password at next login.',
      restrictedByAdminUnits:
        'The administrator is limited to administrative units: they manage only the groups and integrations of their units.',
      adminUnits:
        'Ids of the administrative units the administrator belongs to (the units that list them among their administrators); absent when none.',
      ...ADMIN_MFA_POSTURE_PROPERTIES,
      ...ADMIN_LOG_PROPERTIES,
    },
  },
  group: {
    resourceName: 'Group',
    _type: 'duo_group',
    _class: ['UserGroup'],
    stepId: 'fetch-groups',
    keyFormat: '`duo-group:<group_id>`',
    properties: {
      id: 'The group id.',
      groupId: "Same as `id` (graph-duo's name for it).",
      name: 'The group name (directory-synced groups include the directory name); falls back to the id.',
      displayName: 'Same as `name`.',
      description: 'The group description.',
      desc: "Same as `description` (graph-duo's name for it, as Duo sends it).",
      status: 'Status lower-cased: `active`, `bypass` (members skip MFA), `disabled`.',
      active: 'True when the status is `active`.',
      pushEnabled: 'Duo Push allowed for members.',
      smsEnabled: 'SMS passcodes allowed for members.',
      voiceEnabled: 'Phone callback allowed for members.',
      mobileOtpEnabled: 'Duo Mobile passcodes allowed for members.',
    },
  },
  integration: {
    resourceName: 'Integration',
    _type: 'duo_integration',
    _class: ['Application'],
    stepId: 'fetch-integrations',
    keyFormat: '`<integration_key>`',
    properties: {
      id: 'The integration key (never the secret key).',
      name: 'The integration name; falls back to the integration key.',
      displayName: 'Same as `name`.',
      type: 'Integration type, e.g. `adminapi`, `websdk`, `rdp`.',
      enrollPolicy: 'What happens to unenrolled users, e.g. `enroll`, `allow`, `deny`.',
      userAccess: 'Who may use it: `ALL_USERS`, `NO_USERS` or `PERMITTED_GROUPS`.',
      groupsAllowed: 'Ids of the groups permitted to use it.',
      selfServiceAllowed: 'Users may manage their own devices.',
      usernameNormalizationPolicy: 'How usernames are normalised (`None`, `Simple`).',
      networksForApiAccess: 'Networks allowed to call the API (API integrations only).',
      policyKey: 'Key of the custom policy applied to it; absent when the global policy governs it.',
      usesGlobalPolicy: 'True when no custom policy is applied: the global policy governs it.',
      universalPromptEnabled: 'The Universal Prompt is shown (`prompt_v4_enabled`).',
      framelessPromptEnabled: 'The frameless Universal Prompt flow is used (`frameless_auth_prompt_enabled`).',
      trustedDeviceDays: 'Days a device stays remembered for it, when set.',
      sensitivity:
        'How sensitive the application is rated in Duo (`sensitivity_level`, as Duo names the level), when set.',
      complianceRequirements:
        'Compliance regimes the application is marked as falling under (`compliance_requirements`).',
      notes: 'Notes, as a one-element list.',
      adminApiAdmins: 'Admin API grant: administrators (read and write).',
      adminApiAdminsRead: 'Admin API grant: administrators (read).',
      adminApiInfo: 'Admin API grant: read information.',
      adminApiIntegrations: 'Admin API grant: applications.',
      adminApiReadLog: 'Admin API grant: read log.',
      adminApiReadResource: 'Admin API grant: read resource.',
      adminApiSettings: 'Admin API grant: settings.',
      adminApiWriteResource: 'Admin API grant: write resource.',
      adminApiAllowToSetPermissions: 'Admin API grant: may change its own permissions.',
      ...INTEGRATION_LOG_PROPERTIES,
    },
  },
  mfaDevice: {
    resourceName: 'MFA Token',
    _type: 'mfa_device',
    _class: ['AccessKey'],
    stepId: 'fetch-mfa-devices',
    keyFormat: '`mfa-device:<token_id | registration_id | webauthnkey>`',
    properties: {
      id: 'The token id, U2F registration id or WebAuthn key.',
      name: 'Hardware tokens: `<token kind> <serial>`; WebAuthn: the credential name, else its label; U2F: `U2F token <registration id>`.',
      displayName: 'Same as `name`.',
      factorType:
        '`token` (hardware OTP token), `u2f` (legacy U2F token) or `webauthn` (security key or platform authenticator).',
      serial: 'Serial number of a hardware token.',
      tokenType: 'Hardware token type: `h6`, `h8` (HOTP), `t6`, `t8` (TOTP), `yk` (YubiKey), `d1` (Duo D-100).',
      type: "Same as `tokenType` (graph-duo's name for it); hardware tokens only.",
      totpStep: 'TOTP time step of a hardware token, in seconds.',
      label: 'WebAuthn authenticator kind, e.g. `Security Key`, `Touch ID`.',
      createdOn: 'When a U2F token or WebAuthn credential was registered, epoch milliseconds.',
    },
  },
  phone: {
    resourceName: 'Device',
    _type: 'duo_phone',
    _class: ['Device'],
    stepId: 'fetch-phones',
    keyFormat: '`<phone_id>`',
    properties: {
      id: 'The phone id.',
      name: "The phone's name in Duo; when it has none, `<owner>'s <model>` (owner: the first user's real name, else username); without a user, `<model> <number>`.",
      displayName: 'Same as `name`.',
      category: '`mobile` for mobile phones, `landline` for landlines, `other` otherwise.',
      number:
        "Phone number (empty for tablets); hashed or left out by the instance's `phoneNumbers` setting, like every phone number.",
      phoneNumber: "Same as `number` (graph-duo's name for it).",
      extension: 'Extension of a landline; hashed or left out with the number.',
      type: 'Duo phone type: `Mobile`, `Landline`, `Unknown`.',
      platform:
        'Platform normalised to the data model: `ios`, `android`, `windows`, `darwin`, `legacy`, `other`; null when unknown.',
      osType: 'Same as `platform`.',
      osName: 'Platform as Duo names it, e.g. `Apple iOS`, `Google Android`.',
      model: 'Model, e.g. `Google Pixel 5`; null when unknown.',
      encrypted: 'Storage encrypted: true for `Encrypted`, false for `Unencrypted`, absent when Duo does not know.',
      tampered: 'Jailbroken or rooted: true for `Tampered`, false for `Not tampered`, absent when unknown.',
      screenLockEnabled: 'Screen lock set: true for `Locked`, false for `Unlocked`, absent when unknown.',
      fingerprintEnabled: 'Biometric unlock set: true for `Configured`, false for `Disabled`, absent when unknown.',
      activated: 'Duo Mobile is activated on the phone.',
      smsPasscodesSent: 'SMS passcodes were sent to the phone.',
      capabilities: 'Factors the phone supports: `auto`, `push`, `sms`, `phone`, `mobile_otp`.',
      lastSeenOn: 'When Duo Mobile last checked in, epoch milliseconds; null when never.',
      owner: "The first user's real name, else username.",
      ownerUsername: "The first user's username.",
      userEmails: "Valid email addresses of the phone's users.",
      username: "The first user's username (graph-duo's name for `ownerUsername`).",
      userId: "The first user's id (graph-duo's property).",
      email:
        "The first user's email when valid (graph-duo's property: one address, not a list); see `userEmails` for every user's.",
      ...DEVICE_FIELDS_DUO_DOES_NOT_REPORT,
      deviceId:
        'The phone id as a one-element list (the data model wants a list; graph-duo sent the id alone, which the schema rejects).',
    },
  },
  bypassCode: {
    resourceName: 'Bypass Code',
    _type: 'duo_bypass_code',
    // A bypass code is a credential that stands in for a second factor: AccessKey, as the MFA
    // devices are. No code is ever read, staged or delivered.
    _class: ['AccessKey'],
    stepId: 'fetch-bypass-codes',
    keyFormat: '`duo-bypass-code:<bypass_code_id>`',
    properties: {
      id: 'The bypass code id (never the code).',
      name: '`Bypass code for <username>`, else `Bypass code <id>`.',
      displayName: 'Same as `name`.',
      createdOn: 'When the code was made, epoch milliseconds.',
      expiresOn: 'When the code expires, epoch milliseconds; absent when it never expires.',
      neverExpires: 'True when the code has no expiry.',
      reuseCount: 'Uses the code allows in total; absent when unlimited.',
      remainingUses: 'Uses left; absent when Duo does not say or uses are unlimited.',
      unlimitedUse: 'True when the code works any number of times.',
      createdBy: 'Email of the administrator who made the code.',
      username: 'Username of the user the code is for.',
    },
  },
  trustMonitorEvent: {
    resourceName: 'Trust Monitor Event',
    _type: 'duo_trust_monitor_event',
    // A security finding Duo raised about a user, device or administrator: Finding, as other
    // integrations' detections are. Made from Trust Monitor's events (logs on, editions that have it).
    _class: ['Finding'],
    stepId: 'summarize-logs',
    keyFormat: '`duo-trust-monitor-event:<sekey>`',
    properties: {
      id: "The event's key (`sekey`).",
      name: '`Trust Monitor: <type> of <username or user id>`.',
      displayName: 'Same as `name`.',
      category: '`Trust Monitor`.',
      eventType: '`auth`, `bypass_status_enabled` or `device_registration`.',
      state: 'Duo’s triage state as Duo says it (e.g. `new`, `processed`).',
      open: 'True until the event is triaged in Duo (its state is not `processed`).',
      triagedAsInteresting: 'An administrator triaged it as interesting.',
      priority: 'Duo marked it a priority event.',
      severity: '`high` for a priority event, else `medium`.',
      numericSeverity: '7 for a priority event, else 5.',
      surfacedOn: 'When Trust Monitor surfaced it, epoch milliseconds.',
      createdOn: 'Same as `surfacedOn`.',
      explanations: 'Duo’s explanations of why it is anomalous.',
    },
  },
  endpoint: {
    resourceName: 'Trusted Endpoint',
    _type: 'duo_endpoint',
    _class: ['Device'],
    stepId: 'fetch-endpoints',
    keyFormat: '`duo-endpoint:<epkey>`',
    properties: {
      id: 'The endpoint key (`epkey`).',
      name: 'The device name, else `<model> <epkey>`.',
      displayName: 'Same as `name`.',
      category: '`endpoint`.',
      hostname:
        'The device name Duo reports (the computer name); null when unknown. The mapped relationship matches on it.',
      fqdn: 'Always null: Duo does not report it (the Device schema requires the property).',
      deviceId:
        'The hardware identifier Duo reports (`device_identifier`, else hardware UUID, machine GUID, device UDID), as a one-element list; null when none.',
      deviceIdentifierType: 'What `deviceId` is, as Duo names it (e.g. `hardware_uuid`).',
      hardwareUuid: 'Hardware UUID (macOS, Windows).',
      machineGuid: 'Windows machine GUID.',
      deviceUdid: 'Device UDID (Apple).',
      computerSid: 'Windows computer SID.',
      domainSid: 'Windows domain SID.',
      cpuId: 'CPU id.',
      make: 'Always null: Duo does not report it (the Device schema requires the property).',
      model: 'Model; null when unknown.',
      serial: 'Always null: Duo does not report it (the Device schema requires the property).',
      type: 'Device type as Duo names it.',
      osName: 'OS family as Duo names it, e.g. `Windows`, `Mac OS X`; null when unknown.',
      osType:
        'OS family normalised to the data model: `windows`, `darwin`, `ios`, `android`, `linux`, `chromeos`, `other`; null when unknown.',
      platform: 'Same as `osType`.',
      osVersion: 'OS version; null when unknown.',
      osBuild: 'OS build.',
      osDetails: '`<OS family> <version> (<build>)`; null when nothing is known.',
      encrypted: 'Disk encryption on: true for `Encrypted`/`On`, false for `Unencrypted`/`Off`, absent when unknown.',
      firewallEnabled: 'Firewall on: true for `On`/`Enabled`, false for `Off`/`Disabled`, absent when unknown.',
      passwordSet:
        'A password or screen lock is set: true for `Set`/`On`, false for `Unset`/`Off`, absent when unknown.',
      screenLockEnabled: 'Same as `passwordSet`.',
      securityAgents: 'Security agents Duo found running, `<agent> <version>`.',
      malwareProtected: 'True when Duo found at least one security agent; absent when it reports none.',
      trusted: 'Duo considers the endpoint trusted (managed): true for `yes`, false for `no`, absent when unknown.',
      healthAppVersion: 'Version of Duo Desktop (the Device Health app).',
      healthDataLastCollectedOn: 'When Duo Desktop last reported, epoch milliseconds.',
      browsers: 'Browsers Duo saw, `<family> <version>`.',
      lastSeenOn: 'When Duo last saw the endpoint, epoch milliseconds; null when unknown.',
      username: 'The Duo username it was seen with.',
      deviceUsername: 'The user signed in on the device, as the device names them.',
      userEmails: 'Email of the Duo user it was seen with, as a list (valid addresses only).',
      ipv4Addresses: 'Always null: Duo does not report it (the Device schema requires the property).',
      ipv6Addresses: 'Always null: Duo does not report it (the Device schema requires the property).',
      macAddresses: 'Always null: Duo does not report it (the Device schema requires the property).',
      publicIpAddresses: 'Always null: Duo does not report it (the Device schema requires the property).',
      privateIpAddresses: 'Always null: Duo does not report it (the Device schema requires the property).',
    },
  },
  policy: {
    resourceName: 'Policy',
    _type: 'duo_policy',
    _class: ['ControlPolicy'],
    stepId: 'fetch-policies',
    keyFormat: '`duo-policy:<policy_key>`; the global policy `duo-policy:global`',
    properties: {
      id: 'The policy key.',
      name: 'The policy name; falls back to `Global Policy` for the global one, else the key.',
      displayName: 'Same as `name`.',
      category: "Always `config` (the data model's category for configuration policies).",
      isGlobal: 'True for the global policy (it governs every application without a custom policy).',
      sections:
        "Names of the policy's sections, including ones duo-j1 does not interpret (their settings stay in `_rawData`).",
      userAuthBehavior: 'Authentication policy: `enforce` (require 2FA), `bypass` (skip it) or `deny`.',
      newUserBehavior: 'What unenrolled users get: `enroll`, `no-mfa` (allowed without 2FA) or `deny`.',
      allowedAuthMethods: 'Authentication methods allowed, e.g. `duo-push`, `webauthn-roaming`, `sms`.',
      blockedAuthMethods: 'Authentication methods blocked.',
      verifiedPushRequired: 'Duo Push must be confirmed with a code (Verified Push).',
      verifiedPushDigits: 'Digits of the Verified Push code.',
      rememberedDevicesEnabled: 'Some kind of device remembering is on (users skip 2FA for a while).',
      rememberedDevicesKinds: 'The kinds of remembered devices that are on, e.g. `browser_apps`, `windows_logon`.',
      trustedEndpointChecking:
        'Trusted endpoint checking on desktops: e.g. `not-configured`, `allow-all`, `require-trusted`.',
      trustedEndpointCheckingMobile: 'Trusted endpoint checking on mobile devices.',
      trustedEndpointsRequired:
        'Only trusted endpoints may authenticate (desktop or mobile checking is `require-trusted`).',
      duoDesktopRequired: 'Duo Desktop must be installed on some platform.',
      duoDesktopRequiredPlatforms: 'Platforms on which Duo Desktop is required, e.g. `macos`, `windows`.',
      diskEncryptionRequiredPlatforms: 'Platforms on which Duo Desktop requires disk encryption.',
      firewallRequiredPlatforms: 'Platforms on which Duo Desktop requires the firewall.',
      screenLockRequired: 'Mobile devices must have a screen lock.',
      mobileEncryptionRequired: 'Mobile devices must have full-disk encryption (the full-disk encryption section).',
      blockedCountries: 'Countries from which access is denied (user location section).',
    },
  },
  adminUnit: {
    resourceName: 'Administrative Unit',
    _type: 'duo_admin_unit',
    // Group: the data model's "defined, generic group of entities". A unit gathers administrators,
    // groups and integrations to scope what those administrators may manage; it is not a set of
    // users who share access (UserGroup), nor a part of the company (Organization).
    _class: ['Group'],
    stepId: 'fetch-admin-units',
    keyFormat: '`duo-admin-unit:<admin_unit_id>`',
    properties: {
      id: 'The administrative unit id.',
      name: 'The unit name; falls back to the id.',
      displayName: 'Same as `name`.',
      description: 'The unit description.',
      restrictByGroups: "The unit's administrators manage only the unit's groups and their users.",
      restrictByIntegrations: "The unit's administrators manage only the unit's integrations.",
      adminCount: 'Administrators in the unit.',
      groupCount: 'Groups in the unit.',
      integrationCount: 'Integrations in the unit.',
    },
  },
  user: {
    resourceName: 'User',
    _type: 'duo_user',
    _class: ['User'],
    stepId: 'fetch-users',
    keyFormat: '`duo-user:<user_id>`',
    properties: {
      id: 'The user id.',
      name: 'Real name; falls back to first and last name, then username, email, id.',
      displayName: 'Same as `name`.',
      ...USER_IDENTITY_PROPERTIES,
      firstName: "Duo's first name, else the first word of the real name; null when unknown.",
      lastName: "Duo's last name, else the rest of the real name; null when unknown.",
      status: 'Duo status: `active`, `bypass`, `disabled`, `locked out`, `pending deletion`.',
      active: 'True when the status is `active` or `bypass` (the account can sign in).',
      isActive: 'Same as `active`.',
      mfaEnabled: 'The user has enrolled at least one usable authenticator (`is_enrolled`).',
      isMfaEnabled: 'Same as `mfaEnabled`.',
      createdOn: 'Creation time, epoch milliseconds.',
      lastLogin: 'Last login, epoch milliseconds; absent when never.',
      lastDirectorySyncOn: 'Last directory sync, epoch milliseconds; absent when never synced.',
      aliases: 'Username aliases.',
      notes: 'Notes, as a one-element list.',
      lockoutReason: 'Why the user is locked out.',
      ...USER_LOG_PROPERTIES,
    },
  },
} as const satisfies Record<string, EntityKind>;
export type EntityKindId = keyof typeof ENTITY_KINDS;

/**
 * Key builders: the only places `_key`s of entities are formed. Compatible with graph-duo: the
 * account key replaces only the first whitespace character, exactly as graph-duo did.
 */
export const ENTITY_KEYS = {
  account: (siteId: string, accountName: string) =>
    `duo-account:${siteId}:${accountName.toLowerCase().replace(/\s/, '-')}`,
  admin: (adminId: string) => `duo-admin:${adminId}`,
  group: (groupId: string) => `duo-group:${groupId}`,
  integration: (integrationKey: string) => integrationKey,
  mfaDevice: (deviceId: string) => `mfa-device:${deviceId}`,
  phone: (phoneId: string) => phoneId,
  user: (userId: string) => `duo-user:${userId}`,
  bypassCode: (bypassCodeId: string) => `duo-bypass-code:${bypassCodeId}`,
  endpoint: (epkey: string) => `duo-endpoint:${epkey}`,
  policy: (policyKey: string) => `duo-policy:${policyKey}`,
  adminUnit: (adminUnitId: string) => `duo-admin-unit:${adminUnitId}`,
  trustMonitorEvent: (sekey: string) => `duo-trust-monitor-event:${sekey}`,
} as const satisfies Record<EntityKindId, (...parts: string[]) => string>;

export interface RelationshipKind {
  readonly _type: string;
  readonly _class: string;
  readonly source: EntityKindId;
  readonly target: EntityKindId;
  readonly stepId: StepId;
  /** Where the edges come from, for the docs. */
  readonly origin: string;
}

export const RELATIONSHIP_KINDS = {
  accountHasAdmin: {
    _type: 'duo_account_has_admin',
    _class: 'HAS',
    source: 'account',
    target: 'admin',
    stepId: 'fetch-admins',
    origin: 'Every administrator.',
  },
  accountHasGroup: {
    _type: 'duo_account_has_group',
    _class: 'HAS',
    source: 'account',
    target: 'group',
    stepId: 'fetch-groups',
    origin: 'Every group.',
  },
  accountHasIntegration: {
    _type: 'duo_account_has_integration',
    _class: 'HAS',
    source: 'account',
    target: 'integration',
    stepId: 'fetch-integrations',
    origin: 'Every integration.',
  },
  accountHasUser: {
    _type: 'duo_account_has_user',
    _class: 'HAS',
    source: 'account',
    target: 'user',
    stepId: 'fetch-users',
    origin: 'Every user.',
  },
  groupHasUser: {
    _type: 'duo_group_has_user',
    _class: 'HAS',
    source: 'group',
    target: 'user',
    stepId: 'fetch-users',
    origin: "The groups listed in each user's record.",
  },
  userAssignedMfaDevice: {
    _type: 'duo_user_assigned_mfa_device',
    _class: 'ASSIGNED',
    source: 'user',
    target: 'mfaDevice',
    stepId: 'fetch-mfa-devices',
    origin:
      "The tokens, U2F tokens and WebAuthn credentials listed in each user's record; a token shared by several users has one edge per user.",
  },
  adminAssignedMfaDevice: {
    _type: 'duo_admin_assigned_mfa_device',
    _class: 'ASSIGNED',
    source: 'admin',
    target: 'mfaDevice',
    stepId: 'fetch-mfa-devices',
    origin:
      "The administrators listed in each hardware token's and WebAuthn credential's record, and each administrator's `hardtoken`; a token shared by several administrators has one edge per administrator.",
  },
  adminIsUser: {
    _type: 'duo_admin_is_user',
    _class: 'IS',
    source: 'admin',
    target: 'user',
    stepId: 'fetch-users',
    origin:
      'Every administrator and user with the same valid email address, compared case-insensitively (a person who is both).',
  },
  userUsesIntegration: {
    _type: 'duo_user_uses_integration',
    _class: 'USES',
    source: 'user',
    target: 'integration',
    stepId: 'summarize-logs',
    origin:
      "Duo's authentication log (logs on): every user who authenticated to the integration in the last 30 days, with `lastAuthenticatedOn`, `lastFactor`, `lastResult`, `successes30d` and `failures30d`.",
  },
  userUsesPhone: {
    _type: 'duo_user_uses_phone',
    _class: 'USES',
    source: 'user',
    target: 'phone',
    stepId: 'fetch-phones',
    origin:
      "The phones listed in each user's record; a phone shared by several users has one edge per user. With logs on, `lastUsedOn` (epoch ms) when the user authenticated successfully with the phone in the last 30 days, and an edge for a phone of the graph the log shows the user using though their record does not list it.",
  },
  userHasBypassCode: {
    _type: 'duo_user_has_bypass_code',
    _class: 'HAS',
    source: 'user',
    target: 'bypassCode',
    stepId: 'fetch-bypass-codes',
    origin: "The user named in each bypass code's record.",
  },
  adminCreatedBypassCode: {
    _type: 'duo_admin_created_bypass_code',
    _class: 'CREATED',
    source: 'admin',
    target: 'bypassCode',
    stepId: 'fetch-bypass-codes',
    origin: "The administrator whose email is the bypass code's `admin_email` (Duo names the creator by email only).",
  },
  accountHasEndpoint: {
    _type: 'duo_account_has_endpoint',
    _class: 'HAS',
    source: 'account',
    target: 'endpoint',
    stepId: 'fetch-endpoints',
    origin: 'Every trusted endpoint.',
  },
  userUsesEndpoint: {
    _type: 'duo_user_uses_endpoint',
    _class: 'USES',
    source: 'user',
    target: 'endpoint',
    stepId: 'fetch-endpoints',
    origin:
      "The user whose email is the endpoint's `email` (Duo names the user by username and email only). With logs on, `lastUsedOn` (epoch ms) when the user authenticated successfully from the endpoint (the log event's `access_device.epkey`) in the last 30 days, and an edge for each endpoint of the graph the log shows the user authenticating from though its `email` is another's (a shared machine).",
  },
  integrationAllowsGroup: {
    _type: 'duo_integration_allows_group',
    _class: 'ALLOWS',
    source: 'integration',
    target: 'group',
    stepId: 'fetch-integrations',
    origin: 'The groups permitted to use an integration (its `groups_allowed`); none when every user may.',
  },
  accountHasPolicy: {
    _type: 'duo_account_has_policy',
    _class: 'HAS',
    source: 'account',
    target: 'policy',
    stepId: 'fetch-policies',
    origin: 'Every policy, the global one included.',
  },
  policyEnforcesGroup: {
    _type: 'duo_policy_enforces_group',
    // "Applies to" is no relationship class of the data model. ENFORCES is the nearest: the data
    // model describes a ControlPolicy as rules that "govern (or enforce, evaluate, monitor)" a
    // security control. Its relationship rules constrain no ControlPolicy → UserGroup verb.
    _class: 'ENFORCES',
    source: 'policy',
    target: 'group',
    stepId: 'fetch-policies',
    origin:
      "Group policies, from Duo's policy summary: the groups whose users a policy governs on some application (one edge per group, however many applications).",
  },
  integrationUsesPolicy: {
    _type: 'duo_integration_uses_policy',
    _class: 'USES',
    source: 'integration',
    target: 'policy',
    stepId: 'fetch-policies',
    origin: "Each integration's custom policy (its `policy_key`), else the global policy.",
  },
  accountHasAdminUnit: {
    _type: 'duo_account_has_admin_unit',
    _class: 'HAS',
    source: 'account',
    target: 'adminUnit',
    stepId: 'fetch-admin-units',
    origin: 'Every administrative unit.',
  },
  adminUnitHasAdmin: {
    _type: 'duo_admin_unit_has_admin',
    _class: 'HAS',
    source: 'adminUnit',
    target: 'admin',
    stepId: 'fetch-admin-units',
    origin: "The administrators listed in each unit's record.",
  },
  adminUnitHasGroup: {
    _type: 'duo_admin_unit_has_group',
    _class: 'HAS',
    source: 'adminUnit',
    target: 'group',
    stepId: 'fetch-admin-units',
    origin: "The groups listed in each unit's record.",
  },
  adminUnitHasIntegration: {
    _type: 'duo_admin_unit_has_integration',
    _class: 'HAS',
    source: 'adminUnit',
    target: 'integration',
    stepId: 'fetch-admin-units',
    origin: "The integrations listed in each unit's record.",
  },
  adminCreatedIntegration: {
    _type: 'duo_admin_created_integration',
    _class: 'CREATED',
    source: 'admin',
    target: 'integration',
    stepId: 'summarize-logs',
    origin:
      "Duo's administrator and activity logs (logs on): the administrator who created the integration (`integration_create`), with `createdOn` (epoch ms).",
  },
  adminKnowsIntegration: {
    _type: 'duo_admin_knows_integration',
    _class: 'KNOWS',
    source: 'admin',
    target: 'integration',
    stepId: 'summarize-logs',
    origin:
      "Duo's administrator and activity logs (logs on): an administrator who viewed the integration's secret key (`integration_skey_view`), with `secretKeyViewedOn` (epoch ms, the last view).",
  },
  adminAllowsUser: {
    _type: 'duo_admin_allows_user',
    _class: 'ALLOWS',
    source: 'admin',
    target: 'user',
    stepId: 'summarize-logs',
    origin:
      "Duo's administrator and activity logs (logs on): the administrator who last set the user's status to bypass (authentication without a second factor), with `bypassEnabledOn` (epoch ms).",
  },
  userHasTrustMonitorEvent: {
    _type: 'duo_user_has_trust_monitor_event',
    _class: 'HAS',
    source: 'user',
    target: 'trustMonitorEvent',
    stepId: 'summarize-logs',
    origin:
      "Trust Monitor's events (logs on): the user the event is about (`user`, or the user bypass was enabled for), when it is in the graph.",
  },
  adminHasTrustMonitorEvent: {
    _type: 'duo_admin_has_trust_monitor_event',
    _class: 'HAS',
    source: 'admin',
    target: 'trustMonitorEvent',
    stepId: 'summarize-logs',
    origin:
      "Trust Monitor's events (logs on): the administrator who enabled bypass (`bypass_status_enabled.enabled_by`), when it is in the graph.",
  },
  phoneHasTrustMonitorEvent: {
    _type: 'duo_phone_has_trust_monitor_event',
    _class: 'HAS',
    source: 'phone',
    target: 'trustMonitorEvent',
    stepId: 'summarize-logs',
    origin:
      "Trust Monitor's events (logs on): the phone of the authentication or registration (`auth_device`), when it is in the graph.",
  },
  endpointHasTrustMonitorEvent: {
    _type: 'duo_endpoint_has_trust_monitor_event',
    _class: 'HAS',
    source: 'endpoint',
    target: 'trustMonitorEvent',
    stepId: 'summarize-logs',
    origin:
      "Trust Monitor's events (logs on): the endpoint of the authentication (`access_device.epkey`), when it is in the graph.",
  },
} as const satisfies Record<string, RelationshipKind>;
export type RelationshipKindId = keyof typeof RELATIONSHIP_KINDS;

/**
 * Relationships the build makes from the aggregates of Duo's logs (docs/logs.md) rather than from
 * a resource's records: only for instances with logs on.
 */
export const LOG_RELATIONSHIP_KINDS: readonly RelationshipKindId[] = [
  'userUsesIntegration',
  'adminCreatedIntegration',
  'adminKnowsIntegration',
  'adminAllowsUser',
  'userHasTrustMonitorEvent',
  'adminHasTrustMonitorEvent',
  'phoneHasTrustMonitorEvent',
  'endpointHasTrustMonitorEvent',
];

/** Entities the build makes from the aggregates of Duo's logs: only for instances with logs on. */
export const LOG_ENTITY_KINDS: readonly EntityKindId[] = ['trustMonitorEvent'];

export interface MappedRelationshipKind {
  readonly _type: string;
  readonly _class: string;
  readonly source: EntityKindId;
  readonly targetType: string;
  readonly targetClass: string;
  readonly direction: 'FORWARD' | 'REVERSE';
  readonly targetFilterKeys: readonly (readonly string[])[];
  /** Set when JupiterOne must only link to an existing entity, never create one. */
  readonly skipTargetCreation?: boolean;
  readonly stepId: StepId;
  readonly origin: string;
}

export const MAPPED_RELATIONSHIP_KINDS = {
  userIsEmployee: {
    _type: 'duo_user_is_employee',
    _class: 'IS',
    source: 'user',
    targetType: 'employee',
    targetClass: 'Person',
    direction: 'REVERSE',
    targetFilterKeys: [['_type', 'email']],
    stepId: 'fetch-users',
    origin:
      'Every user with a valid email, matched on the lower-cased email; JupiterOne creates the employee when none matches.',
  },
  adminIsEmployee: {
    _type: 'duo_admin_is_employee',
    _class: 'IS',
    source: 'admin',
    targetType: 'employee',
    targetClass: 'Person',
    direction: 'REVERSE',
    targetFilterKeys: [['_type', 'email']],
    stepId: 'fetch-admins',
    origin:
      'Every administrator with a valid email, matched on the lower-cased email as users are; JupiterOne creates the employee when none matches.',
  },
  endpointIsDevice: {
    _type: 'duo_endpoint_is_device',
    _class: 'IS',
    source: 'endpoint',
    // Any integration's Device: matched on `_class` and `hostname`, the way JupiterOne's own
    // integrations map devices they do not own (e.g. graph-snipeit on `serial`, graph-feroot on
    // `hostname`). Duo reports no serial number, and the hardware ids it does report (hardware
    // UUID, machine GUID) are not in any property the Device schema shares across integrations.
    targetType: 'device',
    targetClass: 'Device',
    direction: 'FORWARD',
    targetFilterKeys: [['_class', 'hostname']],
    skipTargetCreation: true,
    stepId: 'fetch-endpoints',
    origin:
      'Every endpoint with a device name, to the Device of any integration with that `hostname`; nothing is created when none matches.',
  },
} as const satisfies Record<string, MappedRelationshipKind>;
export type MappedRelationshipKindId = keyof typeof MAPPED_RELATIONSHIP_KINDS;

export const ENTITY_KIND_LIST: readonly (EntityKind & { id: EntityKindId })[] = (
  Object.keys(ENTITY_KINDS) as EntityKindId[]
).map((id) => ({ id, ...ENTITY_KINDS[id] }));

export const RELATIONSHIP_KIND_LIST: readonly (RelationshipKind & { id: RelationshipKindId })[] = (
  Object.keys(RELATIONSHIP_KINDS) as RelationshipKindId[]
).map((id) => ({ id, ...RELATIONSHIP_KINDS[id] }));

export const MAPPED_RELATIONSHIP_KIND_LIST: readonly (MappedRelationshipKind & { id: MappedRelationshipKindId })[] = (
  Object.keys(MAPPED_RELATIONSHIP_KINDS) as MappedRelationshipKindId[]
).map((id) => ({ id, ...MAPPED_RELATIONSHIP_KINDS[id] }));

export const ENTITY_TYPES: readonly string[] = ENTITY_KIND_LIST.map((k) => k._type);
export const RELATIONSHIP_TYPES: readonly string[] = RELATIONSHIP_KIND_LIST.map((k) => k._type);
export const MAPPED_RELATIONSHIP_TYPES: readonly string[] = MAPPED_RELATIONSHIP_KIND_LIST.map((k) => k._type);
/** Every `_type` duo-j1 produces (the mapped relationships' targets are JupiterOne's, not ours). */
export const DECLARED_TYPES: readonly string[] = [...ENTITY_TYPES, ...RELATIONSHIP_TYPES, ...MAPPED_RELATIONSHIP_TYPES];

/** Types owned by each step of the local graph directory. */
export function typesOfStep(stepId: StepId): {
  entities: string[];
  relationships: string[];
  mappedRelationships: string[];
} {
  return {
    entities: ENTITY_KIND_LIST.filter((k) => k.stepId === stepId).map((k) => k._type),
    relationships: RELATIONSHIP_KIND_LIST.filter((k) => k.stepId === stepId).map((k) => k._type),
    mappedRelationships: MAPPED_RELATIONSHIP_KIND_LIST.filter((k) => k.stepId === stepId).map((k) => k._type),
  };
}

/** The step that owns a declared `_type`; undefined for types duo-j1 does not produce. */
export function stepOfType(type: string): StepId | undefined {
  return (
    ENTITY_KIND_LIST.find((k) => k._type === type)?.stepId ??
    RELATIONSHIP_KIND_LIST.find((k) => k._type === type)?.stepId ??
    MAPPED_RELATIONSHIP_KIND_LIST.find((k) => k._type === type)?.stepId
  );
}

export type GraphObjectKind = 'entities' | 'relationships';

/** Staged dataset holding the graph objects of one `_type` (mapped relationships live under `relationships`). */
export function graphDatasetName(kind: GraphObjectKind, type: string): string {
  return `graph/${kind}/${type}`;
}

/**
 * Staged index of a graph dataset: one `GraphIndexEntry` (src/graph/serialization.ts) per object, in
 * the dataset's order — keys, content hashes and edge ends, so delivery need not parse the objects.
 */
export function graphIndexDatasetName(kind: GraphObjectKind, type: string): string {
  return `graph-index/${kind}/${type}`;
}

export interface GraphDataset {
  dataset: string;
  /** Its index (see graphIndexDatasetName). */
  indexDataset: string;
  kind: GraphObjectKind;
  type: string;
  stepId: StepId;
  mapped: boolean;
}

/**
 * Every graph dataset buildGraph writes (all of them, always, possibly empty), entities first:
 * the order delivery uploads them in.
 */
export const GRAPH_DATASETS: readonly GraphDataset[] = [
  ...ENTITY_KIND_LIST.map((k) => ({
    dataset: graphDatasetName('entities', k._type),
    indexDataset: graphIndexDatasetName('entities', k._type),
    kind: 'entities' as const,
    type: k._type,
    stepId: k.stepId,
    mapped: false,
  })),
  ...RELATIONSHIP_KIND_LIST.map((k) => ({
    dataset: graphDatasetName('relationships', k._type),
    indexDataset: graphIndexDatasetName('relationships', k._type),
    kind: 'relationships' as const,
    type: k._type,
    stepId: k.stepId,
    mapped: false,
  })),
  ...MAPPED_RELATIONSHIP_KIND_LIST.map((k) => ({
    dataset: graphDatasetName('relationships', k._type),
    indexDataset: graphIndexDatasetName('relationships', k._type),
    kind: 'relationships' as const,
    type: k._type,
    stepId: k.stepId,
    mapped: true,
  })),
];

/** Graph datasets of one kind, or of one `_type`. */
export function graphDatasets(filter: { kind?: GraphObjectKind; type?: string } = {}): GraphDataset[] {
  return GRAPH_DATASETS.filter(
    (d) =>
      (filter.kind === undefined || d.kind === filter.kind) && (filter.type === undefined || d.type === filter.type),
  );
}
