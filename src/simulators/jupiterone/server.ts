/**
 * A local JupiterOne synchronization API: a real HTTP server that behaves like the persister
 * endpoints the product uses, so that delivery can be demonstrated, tested and benchmarked without a
 * JupiterOne account.
 *
 * Served under `/persister/synchronization/jobs`: create, get, `entities`, `relationships`,
 * `upload` (both kinds in one body), `finalize`, `abort`, `events`. Jobs move AWAITING_UPLOADS →
 * FINALIZE_PENDING → FINISHED (or ABORTED). Requests need `Authorization: Bearer <apiKey>` and the
 * account in `JupiterOne-Account` (or the legacy `LifeOmic-Account` JupiterOne's own CLI sends).
 *
 * Inspection (same headers): `GET /__sim/graph?integrationInstanceId=…` | `?scope=…` |
 * `?owner=system-mapper`, `GET /__sim/jobs`, `GET /__sim/requests`. Faults are read and replaced on
 * the loopback-only control route `/__sim/faults` (control-route.ts). The request log records method,
 * path, status, body size, object counts, correlation ids and user agents — never the credentials.
 *
 * This file holds the simulator's shapes and its request pipeline (route, authenticate, inject
 * faults, enforce the payload limit, answer); the routes are in routes.ts, the jobs and the held
 * graphs in jobs.ts and graph.ts, fault decisions in faults.ts.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { JUPITERONE_PAYLOAD_LIMIT_BYTES } from '../../jupiterone/batching';
import type { PartialDatasets, SyncJob } from '../../jupiterone/types';
import { listen } from '../listen';
import { HttpError, type JupiterOneAnswer } from './answers';
import { decodeRequestBody, payloadTooLarge } from './content-encoding';
import { isControlRequest, serveFaultsControl, type FaultsControl } from '../control-route';
import { JupiterOneFaultInjector, parseJupiterOneFaultSettings, type JupiterOneFaultSettings } from './faults';
import type { HeldGraph } from './graph';
import { SyncJobs } from './jobs';
import { routeOf, serveInspection, serveSyncApi, UPLOAD_ROUTES } from './routes';
import { UploadBodyError } from './upload-body';
import { UploadReaders, type UploadReaderOptions } from './upload-readers';

export type SimulatorRoute =
  | 'start-job'
  | 'get-job'
  | 'upload-entities'
  | 'upload-relationships'
  | 'upload'
  | 'finalize'
  | 'abort'
  | 'events'
  | 'inspect'
  | 'unknown';

/** Failures the simulator can inject, on top of its normal answers. */
export interface JupiterOneSimulatorFaults {
  /** Share (0–1) of API requests answered 500 INTERNAL_ERROR. */
  serverErrorRate: number;
  /** Share (0–1) of API requests answered 429. */
  rateLimitRate: number;
  /** Share (0–1) of API requests whose connection is destroyed without an answer. */
  connectionResetRate: number;
  /** Extra delay before each API request is handled, to model a distant server. */
  latencyMs: number;
  /** `Retry-After` seconds on injected 429s; none when undefined. */
  retryAfterSeconds?: number;
  /** Answer 413 to upload bodies above this many bytes once decoded (a limit lower than the real one). */
  payloadLimitBytes?: number;
  /**
   * Answer every request to the events route (the job log) with this error status, e.g. 503: the
   * job log is down while everything else works.
   */
  eventsErrorStatus?: number;
  /** Routes the random faults apply to; every API route when undefined. */
  routes?: SimulatorRoute[];
  /** Seed of the fault dice, so a run with faults can be repeated. */
  seed: number;
}

/**
 * A fault for the next matching requests, deterministically. `reset-after-processing` handles the
 * request (its effect happens) and then drops the connection, as when an answer is lost.
 */
export interface ScheduledFault {
  kind: 'server-error' | 'rate-limit' | 'connection-reset' | 'reset-after-processing';
  /** How many matching requests get it. Default 1. */
  count?: number;
  /** Only requests to this route; any API route when undefined. */
  route?: SimulatorRoute;
}

export interface JupiterOneSimulatorOptions {
  /** Default 127.0.0.1; the simulator holds personal data and is meant for loopback. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Default: a random key, returned by the start function. */
  apiKey?: string;
  /** Default `j1-simulated-account`. */
  account?: string;
  /** More account ids the same key may write to; each has its own graph. */
  otherAccounts?: string[];
  /**
   * The integration instances the account has. When given, a job for any other instance id is
   * refused as JupiterOne refuses one (404 INTEGRATION_INSTANCE_NOT_FOUND); by default every id is
   * taken to exist.
   */
  integrationInstanceIds?: string[];
  /** Request bodies above this many bytes, once decoded, get 413. Default 6 MiB, as JupiterOne. */
  maxBodyBytes?: number;
  /**
   * How long a finalized job stays FINALIZE_PENDING before it is applied and FINISHED. 0 (the
   * default) finishes it within the finalize request.
   */
  finalizeDelayMs?: number;
  faults?: Partial<JupiterOneSimulatorFaults>;
  /** Faults queued for the first matching requests, as `scheduleFault` queues them. */
  scheduledFaults?: ScheduledFault[];
  /** How upload bodies are read: large ones on threads by default. */
  uploadReaders?: UploadReaderOptions;
  /** Oldest entries are dropped beyond this many. Default 100,000. */
  requestLogLimit?: number;
}

