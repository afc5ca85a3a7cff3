/**
 * THE resource table: every Duo resource duo-j1 reads, declared once. Per resource: the Duo
 * endpoints it reads (path, page size, signing, grant), what it reads in words, the entity kind its
 * records become, the account's edge to them, the links its records make to other resources'
 * entities and the entities they carry inside them, when the build applies it, and since which
 * version runs read it. Everything else derives from these rows: the workflow's fetches, the Duo
 * client's paging, `duo-j1 validate`, what the fetch stages and the build links, the
 * partial-dataset rule, the generated docs, the benchmark's lower bound, what the Duo simulator
 * serves and what the tests expect.
 *
 * A pure leaf, imported by the workflow bundle: it imports types
 * only. The converters are not here (they pull in the data model's validation): they are kept per
 * resource in a registry typed by this table (src/graph/record-conversion.ts), so a resource
 * without one does not compile.
 *
 * Adding a resource: its endpoint and its row here (the row last, with `introducedWith`), its wire
 * type (src/duo/types.ts), its entity and relationship kinds (src/graph/data-model.ts), its
 * converter (src/graph/converters.ts and the registry), its records in the simulator's tenant
 * (src/simulators/duo/tenant-generator.ts), and its tests.
 */
import type {
  DuoAdmin,
  DuoAllowedAdminAuthMethods,
  DuoAuthenticationAttempts,
  DuoBypassCode,
  DuoEndpoint as DuoTrustedEndpoint,
  DuoAdminUnit,
  DuoGroup,
  DuoInfoSummary,
  DuoIntegration,
  DuoPhone,
  DuoPolicy,
  DuoPolicySummary,
  DuoSettings,
  DuoToken,
  DuoU2fToken,
  DuoUser,
  DuoWebAuthnCredential,
} from '../duo/types';
import type { DuoSignatureVersion } from '../duo/signing';
import type { EntityKindId, MappedRelationshipKindId, RelationshipKindId } from '../graph/data-model';

// ---------------------------------------------------------------------------------------------
// Endpoints

/** Permissions ("grants") of a Duo Admin API application, by the names Duo's Admin Panel shows. */
export type DuoGrant =
  'Grant read resource' | 'Grant administrators' | 'Grant settings' | 'Grant read information' | 'Grant read log';

export const DUO_GRANTS: readonly DuoGrant[] = [
  'Grant read resource',
  'Grant administrators',
  'Grant settings',
  'Grant read information',
];

/** What each object endpoint answers (the `response` of its envelope). */
export interface DuoObjectEndpointRecords {
  settings: DuoSettings;
  infoSummary: DuoInfoSummary;
  allowedAdminAuthMethods: DuoAllowedAdminAuthMethods;
  authenticationAttempts: DuoAuthenticationAttempts;
  policySummary: DuoPolicySummary;
}

/** What each list endpoint's records are, once their secret fields are removed. */
export interface DuoListEndpointRecords {
  admins: DuoAdmin;
  groups: DuoGroup;
  users: DuoUser;
  phones: DuoPhone;
  tokens: DuoToken;
  webauthncredentials: DuoWebAuthnCredential;
  integrations: DuoIntegration;
  bypassCodes: DuoBypassCode;
  endpoints: DuoTrustedEndpoint;
  policies: DuoPolicy;
  administrativeUnits: DuoAdminUnit;
}

export type DuoObjectEndpointName = keyof DuoObjectEndpointRecords;
export type DuoListEndpointName = keyof DuoListEndpointRecords;
export type DuoEndpointName = DuoObjectEndpointName | DuoListEndpointName;

interface DuoEndpointBase {
  name: DuoEndpointName;
  path: string;
  grant: DuoGrant;
  /** Set when Duo accepts only this signature version on the endpoint. */
  requiredSignatureVersion?: DuoSignatureVersion;
}

/** An endpoint returning one object. */
export interface DuoObjectEndpoint extends DuoEndpointBase {
  name: DuoObjectEndpointName;
  paged: false;
}

/** An offset-paged list endpoint. */
export interface DuoListEndpoint extends DuoEndpointBase {
  name: DuoListEndpointName;
  paged: true;
  /** The largest `limit` Duo honours here; larger values are clamped (Duo treats `limit` as a hint). */
  maxPageSize: number;
  /** The field that identifies a record (the simulator looks single records up by it). */
  idField: string;
  /** Fields holding secrets; removed from every record where it is parsed, before anything else sees it. */
  secretFields: readonly string[];
}

export type DuoEndpoint = DuoObjectEndpoint | DuoListEndpoint;

