/**
 * Duo Admin API wire types: objects as the list and object endpoints return them.
 *
 * Shapes follow the recorded responses in test/fixtures/duo-recorded (ground truth for names,
 * nesting and value types) plus fields Duo documents since. Duo promises that documented fields
 * stay within a version but may add fields and enum values at any time, so every object carries an
 * index signature, enum-like fields accept any string, and fields that are not on every record
 * are optional. Timestamps are Unix seconds unless noted.
 */

/** A field Duo may add later; kept as received. */
export type DuoExtraFields = { [field: string]: unknown };

/** `stat: "OK"` envelope of an object endpoint. */
export interface DuoObjectEnvelope<T> {
  stat: 'OK';
  response: T;
}

/** Paging metadata of a list page; `next_offset` only when more records exist. */
export interface DuoPagingMetadata {
  total_objects?: number;
  next_offset?: number | null;
  prev_offset?: number | null;
  [field: string]: unknown;
}

/** `stat: "OK"` envelope of a list endpoint. */
export interface DuoListEnvelope<T> {
  stat: 'OK';
  response: T[];
  metadata?: DuoPagingMetadata;
}

/** `stat: "FAIL"` envelope; HTTP status = first three digits of `code`. */
export interface DuoErrorEnvelope {
  stat: 'FAIL';
  code: number | string;
  message?: string;
  message_detail?: string;
}

/** User status values Duo documents; others are tolerated. */
export type DuoUserStatus = 'active' | 'bypass' | 'disabled' | 'locked out' | 'pending deletion' | (string & {});

/** A user without its nested collections (as embedded in phones, tokens and WebAuthn credentials). */
export interface DuoUserSummary extends DuoExtraFields {
  user_id: string;
  username: string;
  realname?: string | null;
  firstname?: string | null;
  lastname?: string | null;
  email?: string | null;
  status?: DuoUserStatus;
  alias1?: string | null;
  alias2?: string | null;
  alias3?: string | null;
  alias4?: string | null;
  aliases?: Record<string, string>;
  created?: number | null;
  last_login?: number | null;
  last_directory_sync?: number | null;
  is_enrolled?: boolean;
  notes?: string | null;
  lockout_reason?: string | null;
}

/** A group (list endpoint and embedded in users). Real data capitalises `status`. */
export interface DuoGroup extends DuoExtraFields {
  group_id: string;
  name: string;
  desc?: string | null;
  status?: 'Active' | 'Bypass' | 'Disabled' | (string & {});
  push_enabled?: boolean;
  sms_enabled?: boolean;
  mobile_otp_enabled?: boolean;
  voice_enabled?: boolean;
}

/** A phone as embedded in a user (no `users`). */
export interface DuoPhoneSummary extends DuoExtraFields {
  phone_id: string;
  number?: string | null;
  extension?: string | null;
  name?: string | null;
  type?: 'Mobile' | 'Landline' | 'Unknown' | (string & {});
  platform?: string | null;
  model?: string | null;
  activated?: boolean;
  capabilities?: string[];
  sms_passcodes_sent?: boolean;
  encrypted?: string | null;
  fingerprint?: string | null;
  screenlock?: string | null;
  tampered?: string | null;
  /** ISO-like local time without zone, e.g. `2022-02-17T16:42:38`. */
  last_seen?: string | null;
  postdelay?: string | null;
  predelay?: string | null;
}

/** A phone from `/admin/v1/phones`, with the users it belongs to (possibly none). */
export interface DuoPhone extends DuoPhoneSummary {
  users?: DuoUserSummary[];
}

/** A hardware token as embedded in a user or as an admin's `hardtoken`. */
export interface DuoTokenSummary extends DuoExtraFields {
  token_id: string;
  serial?: string | null;
  type?: 'h6' | 'h8' | 'yk' | 'd1' | (string & {});
  totp_step?: number | null;
}

/** An administrator as embedded in a token's `admins`. */
export interface DuoAdminSummary extends DuoExtraFields {
  admin_id: string;
  name?: string | null;
  email?: string | null;
}

/** A hardware token from `/admin/v1/tokens`; one token may belong to several users. */
export interface DuoToken extends DuoTokenSummary {
  users?: DuoUserSummary[];
  admins?: DuoAdminSummary[];
}

