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
 * paging metadata, each settable while the simulator runs through the loopback-only control route
 * `/__sim/faults` (control-route.ts). Every request is written to a request log (never with
 * credentials).
 *
 * This file holds the simulator's shapes and its request pipeline (verify the signature, find the
 * route, check the grant and the rate limit, inject faults, answer); the routes and paging are in
 * routes.ts, the served tenant and the integration keys in state.ts, fault decisions in faults.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../listen';
import type { DuoGrant } from '../../resources/table';
import type { DuoSignatureVersion } from '../../duo/signing';
import { defaultDuoMessage, duoErrorAnswer, type DuoAnswer } from './answers';
import { isControlRequest, serveFaultsControl, type FaultsControl } from '../control-route';
import { DuoFaultInjector, parseDuoSimulatorFaults } from './faults';
import {
  AdministrationLogStream,
  TrustMonitorStream,
  type AdministrationLogOptions,
  type TrustMonitorOptions,
} from './administration-log';
import { AuthenticationLogStream, type AuthenticationLogOptions } from './authentication-log';
import { duoRateLimit } from './rate-limit';
import { DuoRoutes, type DuoRouteRequest } from './routes';
import { verifyDuoRequest, type DuoRejection } from './signature-verifier';
import { IntegrationKeys, ServedTenant, type DuoSimulatorKey } from './state';
import { generateTenant, type DuoTenant } from './tenant-generator';

export type { DuoSimulatorKey } from './state';

/** How a list endpoint's paging metadata can be broken on purpose. */
export type DuoPagingAnomaly =
  /** No `metadata` object at all. */
  | 'missing-metadata'
  /** `next_offset` equal to the requested offset. */
  | 'stuck-offset'
  /** No records, but a `next_offset` as if more followed. */
  | 'empty-page'
  /**
   * No `next_offset`, as if this page were the last, while `total_objects` still counts every
   * record: the list ends short of what it announces.
   */
  | 'ends-early';

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
  /**
   * Send `Retry-After` (whole seconds until the bucket holds a token) with the limit's 429s. Duo
   * sends none; this is for seeing that a client honours one should it appear.
   */
  rateLimitRetryAfter?: boolean;
  /**
   * Requests per minute per integration key on each log endpoint, instead of `requestsPerMinute`
   * (Duo limits its logs far more tightly); undefined = unlimited. Bucket of one request.
   */
  logRequestsPerMinute?: number;
  /** The authentication log's rate, history and availability delay. */
  authenticationLog?: AuthenticationLogOptions;
  /** The administrator and activity logs' rate, history, delay and administrator log page size. */
  administrationLog?: AdministrationLogOptions;
  /** Trust Monitor's rate, history, delay, and whether the account's edition has it. */
  trustMonitor?: TrustMonitorOptions;
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
  /** The `User-Agent` the request carried, if any. */
  userAgent?: string;
  /** Why the request was refused or disturbed. */
  reason?: DuoRejection | 'no-such-endpoint' | 'v5-required' | 'forbidden' | 'rate-limited' | 'forced-error' | 'fault';
  /** Records returned by a list page. */
  records?: number;
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
  /** The authentication log it serves (tests compute what a reader should have seen from it). */
  readonly authenticationLog: AuthenticationLogStream;
  /** The administrators' actions its administrator and activity logs serve. */
  readonly administrationLog: AdministrationLogStream;
  /** The Trust Monitor events it serves. */
  readonly trustMonitor: TrustMonitorStream;
  /** Every request so far, oldest first. */
  readonly requestLog: readonly DuoRequestLogEntry[];
  clearRequestLog(): void;
  /** Replaces all fault settings (`{}` clears them). */
  setFaults(faults: DuoSimulatorFaults): void;
  /** Changes the rate limit (undefined = unlimited); buckets start full again. */
  setRateLimit(requestsPerMinute: number | undefined, burst?: number): void;
  /** Changes the log endpoints' rate limit (undefined = unlimited). */
  setLogRateLimit(requestsPerMinute: number | undefined): void;
  setLatency(latencyMs: number): void;
  /** Serves another tenant from now on (same API hostname required, since clients sign for it). */
  setTenant(tenant: DuoTenant): void;
  /** Creates another integration key with the given grants (default: all). */
  addIntegrationKey(grants?: readonly DuoGrant[]): DuoSimulatorKey;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Starts a simulator listening on loopback; resolves once it accepts connections. */