/** Used where Duo documents no maximum for an endpoint. */
export const DEFAULT_MAX_PAGE_SIZE = 100;

export const DUO_OBJECT_ENDPOINTS: { readonly [N in DuoObjectEndpointName]: DuoObjectEndpoint & { name: N } } = {
  settings: { name: 'settings', path: '/admin/v1/settings', paged: false, grant: 'Grant settings' },
  infoSummary: { name: 'infoSummary', path: '/admin/v1/info/summary', paged: false, grant: 'Grant read information' },
  // Duo's Admin API documentation lists this endpoint under Administrators; which grant it needs
  // is not confirmed by any source we have: Grant administrators, as for its siblings.
  allowedAdminAuthMethods: {
    name: 'allowedAdminAuthMethods',
    path: '/admin/v1/admins/allowed_auth_methods',
    paged: false,
    grant: 'Grant administrators',
  },
  // Counts by result over Duo's default window, the last 30 days (duo_client_python's
  // `get_authentication_attempts`, the Ruby client's `get_authentication_attempts_report`).
  authenticationAttempts: {
    name: 'authenticationAttempts',
    path: '/admin/v1/info/authentication_attempts',
    paged: false,
    grant: 'Grant read information',
  },
  // Where each policy is applied: to applications, and to groups' users on an application (group
  // policies), which no other endpoint tells. Duo's clients call it `get_policy_summary_v2`
  // (Python) and `get_policies_summary` (Ruby) and sign it v5 like every policy call. Not paged;
  // an answer Duo cut short says so (`response_is_truncated`). Grant as for the policies list
  // (UNVERIFIED: reported by third-party tools, not by Duo's documentation).
  policySummary: {
    name: 'policySummary',
    path: '/admin/v2/policies/summary',
    paged: false,
    grant: 'Grant read resource',
    requiredSignatureVersion: 'v5',
  },
};

export const DUO_LIST_ENDPOINTS: { readonly [N in DuoListEndpointName]: DuoListEndpoint & { name: N } } = {
  // Maximum not documented for administrators.
  admins: {
    name: 'admins',
    path: '/admin/v1/admins',
    paged: true,
    maxPageSize: DEFAULT_MAX_PAGE_SIZE,
    idField: 'admin_id',
    secretFields: [],
    grant: 'Grant administrators',
  },
  // Duo's own Postman collection documents 500; one other source says 100. Asking 500 is safe
  // either way because Duo clamps an over-maximum limit.
  groups: {
    name: 'groups',
    path: '/admin/v1/groups',
    paged: true,
    maxPageSize: 500,
    idField: 'group_id',
    secretFields: [],
    grant: 'Grant read resource',
  },
  users: {
    name: 'users',
    path: '/admin/v1/users',
    paged: true,
    maxPageSize: 300,
    idField: 'user_id',
    secretFields: [],
    grant: 'Grant read resource',
  },
  phones: {
    name: 'phones',
    path: '/admin/v1/phones',
    paged: true,
    maxPageSize: 500,
    idField: 'phone_id',
    secretFields: [],
    grant: 'Grant read resource',
  },
  tokens: {
    name: 'tokens',
    path: '/admin/v1/tokens',
    paged: true,
    maxPageSize: 500,
    idField: 'token_id',
    secretFields: [],
    grant: 'Grant read resource',
  },
  webauthncredentials: {
    name: 'webauthncredentials',
    path: '/admin/v1/webauthncredentials',
    paged: true,
    maxPageSize: 500,
    idField: 'webauthnkey',
    secretFields: [],
    grant: 'Grant read resource',
  },
  // v3 rather than v1: v1 is Duo's legacy handler (slated for deprecation, omits SSO
  // applications, returns every application's secret key in clear), v3 is the current one. Duo
  // accepts only v5 signatures on it, whatever the client is configured with. Maximum page size
  // not documented.
  integrations: {
    name: 'integrations',
    path: '/admin/v3/integrations',
    paged: true,
    maxPageSize: DEFAULT_MAX_PAGE_SIZE,
    idField: 'integration_key',
    secretFields: ['secret_key'],
    grant: 'Grant read resource',
    requiredSignatureVersion: 'v5',
  },
  // Duo's Postman collection: default 100, maximum 500. The answer never holds the codes (PSDuo's
  // Get-DuoBypassCodes); any field that could hold one is removed where the answer is parsed all
  // the same, so that a change on Duo's side cannot put a code into staging, logs or the graph.
  bypassCodes: {
    name: 'bypassCodes',
    path: '/admin/v1/bypass_codes',
    paged: true,
    maxPageSize: 500,
    idField: 'bypass_code_id',
    secretFields: ['bypass_code', 'bypass_codes', 'code', 'codes', 'passcode', 'passcodes'],
    grant: 'Grant read resource',
  },
  // Trusted endpoints. Maximum page size not documented (the sources say 500, UNVERIFIED;
  // Duo clamps an over-maximum limit either way). Only some editions have them; what Duo answers
  // an edition without them is not documented (handled: 403 and 404).
  endpoints: {
    name: 'endpoints',
    path: '/admin/v1/endpoints',
    paged: true,
    maxPageSize: 500,
    idField: 'epkey',
    secretFields: [],
    grant: 'Grant read resource',
  },
  // Policies v2, signed v5 like the v3 integrations (Duo's clients sign every v2 policy call with
  // v5). The grant is not confirmed by Duo's documentation: third-party tools that read policies
  // report "Grant read resource", and a refusal is reported naming it. Paged by offset like every
  // list; maximum page size not documented. The list holds the global policy too (marked
  // `is_global_policy`), as every public client that reads it shows, so `/admin/v2/policies/global`
  // is not read separately.
  policies: {
    name: 'policies',
    path: '/admin/v2/policies',
    paged: true,
    maxPageSize: DEFAULT_MAX_PAGE_SIZE,
    idField: 'policy_key',
    secretFields: [],
    grant: 'Grant read resource',
    requiredSignatureVersion: 'v5',
  },
  // Each unit lists its administrators, groups and integrations by id in the list itself, so one
  // paged list is the whole resource: no request per unit (`/administrative_units/{id}` answers
  // the same object). Maximum page size not documented.
  administrativeUnits: {
    name: 'administrativeUnits',
    path: '/admin/v1/administrative_units',
    paged: true,
    maxPageSize: DEFAULT_MAX_PAGE_SIZE,
    idField: 'admin_unit_id',
    secretFields: [],
    grant: 'Grant administrators',
  },
};