/** A WebAuthn credential as embedded in a user (no `user`). */
export interface DuoWebAuthnCredentialSummary extends DuoExtraFields {
  webauthnkey: string;
  credential_name?: string | null;
  label?: string | null;
  date_added?: number | null;
}

/** A WebAuthn credential from `/admin/v1/webauthncredentials`, with its owner. */
export interface DuoWebAuthnCredential extends DuoWebAuthnCredentialSummary {
  user?: DuoUserSummary | null;
  admin?: DuoAdminSummary | null;
}

/** A legacy U2F token as embedded in a user. */
export interface DuoU2fToken extends DuoExtraFields {
  registration_id: string;
  date_added?: number | null;
}

/** A user from `/admin/v1/users`, with its embedded collections. */
export interface DuoUser extends DuoUserSummary {
  groups?: DuoGroup[];
  phones?: DuoPhoneSummary[];
  tokens?: DuoTokenSummary[];
  u2ftokens?: DuoU2fToken[];
  webauthncredentials?: DuoWebAuthnCredentialSummary[];
  desktoptokens?: unknown[];
}

/** An administrator from `/admin/v1/admins`. */
export interface DuoAdmin extends DuoAdminSummary {
  phone?: string | null;
  role?: string | null;
  status?: 'Active' | 'Disabled' | 'Expired' | 'Pending Activation' | (string & {});
  last_login?: number | null;
  /** Null for administrators created before October 2021. */
  created?: number | null;
  password_change_required?: boolean;
  restricted_by_admin_units?: boolean;
  admin_units?: unknown[];
  hardtoken?: DuoTokenSummary | null;
}

/**
 * An integration (application) as the client hands it on: `secret_key` is removed at the parse
 * boundary and never reaches staging, logs or JupiterOne.
 */
export interface DuoIntegration extends DuoExtraFields {
  integration_key: string;
  name?: string | null;
  type?: string | null;
  notes?: string | null;
  enroll_policy?: string | null;
  groups_allowed?: unknown[];
  /** v3 only: `ALL_USERS`, `NO_USERS` or `PERMITTED_GROUPS`. */
  user_access?: string | null;
  self_service_allowed?: boolean;
  username_normalization_policy?: string | null;
  networks_for_api_access?: string | null;
  /** The custom policy applied to the integration; empty or absent when the global policy governs it. */
  policy_key?: string | null;
  /** The Universal Prompt is shown (`prompt_v4_enabled`, 0/1 or boolean). */
  prompt_v4_enabled?: number | boolean;
  /** The frameless (redirect) Universal Prompt flow is used rather than the iframe one. */
  frameless_auth_prompt_enabled?: number | boolean;
  /** Days a device stays trusted for this integration (remembered devices), when set. */
  trusted_device_days?: number | null;
  /**
   * How sensitive the organisation rates the application, as Duo names the level (v3 handler).
   * UNVERIFIED: no Duo client library reads it; one public audit tool's endpoint table lists
   * `sensitivity_level` and `compliance_requirements` among the v3 fields it reads.
   */
  sensitivity_level?: string | null;
  /** Compliance regimes the application is marked as falling under (v3 handler; UNVERIFIED as above). */
  compliance_requirements?: unknown;
  visual_style?: string | null;
  adminapi_admins?: number | boolean;
  adminapi_admins_read?: number | boolean;
  adminapi_info?: number | boolean;
  adminapi_integrations?: number | boolean;
  adminapi_read_log?: number | boolean;
  adminapi_read_resource?: number | boolean;
  adminapi_settings?: number | boolean;
  adminapi_write_resource?: number | boolean;
}

/** An integration exactly as Duo sends it, including its plain `secret_key`. */
export interface DuoIntegrationRecord extends DuoIntegration {
  secret_key?: string | null;
}