export interface SimulatorRequestLogEntry {
  seq: number;
  time: number;
  method: string;
  /** Path without query string. */
  path: string;
  route: SimulatorRoute;
  /** HTTP status answered; 0 when the connection was reset instead. */
  status: number;
  errorCode?: string;
  jobId?: string;
  correlationId?: string;
  /** The `User-Agent` the request carried, if any. */
  userAgent?: string;
  ignoreDuplicates?: boolean;
  /** API requests being handled when this one arrived, this one included. */
  concurrent: number;
  /** Size of the request body as received (compressed size when gzipped). */
  bodyBytes: number;
  /** The request's `Content-Encoding`, when it had one. */
  contentEncoding?: string;
  /** Size of the body once decoded (what the payload limit applies to), when it could be decoded. */
  decodedBytes?: number;
  entities?: number;
  relationships?: number;
  /** The partial types a finalize request carried. */
  partialTypes?: string[];
  fault?: string;
}

/** A job with what the simulator knows about it beyond the API's job object. */
export interface SimulatedJobInfo {
  job: SyncJob;
  account: string;
  /** `integration:<id>` or `scope:<scope>`: the part of the graph the job replaces. */
  scopeKey: string;
  partialDatasets?: PartialDatasets;
  abortReason?: string;
  events: { name: string; description: string }[];
  /**
   * The distinct objects (by `_key`) the job held per `_type` when it was finalized: what the
   * finalize replaced each type's objects with. Absent for jobs not finalized.
   */
  finalizedObjects?: Record<string, number>;
}

/** Which held part of an account's graph to read. */
export type HeldGraphSelector = ({ integrationInstanceId: string } | { scope: string } | { owner: 'system-mapper' }) & {
  account?: string;
};

export interface JupiterOneSimulator {
  /** Base URL to give the client, e.g. `http://127.0.0.1:50123`. */
  readonly url: string;
  readonly apiKey: string;
  readonly account: string;
  /** A copy of the request log, oldest first. */
  requestLog(): SimulatorRequestLogEntry[];
  clearRequestLog(): void;
  /** A copy of one part of an account's graph (after applying every due finalization). */
  heldGraph(selector: HeldGraphSelector): HeldGraph;
  /** Copies of every job, oldest first. */
  jobs(): SimulatedJobInfo[];
  /** Replaces the given fault settings (others keep their value). */
  setFaults(faults: Partial<JupiterOneSimulatorFaults>): void;
  /** Queues deterministic faults for the next matching requests. */
  scheduleFault(fault: ScheduledFault): void;
  close(): Promise<void>;
}