/** Every endpoint, objects first, in a stable order. */
export const DUO_ENDPOINTS: readonly DuoEndpoint[] = [
  ...Object.values(DUO_OBJECT_ENDPOINTS),
  ...Object.values(DUO_LIST_ENDPOINTS),
];

/**
 * A log endpoint: read by the log tail (src/workflows/log-tail.ts), not by ingestion runs, through a
 * request budget of its own (Duo asks for about one request per minute on its log endpoints).
 */
export interface DuoLogEndpoint {
  name: DuoLogEndpointName;
  path: string;
  grant: 'Grant read log';
  /** The largest `limit` Duo accepts. */
  maxPageSize: number;
}

export type DuoLogEndpointName = 'authenticationLog' | 'administratorLog' | 'activityLog' | 'trustMonitor';

export const DUO_LOG_ENDPOINTS: { readonly [N in DuoLogEndpointName]: DuoLogEndpoint & { name: N } } = {
  // `mintime`/`maxtime` in milliseconds, `limit` up to 1000, a `next_offset` cursor of
  // `[<ms timestamp>, <txid>]` sent back comma-joined; events appear about two minutes late
  // (docs/logs.md lists the sources).
  authenticationLog: {
    name: 'authenticationLog',
    path: '/admin/v2/logs/authentication',
    grant: 'Grant read log',
    maxPageSize: 1000,
  },
  // `mintime` in seconds and nothing else: at most the 1000 earliest events at or after it, a
  // plain list; paged forward by the last timestamp (duo_client_python `get_administrator_log`).
  administratorLog: {
    name: 'administratorLog',
    path: '/admin/v1/logs/administrator',
    grant: 'Grant read log',
    maxPageSize: 1000,
  },
  // `mintime`/`maxtime` in milliseconds, `limit`, records in `response.items`, a `next_offset`
  // string sent back as it came (duo_client_python `get_activity_logs`, duo_client_ruby).
  activityLog: {
    name: 'activityLog',
    path: '/admin/v2/logs/activity',
    grant: 'Grant read log',
    maxPageSize: 1000,
  },
  // `mintime`/`maxtime` in milliseconds, both required, within the last 180 days; records in
  // `response.events`, the cursor `metadata.next_offset` sent back as `offset`; a page of at
  // most 200 (500 is also reported: the smaller is used). Only some editions have it.
  trustMonitor: {
    name: 'trustMonitor',
    path: '/admin/v1/trust_monitor/events',
    grant: 'Grant read log',
    maxPageSize: 200,
  },
};

