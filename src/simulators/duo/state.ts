/**
 * What the Duo simulator holds: the tenant it serves (with each record's JSON kept as bytes) and
 * the integration keys it accepts, each with its secret key and grants.
 */
import { randomBytes } from 'node:crypto';
import {
  DUO_GRANTS,
  DUO_LIST_ENDPOINTS,
  DUO_LOG_ENDPOINTS,
  type DuoGrant,
  type DuoListEndpointName,
} from '../../resources/table';
import type { DuoTenant } from './tenant-generator';

/**
 * The tenant's record lists, by field name: each list endpoint of the resource table serves the
 * tenant's field of its own name (a tenant without one does not compile).
 */
export type DuoTenantListField = DuoListEndpointName;

const LIST_FIELDS = Object.keys(DUO_LIST_ENDPOINTS) as DuoTenantListField[];

/** The tenant being served. It may be replaced, but only by one with the same API hostname. */
export class ServedTenant {
  /** The hostname requests must be signed for (lower-cased). */
  readonly apiHostname: string;
  #tenant: DuoTenant;
  // Records are serialised once, as UTF-8 bytes, and reused (benchmarks page through 100,000 users
  // repeatedly): a page is then a copy of its records' bytes, where building a 750 kB string and
  // encoding it again for every request added milliseconds to each page. Keyed by object identity
  // so replacing a record or the tenant serves the new data. Integration records keep their
  // `secret_key` on every route: the exact masked form newer handlers use is not documented, and
  // sending the key exercises the client's removal of it.
  readonly #serialised = new WeakMap<object, Buffer>();
  readonly #idIndexes = new Map<DuoTenantListField, Map<string, object>>();

  constructor(tenant: DuoTenant) {
    this.#tenant = tenant;
    this.apiHostname = tenant.apiHostname.toLowerCase();
    // The starting tenant's records are serialised up front: a benchmark reads each record once, and
    // serialising while the client waits added about 4 ms to every 300-user page (measured by
    // `npm run bench`), time that belongs to the simulator, not to the modelled Duo latency.
    for (const field of LIST_FIELDS) {
      for (const record of tenant[field] as object[]) this.json(record);
    }
  }

  get tenant(): DuoTenant {
    return this.#tenant;
  }

  /** Serves another tenant from now on; clients sign for the hostname, so it must stay the same. */
  replace(next: DuoTenant): void {
    if (next.apiHostname.toLowerCase() !== this.apiHostname) {
      throw new Error(`setTenant: the new tenant's apiHostname must stay ${this.apiHostname}; clients sign for it.`);
    }
    this.#tenant = next;
    this.#idIndexes.clear();
  }

  list(field: DuoTenantListField): readonly object[] {
    return this.#tenant[field] as object[];
  }

  /** A record's JSON text as bytes, serialised once per record object. */
  json(record: object): Buffer {
    let json = this.#serialised.get(record);
    if (json === undefined) {
      json = Buffer.from(JSON.stringify(record), 'utf8');
      this.#serialised.set(record, json);
    }
    return json;
  }

  /** The record of `field` whose `idField` is `id`, through an index built on first use. */
  recordById(field: DuoTenantListField, idField: string, id: string): object | undefined {
    let index = this.#idIndexes.get(field);
    if (!index) {
      index = new Map();
      for (const record of this.#tenant[field] as Record<string, unknown>[]) {
        index.set(String(record[idField]), record);
      }
      this.#idIndexes.set(field, index);
    }
    return index.get(id);
  }
}

/** Every grant the simulator knows: the ingestion's and the log tail's. */
const ALL_GRANTS: readonly DuoGrant[] = [...DUO_GRANTS, DUO_LOG_ENDPOINTS.authenticationLog.grant];

/** Credentials of one integration key. */
export interface DuoSimulatorKey {
  integrationKey: string;
  secretKey: string;
  grants: readonly DuoGrant[];
}

/** The integration keys the simulator accepts. */
export class IntegrationKeys {
  readonly #keys = new Map<string, DuoSimulatorKey>();

  /** Adds a key; random Duo-looking credentials where none are given; all grants by default. */
  add(integrationKey?: string, secretKey?: string, grants: readonly DuoGrant[] = ALL_GRANTS): DuoSimulatorKey {
    const key = {
      integrationKey: integrationKey ?? randomIntegrationKey(),
      secretKey: secretKey ?? randomSecretKey(),
      grants: [...grants],
    };
    this.#keys.set(key.integrationKey, key);
    return key;
  }

  get(integrationKey: string): DuoSimulatorKey | undefined {
    return this.#keys.get(integrationKey);
  }
}

/** Duo-looking integration key: `DI` + 18 upper-case letters and digits. */
function randomIntegrationKey(): string {
  return `DI${randomChars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 18)}`;
}

/** Duo-looking secret key: 40 letters and digits. */
function randomSecretKey(): string {
  return randomChars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 40);
}

/** Random characters from `alphabet`; real randomness, since these are credentials, not test data. */
function randomChars(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  let result = '';
  for (let i = 0; i < length; i++) result += alphabet[bytes[i]! % alphabet.length];
  return result;
}
