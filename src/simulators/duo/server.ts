/**
 * The Duo Admin API simulator: a real HTTP server on loopback that serves a (generated) tenant
 * the way Duo does, so the product can be demonstrated, tested and benchmarked without a Duo
 * account.
 *
 * Faithful to Duo: signatures verified exactly (v2-SHA1, v2-SHA512, v5; see
 * signature-verifier.ts), Duo's envelopes and error codes, offset paging with the limit clamped
 * to each endpoint's maximum, `next_offset` absent on the last page, `total_objects`, grants per
 * integration key (403/40301), and a token bucket per integration key and endpoint answering
 * 429/42901 without `Retry-After`.
 *
 * Knobs for provoking the product's failure handling: latency, the rate limit, random 5xx,
 * connection resets and truncated bodies, short pages, forced errors on one endpoint, and broken
 * paging metadata. Every request is written to a request log (never with credentials).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../listen';
import {
  DUO_GRANTS,
  DUO_LIST_ENDPOINTS,
  DUO_OBJECT_ENDPOINTS,
  type DuoGrant,
  type DuoListEndpointName,
} from '../../duo/endpoints';
import type { DuoSignatureVersion } from '../../duo/signing';
import { generateTenant, type DuoTenant } from './tenant-generator';
import { verifyDuoRequest, type DuoRejection } from './signature-verifier';

/** How a list endpoint's paging metadata can be broken on purpose. */
export type DuoPagingAnomaly =
  /** No `metadata` object at all. */
  | 'missing-metadata'
  /** `next_offset` equal to the requested offset. */
  | 'stuck-offset'
  /** No records, but a `next_offset` as if more followed. */
  | 'empty-page';

/** An error answered instead of the real response. */
export interface DuoForcedError {
  status: number;
  code: number;
  message?: string;
  /** Answer this many requests with the error, then serve normally again. Default: every request. */
  times?: number;
  /** `Location` header, for forcing a redirect (3xx). */
  location?: string;
}

/** Fault injection; rates are probabilities per request in [0, 1]. */
export interface DuoSimulatorFaults {
  /** Answer 500 (code 50001). */
  serverErrorRate?: number;
  /** Answer 429 (code 42901) as if the rate limit were hit: a 429 storm independent of timing. */
  tooManyRequestsRate?: number;
  /** Reset the connection without answering. */
  connectionResetRate?: number;
  /** Answer 200 with a truncated JSON body. */
  malformedBodyRate?: number;
  /** Restrict the random faults above to these endpoint paths (e.g. `/admin/v1/users`). Default: all. */
  faultPaths?: readonly string[];
  /** Honour `limit` only partly: each page holds between 1 and `limit` records. */
  shortPages?: boolean;
  /** Forced errors by endpoint path (e.g. 403/40301 on `/admin/v1/admins`). */
  endpointErrors?: Readonly<Record<string, DuoForcedError>>;
  /** Broken paging by endpoint path, on pages requested at `fromOffset` or later (default 1: all but the first). */
  pagingAnomalies?: Readonly<Record<string, { kind: DuoPagingAnomaly; fromOffset?: number }>>;
}

export interface DuoSimulatorOptions {
  /** The tenant to serve; otherwise one is generated from `users` and `seed`. */
  tenant?: DuoTenant;
  /** Default 25. */
  users?: number;
  /** Default 1. */
  seed?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Credentials of the first integration key; random when omitted. */
  integrationKey?: string;
  secretKey?: string;
  /** Grants of the first integration key. Default: all. */
  grants?: readonly DuoGrant[];
  /** Delay before every answer. */
  latencyMs?: number;
  /** Requests per minute per integration key and endpoint; undefined = unlimited. */
  requestsPerMinute?: number;
  /** Bucket size of that limit. Default: one second's worth of requests (at least 1). */
  rateLimitBurst?: number;
  /** Accepted distance between a request's date and this server's clock. Default 300 s. */
  maxClockSkewSeconds?: number;
  faults?: DuoSimulatorFaults;
  /** Seed of the fault dice, so a faulty run can be replayed. Default 1. */
  faultSeed?: number;
}