/**
 * The records of a list page as they are handed on from Duo's answer: its `response`, each record
 * without the endpoint's secret fields. The Duo client and the thread that converts a page from the
 * answer's bytes (page-conversion.ts) both use it, so either way the records are the same.
 */
export function listPageRecords(
  response: readonly object[],
  endpoint: Pick<DuoListEndpoint, 'secretFields'>,
): object[] {
  return response.map((record) => withoutSecretFields(record, endpoint.secretFields));
}

/** A copy of `record` without the listed fields (the input is left untouched). */
export function withoutSecretFields<T extends object>(record: T, secretFields: readonly string[]): T {
  if (!secretFields.some((field) => field in record)) return record;
  const copy: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  for (const field of secretFields) delete copy[field];
  return copy as T;
}

// ---------------------------------------------------------------------------------------------
// Resources

/** The record the account's fetch makes of its endpoints' answers (the optional ones only when allowed). */
export interface DuoAccountRecord {
  settings: DuoSettings;
  infoSummary?: DuoInfoSummary;
  allowedAdminAuthMethods?: DuoAllowedAdminAuthMethods;
  authenticationAttempts?: DuoAuthenticationAttempts;
}

/**
 * The record type of each resource: what its fetch stages per record and its converter takes. Its
 * keys are the resources' names, which name their fetch activities' input, their staged datasets
 * and their entries in a run's progress and result: never rename one.
 */
export interface ResourceRecords {
  account: DuoAccountRecord;
  admins: DuoAdmin;
  groups: DuoGroup;
  users: DuoUser;
  phones: DuoPhone;
  tokens: DuoToken;
  webauthn: DuoWebAuthnCredential;
  integrations: DuoIntegration;
  bypassCodes: DuoBypassCode;
  endpoints: DuoTrustedEndpoint;
  policies: DuoPolicy;
  adminUnits: DuoAdminUnit;
}

export type ResourceName = keyof ResourceRecords;

/**
 * Ids in a record naming entities of another resource: each makes an edge of `relationship`, whose
 * other end is the linked entity (the relationship's target when the record's entity is its source,
 * else its source), written only if that entity is in the graph.
 */
export interface ResourceLink {
  relationship: RelationshipKindId;
  /** The record's field naming the linked entities: a linked object, or ids, or a list of either (or null). */
  field: string;
  /**
   * The field of each linked object holding its id (the linked entity's key is made from it);
   * absent when the field holds the ids themselves.
   */
  idField?: string;
  /** The id linked to when the field names none (an integration without a policy has the global one). */
  defaultId?: string;
  /** Why an edge is not written when the linked entity is not in the graph (the build's summary). */
  missing: string;
}

/**
 * A link made by email address rather than by id: an edge of `relationship` to every entity at its
 * other end whose record has the same email as this record (both rows' `emailField`, valid
 * addresses only, compared lower-cased). The other end's resources must be applied before this
 * one (the build keeps an index of their emails). No match is the normal case: nothing is counted.
 */
export interface ResourceEmailLink {
  relationship: RelationshipKindId;
  matchBy: 'email';
}

/** The records of another kind a record carries inside it (they have no endpoint of their own). */
export interface EmbeddedEntities {
  /** The converter's name in the registry (src/graph/record-conversion.ts). */
  converter: EmbeddedConverterName;
  /** The record's field holding the list. */
  field: string;
  entity: EntityKindId;
  /** The edge from the record's entity to each. */
  relationship: RelationshipKindId;
  /** How one is named in the build's summary, e.g. `U2F token` (`users record #3 U2F token #1`). */
  label: string;
  /** Why the edge is not written when the embedded entity was dropped. */
  dropped: string;
}

/**
 * An object endpoint a list resource reads once, before its pages, whose answer adds a field to the
 * records: the items of the answer's `listField` are matched to records on `matchField`, and each
 * record gets its item's `field` (under the same name) before it is converted, so its links can
 * name what the list alone does not (a policy's groups, from the policy summary). Records without
 * an item get none. An answer that says it was cut short (`truncatedFlag`) cannot be trusted to
 * be whole, and the resource fails for good: its types are partial, never delivered short.
 */
export interface ResourceJoin {
  endpoint: DuoObjectEndpoint;
  listField: string;
  matchField: string;
  field: string;
  truncatedFlag?: string;
}

/** The converters of embedded records (src/graph/record-conversion.ts keeps one each). */
export interface EmbeddedRecords {
  u2fToken: DuoU2fToken;
}
export type EmbeddedConverterName = keyof EmbeddedRecords;