export async function startDuoSimulator(options: DuoSimulatorOptions = {}): Promise<DuoSimulator> {
  const served = new ServedTenant(
    options.tenant ?? generateTenant({ users: options.users ?? 25, seed: options.seed ?? 1 }),
  );
  const apiHostname = served.apiHostname;
  const keys = new IntegrationKeys();
  const firstKey = keys.add(options.integrationKey, options.secretKey, options.grants);
  let latencyMs = options.latencyMs ?? 0;
  let rateLimit = duoRateLimit(options.requestsPerMinute, options.rateLimitBurst);
  let logRateLimit = duoRateLimit(options.logRequestsPerMinute, 1);
  const faults = new DuoFaultInjector(options.faults, options.faultSeed ?? 1);
  const authenticationLog = new AuthenticationLogStream(() => served.tenant, {
    seed: options.seed ?? 1,
    ...options.authenticationLog,
  });
  const administrationLog = new AdministrationLogStream(() => served.tenant, {
    seed: options.seed ?? 1,
    ...options.administrationLog,
  });
  const trustMonitor = new TrustMonitorStream(() => served.tenant, {
    seed: options.seed ?? 1,
    ...options.trustMonitor,
  });
  const routes = new DuoRoutes(served, faults, authenticationLog, administrationLog, trustMonitor);
  const maxClockSkewMs = (options.maxClockSkewSeconds ?? 300) * 1000;
  const requestLog: DuoRequestLogEntry[] = [];

  const control: FaultsControl<DuoSimulatorFaults> = {
    current: () => faults.faults,
    parse: parseDuoSimulatorFaults,
    replace: (next) => faults.replace(next),
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (isControlRequest(request.url)) return serveFaultsControl(request, response, control);
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
    if (request.headers['user-agent'] !== undefined) entry.userAgent = request.headers['user-agent'];
    pushLog(requestLog, entry);

    const send = (answer: DuoAnswer, reason?: DuoRequestLogEntry['reason']) => {
      entry.status = answer.status;
      if (answer.code !== undefined) entry.code = answer.code;
      if (answer.records !== undefined) entry.records = answer.records;
      if (reason) entry.reason = reason;
      response.writeHead(answer.status, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        server: 'Duo/1.0 (duo-j1 simulator)',
        ...(answer.location ? { location: answer.location } : {}),
        ...(answer.retryAfter ? { 'retry-after': answer.retryAfter } : {}),
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
      if (verification.integrationKey && keys.get(verification.integrationKey)) {
        entry.integrationKey = verification.integrationKey;
      }
      send(duoErrorAnswer(verification.status, verification.code, verification.message), verification.rejection);
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

    const found = entry.method === 'GET' ? routes.find(path) : undefined;
    if (!found) {
      send(duoErrorAnswer(404, 40401, 'Resource not found'), 'no-such-endpoint');
      return;
    }
    const { route } = found;
    if (route.requiredSignatureVersion && route.requiredSignatureVersion !== verification.signatureVersion) {
      send(duoErrorAnswer(401, 40103, 'Invalid signature in request credentials'), 'v5-required');
      return;
    }
    if (!keys.get(verification.integrationKey)!.grants.includes(route.grant)) {
      send(duoErrorAnswer(403, 40301, 'Access forbidden'), 'forbidden');
      return;
    }
    const bucketKey = `${verification.integrationKey} ${route.path}`;
    const limiter = route.grant === 'Grant read log' ? logRateLimit : rateLimit;
    if (!limiter.allow(bucketKey)) {
      const retryAfter = options.rateLimitRetryAfter
        ? String(Math.ceil(limiter.msUntilToken(bucketKey) / 1000))
        : undefined;
      send({ ...duoErrorAnswer(429, 42901, 'Too Many Requests'), retryAfter }, 'rate-limited');
      return;
    }

    const forced = faults.forcedError(route.path);
    if (forced) {
      const answer = duoErrorAnswer(forced.status, forced.code, forced.message ?? defaultDuoMessage(forced.status));
      send({ ...answer, location: forced.location }, 'forced-error');
      return;
    }

    if (limit === null || limit === 0) {
      send(duoErrorAnswer(400, 40002, 'Invalid request parameters', 'limit'));
      return;
    }
    if (offset === null) {
      send(duoErrorAnswer(400, 40002, 'Invalid request parameters', 'offset'));
      return;
    }
    const routeRequest: DuoRouteRequest = { params, id: found.id, limit, offset };

    switch (faults.randomFault(route.path)) {
      case 'connection-reset':
        entry.reason = 'fault';
        request.socket.resetAndDestroy();
        return;
      case 'server-error':
        send(duoErrorAnswer(500, 50001, 'Unknown internal server error'), 'fault');
        return;
      case 'too-many-requests':
        send(duoErrorAnswer(429, 42901, 'Too Many Requests'), 'fault');
        return;
      case 'malformed-body': {
        const whole = Buffer.from(route.serve(routeRequest).body);
        send({ status: 200, body: whole.subarray(0, Math.floor(whole.length / 2)) }, 'fault');
        return;
      }
      case undefined:
        send(route.serve(routeRequest));
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(duoErrorAnswer(500, 50001, 'Unknown internal server error').body);
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
      return served.tenant;
    },
    authenticationLog,
    administrationLog,
    trustMonitor,
    requestLog,
    clearRequestLog: () => {
      requestLog.length = 0;
    },
    setFaults: (next) => faults.replace(next),
    setRateLimit: (requestsPerMinute, burst) => {
      rateLimit = duoRateLimit(requestsPerMinute, burst);
    },
    setLogRateLimit: (requestsPerMinute) => {
      logRateLimit = duoRateLimit(requestsPerMinute, 1);
    },
    setLatency: (next) => {
      latencyMs = next;
    },
    setTenant: (next) => served.replace(next),
    addIntegrationKey: (grants) => keys.add(undefined, undefined, grants),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
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