export async function startJupiterOneSimulator(options: JupiterOneSimulatorOptions = {}): Promise<JupiterOneSimulator> {
  const apiKey = options.apiKey ?? `j1sim_${randomBytes(24).toString('hex')}`;
  const account = options.account ?? 'j1-simulated-account';
  const accounts = new Set([account, ...(options.otherAccounts ?? [])]);
  const maxBodyBytes = options.maxBodyBytes ?? JUPITERONE_PAYLOAD_LIMIT_BYTES;
  const requestLogLimit = options.requestLogLimit ?? 100_000;
  const faults = new JupiterOneFaultInjector(options.faults);
  for (const fault of options.scheduledFaults ?? []) faults.schedule(fault);
  const uploadReaders = new UploadReaders(options.uploadReaders);
  const jobs = new SyncJobs(
    account,
    options.finalizeDelayMs ?? 0,
    uploadReaders,
    options.integrationInstanceIds ? new Set(options.integrationInstanceIds) : undefined,
  );
  const requestLog: SimulatorRequestLogEntry[] = [];
  let sequence = 0;
  let activeApiRequests = 0;

  const authenticate = (req: IncomingMessage): string => {
    const authorization = req.headers.authorization ?? '';
    const accountHeader = req.headers['jupiterone-account'] ?? req.headers['lifeomic-account'];
    const accountId = Array.isArray(accountHeader) ? accountHeader[0] : accountHeader;
    if (authorization !== `Bearer ${apiKey}`) {
      throw new HttpError(401, 'UNAUTHORIZED', 'Missing or invalid bearer token.');
    }
    if (!accountId || !accounts.has(accountId)) {
      throw new HttpError(401, 'UNAUTHORIZED', 'Missing or unknown JupiterOne-Account header for this API key.');
    }
    return accountId;
  };

  const readBody = async (req: IncomingMessage): Promise<{ bytes: number; buffer?: Buffer }> => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      // Past the limit the body is drained but not kept: the answer will be 413.
      if (bytes <= maxBodyBytes) chunks.push(chunk);
    }
    return { bytes, buffer: bytes <= maxBodyBytes ? Buffer.concat(chunks) : undefined };
  };

  const record = (entry: SimulatorRequestLogEntry): void => {
    requestLog.push(entry);
    if (requestLog.length > requestLogLimit) requestLog.splice(0, requestLog.length - requestLogLimit);
  };

  const control: FaultsControl<JupiterOneFaultSettings> = {
    current: () => faults.settings(),
    parse: parseJupiterOneFaultSettings,
    replace: (next) => faults.replaceAll(next),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (isControlRequest(req.url)) return serveFaultsControl(req, res, control);
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const { route, jobId } = routeOf(method, url.pathname);
    if (route === 'inspect') return handleRequest(req, res, method, url, route, jobId, 0);
    activeApiRequests++;
    try {
      await handleRequest(req, res, method, url, route, jobId, activeApiRequests);
    } finally {
      activeApiRequests--;
    }
  };

  const handleRequest = async (
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    route: SimulatorRoute,
    jobId: string | undefined,
    concurrent: number,
  ): Promise<void> => {
    const correlation = req.headers['jupiterone-correlation-id'];
    const entry: SimulatorRequestLogEntry = {
      seq: ++sequence,
      time: Date.now(),
      method,
      path: url.pathname,
      route,
      status: 0,
      concurrent,
      bodyBytes: 0,
    };
    if (jobId !== undefined) entry.jobId = jobId;
    if (typeof correlation === 'string') entry.correlationId = correlation;
    if (req.headers['user-agent'] !== undefined) entry.userAgent = req.headers['user-agent'];
    if (req.headers['content-encoding'] !== undefined) entry.contentEncoding = req.headers['content-encoding'];
    if (UPLOAD_ROUTES.includes(route)) entry.ignoreDuplicates = url.searchParams.get('ignoreDuplicates') === 'true';

    const { bytes, buffer } = await readBody(req);
    entry.bodyBytes = bytes;
    if (route !== 'inspect' && faults.faults.latencyMs > 0) await delay(faults.faults.latencyMs);
    let answer: JupiterOneAnswer;
    let fault: ScheduledFault['kind'] | undefined;
    try {
      jobs.settle();
      if (route === 'unknown') throw new HttpError(404, 'NOT_FOUND', `No route ${method} ${url.pathname}.`);
      const accountId = authenticate(req);
      if (route !== 'inspect') fault = faults.draw(route);
      if (fault === 'connection-reset') {
        entry.fault = fault;
        record(entry);
        req.socket.destroy();
        return;
      }
      if (fault === 'server-error') throw new HttpError(500, 'INTERNAL_ERROR', 'Internal server error');
      if (fault === 'rate-limit') throw new HttpError(429, 'RATE_LIMIT_EXCEEDED', 'Too many requests');
      const { eventsErrorStatus } = faults.faults;
      if (route === 'events' && eventsErrorStatus !== undefined) {
        entry.fault = 'events-error-status';
        throw new HttpError(eventsErrorStatus, 'EVENTS_UNAVAILABLE', 'The job log is not available.');
      }
      const limit = UPLOAD_ROUTES.includes(route)
        ? Math.min(maxBodyBytes, faults.faults.payloadLimitBytes ?? Infinity)
        : maxBodyBytes;
      if (buffer === undefined) throw payloadTooLarge(limit);
      // The limit applies to the decoded body, as behind JupiterOne's API Gateway (content-encoding.ts).
      const body = await decodeRequestBody(entry.contentEncoding, buffer, limit);
      entry.decodedBytes = body.length;
      answer =
        route === 'inspect'
          ? serveInspection(jobs, () => requestLog.slice(), url, accountId)
          : await serveSyncApi(jobs, { route, jobId, accountId, req, url, body, entry });
    } catch (caught) {
      const error = caught instanceof UploadBodyError ? new HttpError(400, caught.code, caught.message) : caught;
      if (!(error instanceof HttpError)) throw error;
      answer = { status: error.status, body: { error: { code: error.code, message: error.message } } };
      const { retryAfterSeconds } = faults.faults;
      if (error.status === 429 && retryAfterSeconds !== undefined) {
        answer.headers = { 'retry-after': String(retryAfterSeconds) };
      }
      entry.errorCode = error.code;
    }
    if (fault) entry.fault = fault;
    entry.status = answer.status;
    record(entry);
    if (fault === 'reset-after-processing') {
      entry.status = 0;
      req.socket.destroy();
      return;
    }
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...answer.headers,
    });
    res.end(text);
  };

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // An unexpected failure inside the simulator is answered like JupiterOne's own.
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } }));
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const url = await listen(server, options.port, options.host);

  return {
    url,
    apiKey,
    account,
    requestLog: () => requestLog.map((entry) => ({ ...entry })),
    clearRequestLog: () => {
      requestLog.length = 0;
    },
    heldGraph: (selector) => jobs.heldGraph(selector),
    jobs: () => jobs.list(),
    setFaults: (next) => faults.update(next),
    scheduleFault: (fault) => faults.schedule(fault),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      await uploadReaders.close();
    },
  };
}