// ---------------------------------------------------------------------------------------------
// Optional sources

/**
 * The names of the sources an instance may switch on and off (`DUO_SOURCES=<name>=off`, or
 * `"sources": {"<name>": "off"}` in the instances file). Users' configurations hold them: never
 * rename one.
 */
export type SourceName =
  | 'accountSummary'
  | 'adminAuthMethods'
  | 'authenticationAttempts'
  | 'bypassCodes'
  | 'endpoints'
  | 'policies'
  | 'adminUnits';

/**
 * A source a run reads only when the instance has it on, and whose absence never fails a run: a
 * whole resource (its row's `source`) or an object endpoint adding properties to a record (its
 * row's `optional`). What follows when Duo refuses it, or when it is off, is in docs/completeness.md.
 */
export interface OptionalSource {
  name: SourceName;
  /** What the source adds, in words, for the user guide and `duo-j1 validate`. */
  adds: string;
  /** Whether runs read it when the instance does not say. On for every source today's grants can read. */
  defaultOn: boolean;
  /**
   * The Duo editions that have it, when not all do (`Duo Premier`): named in the message when Duo
   * refuses the source, since a 403 or 404 may then mean the edition rather than a grant.
   */
  editions?: string;
}

export interface ResourceDeclaration {
  /** What the resource reads, in words, for the user guide. */
  reads: string;
  /**
   * The endpoints read: one list endpoint, paged through, each record a record of the resource; or
   * object endpoints whose answers together make the resource's one record (keyed by endpoint name).
   */
  endpoints: readonly [DuoListEndpoint] | readonly DuoObjectEndpoint[];
  /** Object endpoints whose answers add a field to each record of the list (see ResourceJoin). */
  joins?: readonly ResourceJoin[];
  /**
   * Object endpoints read when the instance has them on and Duo allows: without their grant (or
   * edition), or switched off, the record is made without them instead of the resource failing.
   */
  optional?: { readonly [N in DuoObjectEndpointName]?: OptionalSource };
  /**
   * Set when the whole resource is optional: read only when the instance has it on. Switched off,
   * it is not read and its types are delivered empty; refused by Duo (403, 404), it fails with a
   * message naming the grant or edition, and its types are partial.
   */
  source?: OptionalSource;
  /** The entity kind (src/graph/data-model.ts) each record becomes. */
  entity: EntityKindId;
  /** The account's edge to each of the resource's entities. */
  accountEdge?: RelationshipKindId;
  /** Links to other resources' entities, in the order their edges are written. */
  links?: readonly ResourceLink[];
  /** Links by email address (after the links by id). */
  emailLinks?: readonly ResourceEmailLink[];
  /** The record's field holding its email address, for links by email to or from its entities. */
  emailField?: string;
  /**
   * Fields holding phone numbers, as paths: `phone`, `settings.caller_id`, `phones[].number` (`[]`:
   * every item of a list). The instance's `phoneNumbers` setting applies to each before the record
   * is converted, so neither properties nor `_rawData` carry the number (src/graph/phone-numbers.ts).
   */
  phoneNumberFields?: readonly string[];
  /**
   * Its entities get the MFA posture properties (`ADMIN_MFA_POSTURE_PROPERTIES`) worked out from
   * their edges of this relationship once every resource is applied (src/graph/mfa-posture.ts).
   * They are held until then: keep it to small resources.
   */
  mfaPosture?: RelationshipKindId;
  embedded?: readonly EmbeddedEntities[];
  /** A mapped relationship made from each record (src/graph/record-conversion.ts keeps its builder). */
  mapping?: MappedRelationshipKindId;
  /**
   * Where the build applies the resource: the account first (every account edge needs its key),
   * and a resource after every one it links to (its links are checked against their entities).
   */
  applyOrder: number;
  /**
   * The `patched()` id the workflow checks before fetching the resource, for every resource added
   * after the first release: runs that started before it was read, and whose recorded histories
   * replay with this code, must not schedule a fetch they never had. Never change or reuse one.
   */
  introducedWith?: string;
}

/**
 * The id the global policy's entity is keyed by (`duo-policy:global`): Duo gives the global policy
 * a key of its own, but integrations governed by it name no policy at all, so a fixed id is what
 * both ends agree on.
 */
export const GLOBAL_POLICY_ID = 'global';

/**
 * The rows, in the order runs schedule their fetches. Recorded histories depend on that order:
 * a new resource goes at the end, with its `introducedWith`.
 */