/** Account settings from `/admin/v1/settings`; flags mix booleans and 0/1 integers, kept as received. */
export interface DuoSettings extends DuoExtraFields {
  /** The customer (account) name. */
  name?: string | null;
  timezone?: string | null;
  language?: string | null;
  lockout_threshold?: number | null;
  lockout_expire_duration?: number | null;
  inactive_user_expiration?: number | null;
  inactive_admin_expiration?: number | null;
  log_retention_days?: number | null;
  minimum_password_length?: number | null;
  push_enabled?: boolean | number;
  sms_enabled?: boolean | number;
  mobile_otp_enabled?: boolean | number;
  fraud_email?: string | null;
  fraud_email_enabled?: boolean | number;
  helpdesk_bypass?: string | null;
}

/** Counts from `/admin/v1/info/summary`. */
export interface DuoInfoSummary extends DuoExtraFields {
  admin_count?: number;
  integration_count?: number;
  user_count?: number;
  user_pending_deletion_count?: number;
  telephony_credits_remaining?: number;
  /**
   * The account's Duo edition, e.g. `ENTERPRISE`, `PLATFORM`, `BEYOND` (older names) or
   * `ESSENTIALS`, `ADVANTAGE`, `PREMIER` (UNVERIFIED: named by the sources this product follows,
   * not by Duo's reference example of the summary).
   */
  edition?: string | null;
}

/**
 * A bypass code from `/admin/v1/bypass_codes`: metadata only. Duo's Admin API never returns the
 * codes themselves once created (PSDuo's `Get-DuoBypassCodes`, the Admin API reference); a field
 * shaped like one is removed at the parse boundary anyway (the table's `secretFields`). Only
 * `bypass_code_id`, `created`, `expiration`, `reuse_count` and `admin_email` are corroborated by
 * more than one client; `remaining_uses` and the embedded `user` are UNVERIFIED.
 */
export interface DuoBypassCode extends DuoExtraFields {
  bypass_code_id: string;
  /** The administrator who created it (UNVERIFIED: may be absent for codes users made themselves). */
  admin_email?: string | null;
  created?: number | null;
  /** Unix seconds; null: the code never expires. */
  expiration?: number | null;
  /** Uses allowed in total; null: unlimited. */
  reuse_count?: number | null;
  /** Uses left (UNVERIFIED). */
  remaining_uses?: number | null;
  user?: DuoUserSummary | null;
}

/** A web browser Duo saw on a trusted endpoint. */
export interface DuoEndpointBrowser extends DuoExtraFields {
  browser_family?: string | null;
  browser_version?: string | null;
  flash_version?: string | null;
  java_version?: string | null;
  last_used?: number | null;
}

/**
 * A trusted endpoint from `/admin/v1/endpoints` (cartography's fixtures, duo_client_python's
 * docstring). Only some Duo editions have endpoints, and Duo purges an endpoint after 30 days
 * without activity. Posture fields are strings whose values Duo documents loosely (`Encrypted`,
 * `On`, `Set`, ...): converters read them tolerantly.
 */
export interface DuoEndpoint extends DuoExtraFields {
  epkey: string;
  device_name?: string | null;
  device_id?: string | null;
  device_identifier?: string | null;
  device_identifier_type?: string | null;
  device_udid?: string | null;
  device_username?: string | null;
  device_username_type?: string | null;
  hardware_uuid?: string | null;
  machine_guid?: string | null;
  computer_sid?: string | null;
  domain_sid?: string | null;
  cpu_id?: string | null;
  model?: string | null;
  type?: string | null;
  os_family?: string | null;
  os_version?: string | null;
  os_build?: string | null;
  disk_encryption_status?: string | null;
  firewall_status?: string | null;
  password_status?: string | null;
  security_agents?: unknown[] | null;
  /** `yes`, `no` or `unknown` as far as anyone has recorded. */
  trusted_endpoint?: string | boolean | null;
  health_app_client_version?: string | null;
  health_data_last_collected?: number | null;
  last_updated?: number | null;
  browsers?: DuoEndpointBrowser[] | null;
  /** The Duo user it was seen with: a username and an email, not an object. */
  username?: string | null;
  email?: string | null;
}

/**
 * Counts from `/admin/v1/info/authentication_attempts` over Duo's default window (the last 30
 * days). duo_client_python documents the counts at the top of the answer; Duo's reference example
 * nests them under `authentication_attempts` beside `mintime` and `maxtime`. Both are read.
 */
export interface DuoAuthenticationAttempts extends DuoExtraFields {
  authentication_attempts?: Record<string, number>;
  mintime?: number | null;
  maxtime?: number | null;
}