/** One request as the simulator saw it. */
export interface DuoRequestLogEntry {
  /** Milliseconds since the epoch, when the request arrived. */
  at: number;
  method: string;
  path: string;
  /** Decoded query parameters (the last value of a repeated key). */
  params: Record<string, string>;
  /** `offset` and `limit` as numbers, when sent. */
  offset?: number;
  limit?: number;
  /** HTTP status answered; 0 when the connection was reset instead. */
  status: number;
  /** Duo error code of an error answer. */
  code?: number;
  /** The integration key that signed the request, when one could be read. */
  integrationKey?: string;
  /** The date the request was signed with (`X-Duo-Date`, else `Date`). */
  date?: string;
  signatureVersion?: DuoSignatureVersion;
  /** Why the request was refused or disturbed. */
  reason?: DuoRejection | 'no-such-endpoint' | 'v5-required' | 'forbidden' | 'rate-limited' | 'forced-error' | 'fault';
  /** Records returned by a list page. */
  records?: number;
}

/** Credentials of one integration key. */
export interface DuoSimulatorKey {
  integrationKey: string;
  secretKey: string;
  grants: readonly DuoGrant[];
}

/** A running simulator. */
export interface DuoSimulator {
  /** Base URL to give the client as its insecure base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The hostname requests must be signed for (the tenant's). */
  readonly apiHostname: string;
  /** The first integration key (all grants unless `grants` said otherwise). */
  readonly integrationKey: string;
  readonly secretKey: string;
  /** The tenant being served (see `setTenant`). */
  readonly tenant: DuoTenant;
  /** Options for a `DuoClient` that talks to this simulator with the first integration key. */
  readonly clientOptions: {
    apiHostname: string;
    integrationKey: string;
    secretKey: string;
    insecureBaseUrl: string;
  };
  /** Every request so far, oldest first. */
  readonly requestLog: readonly DuoRequestLogEntry[];
  clearRequestLog(): void;
  /** Replaces all fault settings (`{}` clears them). */
  setFaults(faults: DuoSimulatorFaults): void;
  /** Changes the rate limit (undefined = unlimited); buckets start full again. */
  setRateLimit(requestsPerMinute: number | undefined, burst?: number): void;
  setLatency(latencyMs: number): void;
  /** Serves another tenant from now on (same API hostname required, since clients sign for it). */
  setTenant(tenant: DuoTenant): void;
  /** Creates another integration key with the given grants (default: all). */
  addIntegrationKey(grants?: readonly DuoGrant[]): DuoSimulatorKey;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

interface Route {
  /** Rate-limit and fault key: the endpoint path (single-record routes share their list's). */
  path: string;
  grant: DuoGrant;
  requiredSignatureVersion?: DuoSignatureVersion;
  serve: (context: RouteContext) => Answer;
}

interface RouteContext {
  params: Record<string, string>;
  limit?: number;
  offset?: number;
  id?: string;
}

interface Answer {
  status: number;
  body: string | Buffer;
  code?: number;
  records?: number;
  location?: string;
}

const COMMA = Buffer.from(',');
const PAGE_END = Buffer.from('],"stat":"OK"}');
const RESPONSE_START = Buffer.from('{"response":');
const OBJECT_END = Buffer.from(',"stat":"OK"}');

interface TenantList {
  tenantField: keyof Pick<
    DuoTenant,
    'admins' | 'groups' | 'users' | 'phones' | 'tokens' | 'webauthncredentials' | 'integrations'
  >;
  maxPageSize: number;
  idField: string;
}

/** Starts a simulator listening on loopback; resolves once it accepts connections. */
export async function startDuoSimulator(options: DuoSimulatorOptions = {}): Promise<DuoSimulator> {
  let tenant = options.tenant ?? generateTenant({ users: options.users ?? 25, seed: options.seed ?? 1 });
  const apiHostname = tenant.apiHostname.toLowerCase();
  const keys = new Map<string, DuoSimulatorKey>();
  const addKey = (integrationKey: string, secretKey: string, grants: readonly DuoGrant[]): DuoSimulatorKey => {
    const key = { integrationKey, secretKey, grants: [...grants] };
    keys.set(integrationKey, key);
    return key;
  };
  const firstKey = addKey(
    options.integrationKey ?? randomIntegrationKey(),
    options.secretKey ?? randomSecretKey(),
    options.grants ?? DUO_GRANTS,
  );

  let latencyMs = options.latencyMs ?? 0;
  let faults: DuoSimulatorFaults = options.faults ?? {};
  let forcedErrorsLeft = new Map<string, number>();
  let rateLimit = makeRateLimit(options.requestsPerMinute, options.rateLimitBurst);
  const maxClockSkewMs = (options.maxClockSkewSeconds ?? 300) * 1000;
  const dice = seededDice(options.faultSeed ?? 1);
  const requestLog: DuoRequestLogEntry[] = [];
  // Records are serialised once, as UTF-8 bytes, and reused (benchmarks page through 100,000 users
  // repeatedly): a page is then a copy of its records' bytes, where building a 750 kB string and
  // encoding it again for every request added milliseconds to each page. Keyed by object identity
  // so replacing a record or the tenant serves the new data. Integration records keep their
  // `secret_key` on every route: the exact masked form newer handlers use is not documented, and
  // sending the key exercises the client's removal of it.
  const serialised = new WeakMap<object, Buffer>();
  const toJson = (record: object): Buffer => {
    let json = serialised.get(record);
    if (json === undefined) {
      json = Buffer.from(JSON.stringify(record), 'utf8');
      serialised.set(record, json);
    }
    return json;
  };
  // The starting tenant's records are serialised up front: a benchmark reads each record once, and
  // serialising while the client waits added about 4 ms to every 300-user page (measured by
  // `npm run bench`), time that belongs to the simulator, not to the modelled Duo latency.
  for (const field of [
    'admins',
    'groups',
    'users',
    'phones',
    'tokens',
    'webauthncredentials',
    'integrations',
  ] as const) {
    for (const record of tenant[field] as object[]) toJson(record);
  }
  const idIndexes = new Map<TenantList['tenantField'], Map<string, object>>();
  const recordById = (list: TenantList, id: string): object | undefined => {
    let index = idIndexes.get(list.tenantField);
    if (!index) {
      index = new Map();
      for (const record of tenant[list.tenantField] as Record<string, unknown>[]) {
        index.set(String(record[list.idField]), record);
      }
      idIndexes.set(list.tenantField, index);
    }
    return index.get(id);
  };

  const listPage = (list: TenantList, path: string, context: RouteContext): Answer => {
    const records = tenant[list.tenantField] as object[];
    const limit = Math.min(context.limit ?? 100, list.maxPageSize);
    const offset = context.offset ?? 0;
    const anomaly = faults.pagingAnomalies?.[path];
    const anomalous = anomaly !== undefined && offset >= (anomaly.fromOffset ?? 1);
    let count = Math.min(limit, Math.max(0, records.length - offset));
    if (faults.shortPages && count > 1) count = 1 + (hashOffset(offset, path) % count);
    if (anomalous && anomaly.kind === 'empty-page') count = 0;
    const pageRecords = records.slice(offset, offset + count);
    let nextOffset: number | undefined = offset + count < records.length ? offset + count : undefined;
    if (anomalous && anomaly.kind === 'empty-page') nextOffset = offset + limit;
    if (anomalous && anomaly.kind === 'stuck-offset' && nextOffset !== undefined) nextOffset = offset;
    const metadata =
      anomalous && anomaly.kind === 'missing-metadata'
        ? ''
        : `"metadata":{${[
            nextOffset !== undefined ? `"next_offset":${nextOffset}` : '',
            offset > 0 ? `"prev_offset":${Math.max(offset - limit, 0)}` : '',
            `"total_objects":${records.length}`,
          ]
            .filter(Boolean)
            .join(',')}},`;
    const pieces: Buffer[] = [Buffer.from(`{${metadata}"response":[`)];
    pageRecords.forEach((record, index) => {
      if (index > 0) pieces.push(COMMA);
      pieces.push(toJson(record));
    });
    pieces.push(PAGE_END);
    return { status: 200, body: Buffer.concat(pieces), records: pageRecords.length };
  };

  const routes = new Map<string, Route>();
  const singleRoutes: Array<{ prefix: string; route: Route }> = [];
  const objectRoute = (path: string, grant: DuoGrant, value: () => object): Route => ({
    path,
    grant,
    serve: () => ({ status: 200, body: `{"response":${JSON.stringify(value())},"stat":"OK"}` }),
  });
  routes.set(
    DUO_OBJECT_ENDPOINTS.settings.path,
    objectRoute(DUO_OBJECT_ENDPOINTS.settings.path, DUO_OBJECT_ENDPOINTS.settings.grant, () => tenant.settings),
  );
  routes.set(
    DUO_OBJECT_ENDPOINTS.infoSummary.path,
    objectRoute(
      DUO_OBJECT_ENDPOINTS.infoSummary.path,
      DUO_OBJECT_ENDPOINTS.infoSummary.grant,
      () => tenant.infoSummary,
    ),
  );
  const addListRoutes = (
    path: string,
    grant: DuoGrant,
    list: TenantList,
    requiredSignatureVersion?: DuoSignatureVersion,
  ) => {
    routes.set(path, { path, grant, requiredSignatureVersion, serve: (context) => listPage(list, path, context) });
    singleRoutes.push({
      prefix: `${path}/`,
      route: {
        path,
        grant,
        requiredSignatureVersion,
        serve: (context) => {
          const record = context.id === undefined ? undefined : recordById(list, context.id);
          if (!record) return errorAnswer(404, 40401, 'Resource not found');
          return { status: 200, body: Buffer.concat([RESPONSE_START, toJson(record), OBJECT_END]) };
        },
      },
    });
  };
  const tenantFields: Record<DuoListEndpointName, TenantList['tenantField']> = {
    admins: 'admins',
    groups: 'groups',
    users: 'users',
    phones: 'phones',
    tokens: 'tokens',
    webauthncredentials: 'webauthncredentials',
    integrations: 'integrations',
  };
  for (const endpoint of Object.values(DUO_LIST_ENDPOINTS)) {
    addListRoutes(
      endpoint.path,
      endpoint.grant,
      { tenantField: tenantFields[endpoint.name], maxPageSize: endpoint.maxPageSize, idField: endpoint.idField },
      endpoint.requiredSignatureVersion,
    );
  }
  // The legacy v1 integrations handler: accepts v2 signatures and returns secret keys in clear.
  addListRoutes('/admin/v1/integrations', DUO_LIST_ENDPOINTS.integrations.grant, {
    tenantField: 'integrations',
    maxPageSize: DUO_LIST_ENDPOINTS.integrations.maxPageSize,
    idField: 'integration_key',
  });

  const findRoute = (path: string): { route: Route; id?: string } | undefined => {
    const route = routes.get(path);
    if (route) return { route };
    for (const single of singleRoutes) {
      const rest = path.startsWith(single.prefix) ? path.slice(single.prefix.length) : '';
      // One path segment only: `/admin/v1/integrations/{ikey}/skey` (a secret) is not served.
      if (rest !== '' && !rest.includes('/')) return { route: single.route, id: decodeURIComponent(rest) };
    }
    return undefined;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    const at = Date.now();
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const rawUrl = request.url ?? '/';
    const questionMark = rawUrl.indexOf('?');
    const path = questionMark === -1 ? rawUrl : rawUrl.slice(0, questionMark);
    const rawQuery = questionMark === -1 ? '' : rawUrl.slice(questionMark + 1);
    const entry: DuoRequestLogEntry = { at, method: request.method ?? 'GET', path, params: {}, status: 0 };
    const signedDate = request.headers['x-duo-date'] ?? request.headers.date;
    if (typeof signedDate === 'string') entry.date = signedDate;
    pushLog(requestLog, entry);

    const send = (answer: Answer, reason?: DuoRequestLogEntry['reason']) => {
      entry.status = answer.status;
      if (answer.code !== undefined) entry.code = answer.code;
      if (answer.records !== undefined) entry.records = answer.records;
      if (reason) entry.reason = reason;
      response.writeHead(answer.status, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        server: 'Duo/1.0 (duo-j1 simulator)',
        ...(answer.location ? { location: answer.location } : {}),
      });
      response.end(answer.body);
    };

    const verification = verifyDuoRequest(
      { method: entry.method, path, rawQuery, headers: request.headers, body },
      {
        apiHostname,
        secretKeyOf: (integrationKey) => keys.get(integrationKey)?.secretKey,
        maxClockSkewMs,
        now: Date.now(),
      },
    );
    if (!verification.ok) {
      if (verification.integrationKey && keys.has(verification.integrationKey)) {
        entry.integrationKey = verification.integrationKey;
      }
      send(errorAnswer(verification.status, verification.code, verification.message), verification.rejection);
      return;
    }
    entry.integrationKey = verification.integrationKey;
    entry.signatureVersion = verification.signatureVersion;
    const params: Record<string, string> = {};
    for (const [key, value] of verification.params) params[key] = value;
    entry.params = params;
    const limit = params.limit === undefined ? undefined : parseNonNegativeInteger(params.limit);
    const offset = params.offset === undefined ? undefined : parseNonNegativeInteger(params.offset);
    if (typeof offset === 'number') entry.offset = offset;
    if (typeof limit === 'number') entry.limit = limit;

    const found = entry.method === 'GET' ? findRoute(path) : undefined;
    if (!found) {
      send(errorAnswer(404, 40401, 'Resource not found'), 'no-such-endpoint');
      return;
    }
    const { route } = found;
    if (route.requiredSignatureVersion && route.requiredSignatureVersion !== verification.signatureVersion) {
      send(errorAnswer(401, 40103, 'Invalid signature in request credentials'), 'v5-required');
      return;
    }
    if (!keys.get(verification.integrationKey)!.grants.includes(route.grant)) {
      send(errorAnswer(403, 40301, 'Access forbidden'), 'forbidden');
      return;
    }
    if (!rateLimit.allow(`${verification.integrationKey} ${route.path}`)) {
      send(errorAnswer(429, 42901, 'Too Many Requests'), 'rate-limited');
      return;
    }

    const forced = faults.endpointErrors?.[route.path];
    if (forced) {
      const left = forcedErrorsLeft.get(route.path) ?? forced.times ?? Infinity;
      if (left > 0) {
        forcedErrorsLeft.set(route.path, left - 1);
        const answer = errorAnswer(forced.status, forced.code, forced.message ?? defaultMessage(forced.status));
        send({ ...answer, location: forced.location }, 'forced-error');
        return;
      }
    }

    if (limit === null || limit === 0) {
      send(errorAnswer(400, 40002, 'Invalid request parameters', 'limit'));
      return;
    }
    if (offset === null) {
      send(errorAnswer(400, 40002, 'Invalid request parameters', 'offset'));
      return;
    }
    const context: RouteContext = { params, id: found.id, limit, offset };

    const faultApplies = !faults.faultPaths || faults.faultPaths.includes(route.path);
    if (faultApplies) {
      const roll = dice();
      const resetRate = faults.connectionResetRate ?? 0;
      const serverErrorRate = faults.serverErrorRate ?? 0;
      const tooManyRate = faults.tooManyRequestsRate ?? 0;
      const malformedRate = faults.malformedBodyRate ?? 0;
      if (roll < resetRate) {
        entry.reason = 'fault';
        request.socket.resetAndDestroy();
        return;
      }
      if (roll < resetRate + serverErrorRate) {
        send(errorAnswer(500, 50001, 'Unknown internal server error'), 'fault');
        return;
      }
      if (roll < resetRate + serverErrorRate + tooManyRate) {
        send(errorAnswer(429, 42901, 'Too Many Requests'), 'fault');
        return;
      }
      if (roll < resetRate + serverErrorRate + tooManyRate + malformedRate) {
        const body = Buffer.from(route.serve(context).body);
        send({ status: 200, body: body.subarray(0, Math.floor(body.length / 2)) }, 'fault');
        return;
      }
    }
    send(route.serve(context));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(errorAnswer(500, 50001, 'Unknown internal server error').body);
      }
      // A simulator bug must be visible, not silently turned into a 500.
      console.error('Duo simulator failed to answer a request:', error);
    });
  });
  server.keepAliveTimeout = 30_000;
  const url = await listen(server, options.port, options.host);

  return {
    url,
    apiHostname,
    integrationKey: firstKey.integrationKey,
    secretKey: firstKey.secretKey,
    clientOptions: {
      apiHostname,
      integrationKey: firstKey.integrationKey,
      secretKey: firstKey.secretKey,
      insecureBaseUrl: url,
    },
    get tenant() {
      return tenant;
    },
    requestLog,
    clearRequestLog: () => {
      requestLog.length = 0;
    },
    setFaults: (next) => {
      faults = next;
      forcedErrorsLeft = new Map();
    },
    setRateLimit: (requestsPerMinute, burst) => {
      rateLimit = makeRateLimit(requestsPerMinute, burst);
    },
    setLatency: (next) => {
      latencyMs = next;
    },
    setTenant: (next) => {
      if (next.apiHostname.toLowerCase() !== apiHostname) {
        throw new Error(`setTenant: the new tenant's apiHostname must stay ${apiHostname}; clients sign for it.`);
      }
      tenant = next;
      idIndexes.clear();
    },
    addIntegrationKey: (grants = DUO_GRANTS) => addKey(randomIntegrationKey(), randomSecretKey(), grants),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Duo's error envelope, spaced as Duo spaces it. */
function errorAnswer(status: number, code: number, message: string, detail?: string): Answer {
  const fields = [`"code": ${code}`, `"message": ${JSON.stringify(message)}`];
  if (detail !== undefined) fields.push(`"message_detail": ${JSON.stringify(detail)}`);
  fields.push('"stat": "FAIL"');
  return { status, code, body: `{${fields.join(', ')}}` };
}

function defaultMessage(status: number): string {
  switch (status) {
    case 401:
      return 'Invalid signature in request credentials';
    case 403:
      return 'Access forbidden';
    case 404:
      return 'Resource not found';
    case 429:
      return 'Too Many Requests';
    default:
      return status >= 500 ? 'Unknown internal server error' : 'Invalid request parameters';
  }
}

/** Token buckets per integration key and endpoint. */
function makeRateLimit(requestsPerMinute: number | undefined, burst: number | undefined) {
  if (requestsPerMinute === undefined) return { allow: (_bucket: string) => true };
  const perMs = requestsPerMinute / 60_000;
  const capacity = Math.max(1, burst ?? Math.ceil(requestsPerMinute / 60));
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    allow(bucketKey: string): boolean {
      const now = Date.now();
      const bucket = buckets.get(bucketKey) ?? { tokens: capacity, at: now };
      bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * perMs);
      bucket.at = now;
      buckets.set(bucketKey, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}

/** Seeded uniform numbers in [0, 1) for fault decisions. */
function seededDice(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable pseudo-random number per (offset, path), so short pages are reproducible. */
function hashOffset(offset: number, path: string): number {
  let hash = Math.imul(offset + 1, 2654435761) >>> 0;
  for (let i = 0; i < path.length; i++) hash = Math.imul(hash ^ path.charCodeAt(i), 16777619) >>> 0;
  return hash;
}

function parseNonNegativeInteger(value: string): number | null {
  return /^\d{1,9}$/.test(value) ? Number(value) : null;
}

/** Keeps the log bounded on long benchmark runs (the newest entries matter). */
const REQUEST_LOG_LIMIT = 200_000;
function pushLog(log: DuoRequestLogEntry[], entry: DuoRequestLogEntry): void {
  if (log.length >= REQUEST_LOG_LIMIT) log.splice(0, REQUEST_LOG_LIMIT / 2);
  log.push(entry);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Duo-looking integration key: `DI` + 18 upper-case letters and digits. */
function randomIntegrationKey(): string {
  return `DI${randomChars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 18)}`;
}

/** Duo-looking secret key: 40 letters and digits. */
function randomSecretKey(): string {
  return randomChars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 40);
}

function randomChars(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  let result = '';
  for (let i = 0; i < length; i++) result += alphabet[bytes[i]! % alphabet.length];
  return result;
}