export const RESOURCE_TABLE: { readonly [R in ResourceName]: ResourceDeclaration } = {
  account: {
    reads:
      'account settings (and, when allowed, the account summary and authentication attempt counts and the methods administrators may sign in with)',
    endpoints: [
      DUO_OBJECT_ENDPOINTS.settings,
      DUO_OBJECT_ENDPOINTS.infoSummary,
      DUO_OBJECT_ENDPOINTS.allowedAdminAuthMethods,
      DUO_OBJECT_ENDPOINTS.authenticationAttempts,
    ],
    // The counts and the administrators' methods are nice-to-haves: without them the account
    // entity is still complete in every property JupiterOne keys on. A new object endpoint read by
    // the account's fetch changes nothing in the workflow, so it needs no `introducedWith`.
    optional: {
      infoSummary: { name: 'accountSummary', adds: 'the summary counts and edition', defaultOn: true },
      authenticationAttempts: {
        name: 'authenticationAttempts',
        adds: 'the authentication attempt counts of the last 30 days',
        defaultOn: true,
      },
      allowedAdminAuthMethods: {
        name: 'adminAuthMethods',
        adds: "the administrators' allowed sign-in methods",
        defaultOn: true,
      },
    },
    entity: 'account',
    // The number Duo calls users from (a company number, but a phone number all the same).
    phoneNumberFields: ['settings.caller_id'],
    applyOrder: 0,
  },
  admins: {
    reads: 'administrators',
    endpoints: [DUO_LIST_ENDPOINTS.admins],
    entity: 'admin',
    accountEdge: 'accountHasAdmin',
    links: [
      {
        // Tokens are applied later: the build holds these few edges until they are.
        relationship: 'adminAssignedMfaDevice',
        field: 'hardtoken',
        idField: 'token_id',
        missing: 'the device is not among the fetched tokens',
      },
    ],
    emailField: 'email',
    phoneNumberFields: ['phone'],
    mfaPosture: 'adminAssignedMfaDevice',
    mapping: 'adminIsEmployee',
    applyOrder: 1,
  },
  groups: {
    reads: 'groups',
    endpoints: [DUO_LIST_ENDPOINTS.groups],
    entity: 'group',
    accountEdge: 'accountHasGroup',
    applyOrder: 2,
  },
  users: {
    reads: 'users, with their groups, phones, tokens and security keys',
    endpoints: [DUO_LIST_ENDPOINTS.users],
    entity: 'user',
    accountEdge: 'accountHasUser',
    links: [
      {
        relationship: 'groupHasUser',
        field: 'groups',
        idField: 'group_id',
        missing: 'the group is not among the fetched groups',
      },
      {
        relationship: 'userUsesPhone',
        field: 'phones',
        idField: 'phone_id',
        missing: 'the phone is not among the fetched phones',
      },
      {
        relationship: 'userAssignedMfaDevice',
        field: 'tokens',
        idField: 'token_id',
        missing: 'the device is not among the fetched tokens and WebAuthn credentials',
      },
      {
        relationship: 'userAssignedMfaDevice',
        field: 'webauthncredentials',
        idField: 'webauthnkey',
        missing: 'the device is not among the fetched tokens and WebAuthn credentials',
      },
    ],
    // U2F tokens have no list endpoint: the users' records are their only source.
    embedded: [
      {
        converter: 'u2fToken',
        field: 'u2ftokens',
        entity: 'mfaDevice',
        relationship: 'userAssignedMfaDevice',
        label: 'U2F token',
        dropped: 'the U2F token was dropped as invalid',
      },
    ],
    emailLinks: [{ relationship: 'adminIsUser', matchBy: 'email' }],
    emailField: 'email',
    phoneNumberFields: ['phones[].number', 'phones[].extension'],
    mapping: 'userIsEmployee',
    applyOrder: 8,
  },
  phones: {
    reads: 'phones',
    endpoints: [DUO_LIST_ENDPOINTS.phones],
    entity: 'phone',
    phoneNumberFields: ['number', 'extension'],
    applyOrder: 5,
  },
  tokens: {
    reads: 'hardware (OTP) tokens',
    endpoints: [DUO_LIST_ENDPOINTS.tokens],
    entity: 'mfaDevice',
    links: [
      {
        relationship: 'adminAssignedMfaDevice',
        field: 'admins',
        idField: 'admin_id',
        missing: 'the administrator is not among the fetched administrators',
      },
    ],
    applyOrder: 6,
  },
  webauthn: {
    reads: 'WebAuthn credentials (security keys, platform authenticators)',
    endpoints: [DUO_LIST_ENDPOINTS.webauthncredentials],
    entity: 'mfaDevice',
    links: [
      {
        // An administrator's credential names its holder in `admin` (a user's in `user`).
        relationship: 'adminAssignedMfaDevice',
        field: 'admin',
        idField: 'admin_id',
        missing: 'the administrator is not among the fetched administrators',
      },
    ],
    applyOrder: 7,
  },
  integrations: {
    reads: 'integrations (applications), never their secret keys',
    endpoints: [DUO_LIST_ENDPOINTS.integrations],
    entity: 'integration',
    accountEdge: 'accountHasIntegration',
    links: [
      {
        relationship: 'integrationUsesPolicy',
        field: 'policy_key',
        // Duo leaves `policy_key` empty when the global policy governs the integration; the global
        // policy's entity is keyed `global` whatever key Duo gives it (see convertPolicy).
        defaultId: GLOBAL_POLICY_ID,
        missing: 'the policy is not among the fetched policies',
      },
      {
        relationship: 'integrationAllowsGroup',
        field: 'groups_allowed',
        missing: 'the group is not among the fetched groups',
      },
    ],
    applyOrder: 4,
  },
  bypassCodes: {
    reads: 'bypass codes: who has one, who made it, when it expires and how often it works; never the codes',
    endpoints: [DUO_LIST_ENDPOINTS.bypassCodes],
    entity: 'bypassCode',
    links: [
      {
        relationship: 'userHasBypassCode',
        field: 'user',
        idField: 'user_id',
        missing: 'the user is not among the fetched users',
      },
    ],
    // Duo names a code's creator by email only: an edge from every administrator with that email.
    emailLinks: [{ relationship: 'adminCreatedBypassCode', matchBy: 'email' }],
    emailField: 'admin_email',
    // On by default: the grant is one every run needs already (Grant read resource).
    source: { name: 'bypassCodes', adds: 'bypass codes', defaultOn: true },
    applyOrder: 9,
    introducedWith: 'resource-bypass-codes',
  },
  endpoints: {
    reads: 'trusted endpoints: the computers and phones Duo saw users sign in from, and their health',
    endpoints: [DUO_LIST_ENDPOINTS.endpoints],
    entity: 'endpoint',
    accountEdge: 'accountHasEndpoint',
    // Duo names an endpoint's user by username and email only: an edge from every user with that email.
    emailLinks: [{ relationship: 'userUsesEndpoint', matchBy: 'email' }],
    emailField: 'email',
    mapping: 'endpointIsDevice',
    // On by default: its grant is one every run needs already. An edition without endpoints
    // makes its types partial with a message saying so, until the source is switched off.
    // Duo's editions page: endpoint visibility with Duo Advantage and Premier (and Access and
    // Beyond, their former names).
    source: {
      name: 'endpoints',
      adds: 'trusted endpoints',
      defaultOn: true,
      editions: 'Advantage and Premier',
    },
    applyOrder: 10,
    introducedWith: 'resource-endpoints',
  },
  policies: {
    reads: 'policies (the global policy and custom ones), and where each is applied',
    endpoints: [DUO_LIST_ENDPOINTS.policies],
    // The summary's entries are named by policy key, as the list's records are. Its shape is
    // UNVERIFIED against Duo's documentation (public tools that read it agree on `policies[]`
    // with `policy_key` and `policy_applies_to`, and on `response_is_truncated`).
    joins: [
      {
        endpoint: DUO_OBJECT_ENDPOINTS.policySummary,
        listField: 'policies',
        matchField: 'policy_key',
        field: 'policy_applies_to',
        truncatedFlag: 'response_is_truncated',
      },
    ],
    // On by default: the grant it is reported to need is one every instance already has. Duo does
    // not document that any edition lacks the policies API.
    source: { name: 'policies', adds: 'policies', defaultOn: true },
    entity: 'policy',
    accountEdge: 'accountHasPolicy',
    links: [
      {
        // A group policy: the policy governs these groups' users on one application. Applications
        // the policy governs as a whole are the integrations' own `policy_key` links.
        relationship: 'policyEnforcesGroup',
        field: 'policy_applies_to',
        idField: 'group_id',
        missing: 'the group is not among the fetched groups',
      },
    ],
    // After the groups its group policies name, and before the integrations, whose edges to their
    // policies are checked against the policies.
    applyOrder: 3,
    introducedWith: 'resource-policies',
  },
  adminUnits: {
    reads: 'administrative units, with their administrators, groups and integrations',
    endpoints: [DUO_LIST_ENDPOINTS.administrativeUnits],
    // On by default: administrators already need its grant. Duo does not document which editions
    // have administrative units; a refusal (403 or 404) names the grant and makes the types partial.
    source: { name: 'adminUnits', adds: 'administrative units', defaultOn: true },
    entity: 'adminUnit',
    accountEdge: 'accountHasAdminUnit',
    links: [
      {
        relationship: 'adminUnitHasAdmin',
        field: 'admins',
        missing: 'the administrator is not among the fetched administrators',
      },
      { relationship: 'adminUnitHasGroup', field: 'groups', missing: 'the group is not among the fetched groups' },
      {
        relationship: 'adminUnitHasIntegration',
        field: 'integrations',
        missing: 'the integration is not among the fetched integrations',
      },
    ],
    // After everything it links to.
    applyOrder: 11,
    introducedWith: 'resource-admin-units',
  },
};