/**
 * `/admin/v1/admins/allowed_auth_methods`: the methods the account lets administrators sign in
 * with. The fields are those of Duo's Admin API documentation (each a boolean, except the length of
 * the verified-push code); no recorded answer confirms them, so each is read only when present.
 */
export interface DuoAllowedAdminAuthMethods extends DuoExtraFields {
  hardware_token_enabled?: boolean;
  mobile_otp_enabled?: boolean;
  push_enabled?: boolean;
  sms_enabled?: boolean;
  verified_push_enabled?: boolean;
  verified_push_length?: number;
  voice_enabled?: boolean;
  webauthn_enabled?: boolean;
  yubikey_enabled?: boolean;
}

/**
 * A policy from `/admin/v2/policies`: its settings grouped in named sections. Only the sections and
 * fields below are read; Duo adds sections per edition and over time, and those are kept as
 * received (in `_rawData`) without being understood. List-valued settings arrive as lists or as
 * comma-separated strings depending on the handler version (both seen in public clients).
 */
export interface DuoPolicy extends DuoExtraFields {
  policy_key: string;
  policy_name?: string | null;
  /** True for the one global policy, which governs every application without a custom policy. */
  is_global_policy?: boolean | string;
  sections?: DuoPolicySections | null;
  /**
   * Where the policy is applied, from the policy summary (`/admin/v2/policies/summary`): not part of
   * Duo's policy object, the fetch adds it to each policy it reads (the resource table's `joins`).
   */
  policy_applies_to?: DuoPolicyApplication[] | null;
}

/**
 * One place a policy is applied, as the policy summary lists it: to an application as a whole
 * (`apply_type: "app"`), or to some groups' users on one application (`"group_app"`, a group
 * policy). Field names from public tools that read the summary; `group_id` is UNVERIFIED (the one
 * public example names the group by `group_name` only): a group policy whose group has no id makes
 * no edge.
 */
export interface DuoPolicyApplication extends DuoExtraFields {
  app_integration_key?: string | null;
  app_name?: string | null;
  apply_type?: string | null;
  group_id?: string | null;
  group_name?: string | null;
}

/**
 * `/admin/v2/policies/summary`: every policy and where it is applied. Not paged: a summary Duo cut
 * short says so in `response_is_truncated`.
 */
export interface DuoPolicySummary extends DuoExtraFields {
  policies?: Array<{ policy_key?: string; policy_name?: string | null; policy_applies_to?: unknown }>;
  policy_count?: number | string;
  response_is_truncated?: boolean | string;
  warnings?: unknown[];
}

/** The sections of a policy, by Duo's section names. */
export interface DuoPolicySections {
  authentication_methods?: {
    allowed_auth_list?: string[] | string | null;
    blocked_auth_list?: string[] | string | null;
    require_verified_push?: boolean | string | null;
    verified_push_digits?: number | null;
    [field: string]: unknown;
  };
  authentication_policy?: { user_auth_behavior?: string | null; [field: string]: unknown };
  new_user?: { new_user_behavior?: string | null; [field: string]: unknown };
  remembered_devices?: { [kind: string]: unknown };
  trusted_endpoints?: {
    trusted_endpoint_checking?: string | null;
    trusted_endpoint_checking_mobile?: string | null;
    [field: string]: unknown;
  };
  duo_desktop?: { requires_duo_desktop?: string[] | string | boolean | null; [field: string]: unknown };
  screen_lock?: { require_screen_lock?: boolean | string | null; [field: string]: unknown };
  device_health_app?: { [field: string]: unknown };
  user_location?: {
    deny_access_countries_list?: string[] | string | null;
    deny_access_country_list?: string[] | string | null;
    [field: string]: unknown;
  };
  full_disk_encryption?: { require_encryption?: boolean | string | null; [field: string]: unknown };
  [section: string]: { [field: string]: unknown } | undefined;
}

/**
 * An administrative unit from `/admin/v1/administrative_units`: the administrators it restricts and
 * the groups and integrations they may manage, as lists of ids.
 */
