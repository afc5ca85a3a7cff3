/**
 * The Duo Admin API endpoints duo-j1 reads, declared once: path, paging, page size and the grant
 * the Admin API application needs. The client, the fetch stage, `duo-j1 validate` and the
 * simulator all derive their behaviour from these tables.
 */
import type {
  DuoAdmin,
  DuoGroup,
  DuoInfoSummary,
  DuoIntegration,
  DuoPhone,
  DuoSettings,
  DuoToken,
  DuoUser,
  DuoWebAuthnCredential,
} from './types';
import type { DuoSignatureVersion } from './signing';
import type { ResourceName } from '../workflows/contract';

/** Permissions ("grants") of a Duo Admin API application, by the names Duo's Admin Panel shows. */
export type DuoGrant = 'Grant read resource' | 'Grant administrators' | 'Grant settings' | 'Grant read information';

export const DUO_GRANTS: readonly DuoGrant[] = [
  'Grant read resource',
  'Grant administrators',
  'Grant settings',
  'Grant read information',
];

/** Record types per endpoint. */
export interface DuoObjectEndpointRecords {
  settings: DuoSettings;
  infoSummary: DuoInfoSummary;
}
export interface DuoListEndpointRecords {
  admins: DuoAdmin;
  groups: DuoGroup;
  users: DuoUser;
  phones: DuoPhone;
  tokens: DuoToken;
  webauthncredentials: DuoWebAuthnCredential;
  integrations: DuoIntegration;
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
  /** The field that identifies a record (used to de-duplicate and to look single records up). */
  idField: string;
  /** Fields holding secrets; removed from every record at the parse boundary. */
  secretFields: readonly string[];
}

export type DuoEndpoint = DuoObjectEndpoint | DuoListEndpoint;

/** Used where Duo documents no maximum for an endpoint. */
export const DEFAULT_MAX_PAGE_SIZE = 100;

export const DUO_OBJECT_ENDPOINTS: { readonly [N in DuoObjectEndpointName]: DuoObjectEndpoint & { name: N } } = {
  settings: { name: 'settings', path: '/admin/v1/settings', paged: false, grant: 'Grant settings' },
  infoSummary: { name: 'infoSummary', path: '/admin/v1/info/summary', paged: false, grant: 'Grant read information' },
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
};

/** Every endpoint, objects first, in a stable order. */
export const DUO_ENDPOINTS: readonly DuoEndpoint[] = [
  ...Object.values(DUO_OBJECT_ENDPOINTS),
  ...Object.values(DUO_LIST_ENDPOINTS),
];

/** The endpoint declaration for a name. */
export function duoEndpoint(name: DuoEndpointName): DuoEndpoint {
  return name in DUO_OBJECT_ENDPOINTS
    ? DUO_OBJECT_ENDPOINTS[name as DuoObjectEndpointName]
    : DUO_LIST_ENDPOINTS[name as DuoListEndpointName];
}

/** The resources the fetch stage reads, one fetch activity each (declared in the workflow contract). */
export type DuoResourceName = ResourceName;

export interface DuoResource {
  name: DuoResourceName;
  /** Endpoints read for the resource, in order. */
  endpoints: readonly DuoEndpoint[];
  /** Grants the resource needs (one per endpoint, de-duplicated). */
  grants: readonly DuoGrant[];
  /** The page size its list endpoint is read with; undefined for `account` (object endpoints only). */
  pageSize: number | undefined;
}

function resource(name: DuoResourceName, endpoints: DuoEndpoint[]): DuoResource {
  const listEndpoint = endpoints.find((endpoint): endpoint is DuoListEndpoint => endpoint.paged);
  return {
    name,
    endpoints,
    grants: [...new Set(endpoints.map((endpoint) => endpoint.grant))],
    pageSize: listEndpoint?.maxPageSize,
  };
}

/**
 * The resource table. `account` combines the settings (its name; Grant settings) and the info
 * summary (counts; Grant read information); every other resource is one list endpoint.
 */
export const DUO_RESOURCES: { readonly [N in DuoResourceName]: DuoResource } = {
  account: resource('account', [DUO_OBJECT_ENDPOINTS.settings, DUO_OBJECT_ENDPOINTS.infoSummary]),
  admins: resource('admins', [DUO_LIST_ENDPOINTS.admins]),
  groups: resource('groups', [DUO_LIST_ENDPOINTS.groups]),
  users: resource('users', [DUO_LIST_ENDPOINTS.users]),
  phones: resource('phones', [DUO_LIST_ENDPOINTS.phones]),
  tokens: resource('tokens', [DUO_LIST_ENDPOINTS.tokens]),
  webauthn: resource('webauthn', [DUO_LIST_ENDPOINTS.webauthncredentials]),
  integrations: resource('integrations', [DUO_LIST_ENDPOINTS.integrations]),
};

export const DUO_RESOURCE_NAMES: readonly DuoResourceName[] = Object.keys(DUO_RESOURCES) as DuoResourceName[];