/** The resources, in the order runs schedule their fetches. */
export const RESOURCE_NAMES = Object.keys(RESOURCE_TABLE) as readonly ResourceName[];

/** The resources in the order the build applies them. */
export const APPLY_ORDER: readonly ResourceName[] = [...RESOURCE_NAMES].sort(
  (a, b) => RESOURCE_TABLE[a].applyOrder - RESOURCE_TABLE[b].applyOrder,
);

/** The list endpoint a resource pages through; undefined for a resource made of object endpoints. */
export function listEndpointOf(resource: ResourceName): DuoListEndpoint | undefined {
  const [first] = RESOURCE_TABLE[resource].endpoints;
  return first?.paged ? first : undefined;
}

/** Every endpoint a resource's fetch reads, in the order it reads them: its joins, then its endpoints. */
export function endpointsReadBy(resource: ResourceName): readonly DuoEndpoint[] {
  const { endpoints, joins = [] } = RESOURCE_TABLE[resource];
  return [...joins.map((join) => join.endpoint), ...endpoints];
}

/** The grants a resource needs, in words: `Grant settings; Grant read information adds the summary counts`. */
export function grantsInWords(resource: ResourceName): string {
  const { optional = {}, source } = RESOURCE_TABLE[resource];
  const needed = new Set<string>();
  const adds: string[] = [];
  for (const endpoint of endpointsReadBy(resource)) {
    const optionalSource = endpoint.paged ? undefined : optional[endpoint.name];
    if (optionalSource === undefined) needed.add(endpoint.grant);
    else adds.push(`${endpoint.grant} adds ${optionalSource.adds}${editionsInWords(optionalSource)}`);
  }
  return [...[...needed].map((grant) => `${grant}${source ? editionsInWords(source) : ''}`), ...adds].join('; ');
}