export interface DuoAdminUnit extends DuoExtraFields {
  admin_unit_id: string;
  name?: string | null;
  description?: string | null;
  /** The unit's administrators manage only the unit's groups (and those groups' users). */
  restrict_by_groups?: boolean;
  /** The unit's administrators manage only the unit's integrations. */
  restrict_by_integrations?: boolean;
  admins?: unknown[];
  groups?: unknown[];
  integrations?: unknown[];
}

/**
 * One event of the authentication log (`/admin/v2/logs/authentication`, in `response.authlogs`).
 * Only the fields duo-j1 reads are typed; Duo sends more (locations, access device details).
 * Shapes from Duo's log samples as Elastic's Cisco Duo integration records them and Duo's own
 * `AuthContext` model (duo_universal_java); `auth_device.key` is **unconfirmed**.
 */
export interface DuoAuthenticationLogEvent extends DuoExtraFields {
  txid: string;
  /** Unix seconds. */
  timestamp: number;
  isotimestamp?: string;
  /** `authentication` or `enrollment`. */
  event_type?: string;
  user?: { key?: string | null; name?: string | null } | null;
  application?: { key?: string | null; name?: string | null } | null;
  /** e.g. `duo_push`, `phone_call`, `sms_passcode`, `passcode`, `hardware_token`, `webauthn_security_key`. */
  factor?: string | null;
  /** `success`, `denied`, `failure`, `error` or `fraud`. */
  result?: string | null;
  reason?: string | null;
  auth_device?: { name?: string | null; key?: string | null } | null;
  access_device?: { epkey?: string | null } | null;
}

/**
 * One event of `/admin/v1/logs/administrator` (duo_client_python `get_administrator_log`; Panther's
 * Duo administrator rules for `integration_skey_view` and `user_update` with a `status` of
 * `Bypass`). The administrator and the object are named, not keyed.
 */
export interface DuoAdministratorLogEvent extends DuoExtraFields {
  /** Unix seconds. */
  timestamp: number;
  isotimestamp?: string;
  /** The administrator's full name. */
  username?: string | null;
  /** e.g. `admin_login`, `integration_create`, `integration_skey_view`, `user_update`. */
  action?: string | null;
  /** The object acted on, by name: an integration's name, a user's username. */
  object?: string | null;
  /** JSON text of what changed, e.g. `{"status": "Bypass"}`. */
  description?: string | null;
}

/**
 * One event of `/admin/v2/logs/activity` (duo_client_python `get_activity_logs`, "public preview
 * and subject to change"): the actor and the target by key.
 */
export interface DuoActivityLogEvent extends DuoExtraFields {
  activity_id?: string | null;
  /** ISO 8601. */
  ts: string;
  action?: string | null;
  actor?: { key?: string | null; name?: string | null; type?: string | null; details?: string | null } | null;
  target?: { key?: string | null; name?: string | null; type?: string | null; details?: string | null } | null;
}

/**
 * One event of `/admin/v1/trust_monitor/events` (duo_client_python `get_trust_monitor_events_*`;
 * Duo's Trust Monitor documentation). Unconfirmed details are marked where they are read.
 */
export interface DuoTrustMonitorEvent extends DuoExtraFields {
  /** The event's key. */
  sekey: string;
  /** `auth`, `bypass_status_enabled` or `device_registration`. */
  type?: string | null;
  /** When Trust Monitor surfaced it, epoch milliseconds. */
  surfaced_timestamp?: number | null;
  /** Unconfirmed values: `new`, `processed`. */
  state?: string | null;
  triaged_as_interesting?: boolean | null;
  priority_event?: boolean | null;
  priority_reasons?: Array<{ label?: string | null; type?: string | null }> | null;
  explanations?: Array<{ summary?: string | null; type?: string | null }> | null;
  user?: { key?: string | null; name?: string | null } | null;
  /** `auth` events: the authentication's devices, as the authentication log names them. */
  auth_device?: { key?: string | null; name?: string | null } | null;
  access_device?: { epkey?: string | null } | null;
  /** `bypass_status_enabled` events: who enabled bypass for whom. */
  bypass_status_enabled?: {
    bypass_status_enabled?: number | null;
    enabled_by?: { key?: string | null; name?: string | null } | null;
    enabled_for?: { key?: string | null; name?: string | null } | null;
  } | null;
}