function editionsInWords(source: OptionalSource): string {
  return source.editions ? ` (${source.editions} only)` : '';
}

/** An optional source, where it is declared: the endpoint it reads and the resource it belongs to. */
export interface OptionalSourceEntry {
  source: OptionalSource;
  resource: ResourceName;
  endpoint: DuoEndpoint;
  /** The other endpoints read with it (a resource's joins): readable only if they are too. */
  alsoReads: readonly DuoObjectEndpoint[];
}

/** Every optional source, in table order: whole resources and the optional endpoints of a record. */
export function optionalSources(): OptionalSourceEntry[] {
  return RESOURCE_NAMES.flatMap((resource) => {
    const { source, endpoints, joins = [], optional = {} } = RESOURCE_TABLE[resource];
    const entries: OptionalSourceEntry[] = [];
    if (source)
      entries.push({ source, resource, endpoint: endpoints[0], alsoReads: joins.map((join) => join.endpoint) });
    for (const endpoint of endpoints) {
      const optionalSource = endpoint.paged ? undefined : optional[endpoint.name];
      if (optionalSource) entries.push({ source: optionalSource, resource, endpoint, alsoReads: [] });
    }
    return entries;
  });
}

/** Which sources an instance has on; the instance's configuration holds only what differs from the defaults. */
export type SourceSwitches = Readonly<Partial<Record<SourceName, boolean>>>;

export function isSourceOn(source: OptionalSource, switches: SourceSwitches | undefined): boolean {
  return switches?.[source.name] ?? source.defaultOn;
}

/** True when a resource is an optional source the instance has switched off: its fetch reads and stages nothing. */
export function isResourceSwitchedOff(resource: ResourceName, switches: SourceSwitches | undefined): boolean {
  const { source } = RESOURCE_TABLE[resource];
  return source !== undefined && !isSourceOn(source, switches);
}
