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
 * `?owner=system-mapper`, `GET /__sim/jobs`, `GET /__sim/requests`. The request log records method,
 * path, status, body size, object counts and correlation ids — never headers, so never the key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listen } from '../listen';
import { setTimeout as delay } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import {
  type PartialDatasets,
  type SyncJob,
  type SyncJobSource,
  type SyncJobStatus,
  SYNC_JOB_COUNTER_NAMES,
  type SyncJobCounters,
} from '../../jupiterone/types';
import { AccountGraph, finalizeIntoAccount, type HeldGraph, SYSTEM_MAPPER_SCOPE_KEY } from './graph';
import { HeldObject } from './held-object';
import { parseJsonObjectBody, UploadBodyError, type UploadBody, type UploadKind } from './upload-body';
import { UploadReaders, type UploadReaderOptions } from './upload-readers';

/** The persister's payload limit: AWS Lambda's 6 MiB request limit. */
export const SIMULATED_PAYLOAD_LIMIT_BYTES = 6_291_456;

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

const UPLOAD_ROUTES: readonly SimulatorRoute[] = ['upload-entities', 'upload-relationships', 'upload'];

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
  /** Answer 413 to upload bodies above this many bytes (a limit lower than the real one). */
  payloadLimitBytes?: number;
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
  /** Requests above this many bytes get 413. Default 6 MiB, as JupiterOne. */
  maxBodyBytes?: number;
  /**
   * How long a finalized job stays FINALIZE_PENDING before it is applied and FINISHED. 0 (the
   * default) finishes it within the finalize request.
   */
  finalizeDelayMs?: number;
  faults?: Partial<JupiterOneSimulatorFaults>;
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
  ignoreDuplicates?: boolean;
  /** API requests being handled when this one arrived, this one included. */
  concurrent: number;
  /** Size of the request body as received (compressed size when gzipped). */
  bodyBytes: number;
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

interface JobRecord {
  job: SyncJob & SyncJobCounters;
  account: string;
  scopeKey: string;
  entities: Map<string, HeldObject>;
  relationships: Map<string, HeldObject>;
  partialDatasets?: PartialDatasets;
  finalizeDueAt?: number;
  abortReason?: string;
  events: { name: string; description: string }[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const JOB_SOURCES: readonly SyncJobSource[] = ['api', 'integration-managed', 'integration-external', 'system-internal'];
const ABORT_STATUSES: readonly SyncJobStatus[] = ['ABORTED', 'ABORTED_DUE_TO_INVALID_CONFIGURATION', 'ERROR_BAD_DATA'];
const MAX_EVENTS_PER_JOB = 1000;
/** Bound on a gzipped body once decompressed, so a small request cannot exhaust memory. */
const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/** Small seeded PRNG (mulberry32): repeatable fault dice. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function routeOf(method: string, path: string): { route: SimulatorRoute; jobId?: string } {
  if (path.startsWith('/__sim/') && method === 'GET') return { route: 'inspect' };
  const base = '/persister/synchronization/jobs';
  if (path === base || path === `${base}/`) return { route: method === 'POST' ? 'start-job' : 'unknown' };
  if (!path.startsWith(`${base}/`)) return { route: 'unknown' };
  const parts = path.slice(base.length + 1).split('/');
  const jobId = decodeURIComponent(parts[0] ?? '');
  if (parts.length === 1) return { route: method === 'GET' ? 'get-job' : 'unknown', jobId };
  if (parts.length !== 2 || method !== 'POST') return { route: 'unknown', jobId };
  const action: Record<string, SimulatorRoute> = {
    entities: 'upload-entities',
    relationships: 'upload-relationships',
    upload: 'upload',
    finalize: 'finalize',
    abort: 'abort',
    events: 'events',
  };
  return { route: action[parts[1]] ?? 'unknown', jobId };
}

function newCounters(): SyncJobCounters {
  return Object.fromEntries(SYNC_JOB_COUNTER_NAMES.map((name) => [name, 0])) as unknown as SyncJobCounters;
}

function scopeKeyFor(selector: HeldGraphSelector): string {
  if ('integrationInstanceId' in selector) return `integration:${selector.integrationInstanceId}`;
  if ('scope' in selector) return `scope:${selector.scope}`;
  return SYSTEM_MAPPER_SCOPE_KEY;
}

export async function startJupiterOneSimulator(options: JupiterOneSimulatorOptions = {}): Promise<JupiterOneSimulator> {
  const apiKey = options.apiKey ?? `j1sim_${randomBytes(24).toString('hex')}`;
  const account = options.account ?? 'j1-simulated-account';
  const accounts = new Set([account, ...(options.otherAccounts ?? [])]);
  const maxBodyBytes = options.maxBodyBytes ?? SIMULATED_PAYLOAD_LIMIT_BYTES;
  const finalizeDelayMs = options.finalizeDelayMs ?? 0;
  const requestLogLimit = options.requestLogLimit ?? 100_000;
  let faults: JupiterOneSimulatorFaults = {
    serverErrorRate: 0,
    rateLimitRate: 0,
    connectionResetRate: 0,
    latencyMs: 0,
    seed: 1,
    ...options.faults,
  };
  let dice = seededRandom(faults.seed);
  const scheduled: { kind: ScheduledFault['kind']; count: number; route?: SimulatorRoute }[] = [];
  const graphs = new Map<string, AccountGraph>();
  const jobs = new Map<string, JobRecord>();
  const pendingFinalizations: JobRecord[] = [];
  const requestLog: SimulatorRequestLogEntry[] = [];
  let sequence = 0;
  let activeApiRequests = 0;
  const uploadReaders = new UploadReaders(options.uploadReaders);
  /** Settles once the latest upload so far is applied (or refused): uploads apply in arrival order. */
  let uploadsApplied: Promise<void> = Promise.resolve();

  const graphOf = (accountId: string): AccountGraph => {
    let graph = graphs.get(accountId);
    if (!graph) {
      graph = new AccountGraph();
      graphs.set(accountId, graph);
    }
    return graph;
  };

  /** Applies finalizations whose delay has passed, in the order they were requested. */
  const settle = (now = Date.now()): void => {
    while (pendingFinalizations.length > 0 && (pendingFinalizations[0].finalizeDueAt ?? 0) <= now) {
      const record = pendingFinalizations.shift() as JobRecord;
      const counters = finalizeIntoAccount(graphOf(record.account), {
        scopeKey: record.scopeKey,
        entities: record.entities,
        relationships: record.relationships,
        partialTypes: new Set(record.partialDatasets?.types ?? []),
      });
      Object.assign(record.job, counters, { status: 'FINISHED', done: true });
      // Uploaded objects are no longer needed once they are part of the held graph.
      record.entities = new Map();
      record.relationships = new Map();
    }
  };

  const jobFor = (jobId: string | undefined, accountId: string): JobRecord => {
    const record = jobId === undefined ? undefined : jobs.get(jobId);
    if (!record || record.account !== accountId) {
      throw new HttpError(404, 'JOB_NOT_FOUND', `No synchronization job ${JSON.stringify(jobId)} in this account.`);
    }
    return record;
  };

  const requireAwaitingUploads = (record: JobRecord, action: string): void => {
    if (record.job.status !== 'AWAITING_UPLOADS') {
      throw new HttpError(
        400,
        'JOB_NOT_AWAITING_UPLOADS',
        `Cannot ${action}: job ${record.job.id} is ${record.job.status}, not AWAITING_UPLOADS.`,
      );
    }
  };

  const startJob = (body: Record<string, unknown>, accountId: string): Answer => {
    const source = body.source as SyncJobSource;
    if (!JOB_SOURCES.includes(source)) {
      throw new HttpError(400, 'INVALID_SOURCE', `"source" must be one of ${JOB_SOURCES.join(', ')}.`);
    }
    if (body.syncMode !== undefined && body.syncMode !== 'DIFF') {
      throw new HttpError(
        400,
        'UNSUPPORTED_SYNC_MODE',
        body.syncMode === 'CREATE_OR_UPDATE'
          ? 'syncMode CREATE_OR_UPDATE is deprecated and no longer functions.'
          : `The simulator supports syncMode DIFF only, got ${JSON.stringify(body.syncMode)}.`,
      );
    }
    const scope = typeof body.scope === 'string' && body.scope !== '' ? body.scope : undefined;
    const instanceId =
      typeof body.integrationInstanceId === 'string' && body.integrationInstanceId !== ''
        ? body.integrationInstanceId
        : undefined;
    let scopeKey: string;
    if (source === 'api') {
      if (!scope)
        throw new HttpError(400, 'SCOPE_REQUIRED', 'A job with source "api" and syncMode DIFF needs a scope.');
      if (instanceId) {
        throw new HttpError(
          400,
          'INVALID_JOB_CONFIGURATION',
          'A job with source "api" must not name an integrationInstanceId.',
        );
      }
      scopeKey = `scope:${scope}`;
    } else {
      if (!instanceId) {
        throw new HttpError(
          400,
          'INTEGRATION_INSTANCE_REQUIRED',
          `A job with source "${source}" needs an integrationInstanceId.`,
        );
      }
      scopeKey = `integration:${instanceId}`;
    }
    const requestedId =
      typeof body.integrationJobId === 'string' && body.integrationJobId !== '' ? body.integrationJobId : undefined;
    const id = requestedId ?? randomUUID();
    if (jobs.has(id)) throw new HttpError(409, 'JOB_ALREADY_EXISTS', `Job ${id} already exists.`);
    const job: JobRecord['job'] = {
      id,
      source,
      status: 'AWAITING_UPLOADS',
      accountId,
      syncMode: 'DIFF',
      startTimestamp: Date.now(),
      done: false,
      ...newCounters(),
    };
    if (scope) job.scope = scope;
    if (instanceId) {
      job.integrationInstanceId = instanceId;
      job.integrationJobId = id;
    }
    jobs.set(id, {
      job,
      account: accountId,
      scopeKey,
      entities: new Map(),
      relationships: new Map(),
      events: [],
    });
    return { status: 200, body: { job: { ...job } } };
  };

  /**
   * Reads and validates a whole body before changing anything, so a refused upload leaves the job
   * unchanged. With ignoreDuplicates the latest copy of a key wins, as JupiterOne documents.
   */
  const upload = async (
    record: JobRecord,
    bytes: Buffer,
    kinds: readonly UploadKind[],
    ignoreDuplicates: boolean,
    entry: SimulatorRequestLogEntry,
  ): Promise<Answer> => {
    requireAwaitingUploads(record, 'upload');
    const reading = uploadReaders.read(bytes, kinds);
    const previous = uploadsApplied;
    let applied!: () => void;
    uploadsApplied = new Promise((resolve) => (applied = resolve));
    try {
      const read = await reading;
      await previous;
      // The job may have been finalized or aborted while the body was being read.
      requireAwaitingUploads(record, 'upload');
      return applyUpload(record, read.bytes, read.body, ignoreDuplicates, entry);
    } finally {
      applied();
    }
  };

  const applyUpload = (
    record: JobRecord,
    bytes: Buffer,
    body: UploadBody,
    ignoreDuplicates: boolean,
    entry: SimulatorRequestLogEntry,
  ): Answer => {
    const uploaded = Object.entries(body) as [UploadKind, NonNullable<(typeof body)[UploadKind]>][];
    if (!ignoreDuplicates) {
      for (const [kind, objects] of uploaded) {
        const held = record[kind];
        const seen = new Set<string>();
        for (const key of objects.keys) {
          if (held.has(key) || seen.has(key)) {
            throw new HttpError(400, 'DUPLICATE_KEY_DETECTED', `Duplicate _key detected (_key=${key}).`);
          }
          seen.add(key);
        }
      }
    }
    for (const [kind, objects] of uploaded) {
      const count = objects.keys.length;
      entry[kind] = count;
      const held = record[kind];
      for (let index = 0; index < count; index += 1) {
        held.set(objects.keys[index], HeldObject.uploaded(bytes, objects, index));
      }
      if (kind === 'entities') record.job.numEntitiesUploaded += count;
      else record.job.numRelationshipsUploaded += count;
    }
    return { status: 200, body: { job: { ...record.job } } };
  };

  const finalize = (record: JobRecord, body: Record<string, unknown>, entry: SimulatorRequestLogEntry): Answer => {
    requireAwaitingUploads(record, 'finalize');
    const partial = body.partialDatasets as { types?: unknown } | undefined;
    let types: string[] = [];
    if (partial !== undefined) {
      if (typeof partial !== 'object' || partial === null || !Array.isArray(partial.types)) {
        throw new HttpError(400, 'INVALID_PARTIAL_DATASETS', '"partialDatasets" must be { "types": string[] }.');
      }
      if (!partial.types.every((type) => typeof type === 'string')) {
        throw new HttpError(400, 'INVALID_PARTIAL_DATASETS', '"partialDatasets.types" must hold strings only.');
      }
      types = partial.types as string[];
    }
    entry.partialTypes = types;
    record.partialDatasets = { types };
    record.job.status = 'FINALIZE_PENDING';
    record.finalizeDueAt = Date.now() + finalizeDelayMs;
    pendingFinalizations.push(record);
    if (finalizeDelayMs <= 0) settle();
    return { status: 200, body: { job: { ...record.job } } };
  };

  const abort = (record: JobRecord, body: Record<string, unknown>): Answer => {
    if (record.job.status === 'ABORTED') return { status: 200, body: { job: { ...record.job } } };
    requireAwaitingUploads(record, 'abort');
    const terminal = body.terminalStatus as SyncJobStatus | undefined;
    if (terminal !== undefined && !ABORT_STATUSES.includes(terminal)) {
      throw new HttpError(
        400,
        'INVALID_TERMINAL_STATUS',
        `"terminalStatus" must be one of ${ABORT_STATUSES.join(', ')}.`,
      );
    }
    record.job.status = terminal ?? 'ABORTED';
    record.job.done = true;
    record.abortReason = typeof body.reason === 'string' ? body.reason : undefined;
    record.entities = new Map();
    record.relationships = new Map();
    return { status: 200, body: { job: { ...record.job } } };
  };

  const addEvents = (record: JobRecord, body: Record<string, unknown>): Answer => {
    if (!Array.isArray(body.events)) throw new HttpError(400, 'EVENTS_IS_NOT_ARRAY', '"events" should be an array');
    const stored = [];
    for (const event of body.events as { name?: unknown; description?: unknown }[]) {
      if (typeof event?.name !== 'string' || typeof event.description !== 'string') {
        throw new HttpError(400, 'INVALID_EVENT', 'Each event needs a string name and description.');
      }
      if (record.events.length < MAX_EVENTS_PER_JOB)
        record.events.push({ name: event.name, description: event.description });
      stored.push({ id: randomUUID(), name: event.name, description: event.description, createDate: Date.now() });
    }
    return { status: 200, body: { events: stored } };
  };

  const inspect = (url: URL, accountId: string): Answer => {
    if (url.pathname === '/__sim/graph') {
      const owner = url.searchParams.get('owner');
      const scope = url.searchParams.get('scope');
      const instanceId = url.searchParams.get('integrationInstanceId');
      const selector: HeldGraphSelector | undefined = instanceId
        ? { integrationInstanceId: instanceId }
        : scope
          ? { scope }
          : owner === 'system-mapper'
            ? { owner: 'system-mapper' }
            : undefined;
      if (!selector) {
        throw new HttpError(400, 'SELECTOR_REQUIRED', 'Give integrationInstanceId=…, scope=… or owner=system-mapper.');
      }
      return { status: 200, body: heldGraph({ ...selector, account: accountId }) };
    }
    if (url.pathname === '/__sim/jobs') {
      return { status: 200, body: { jobs: listJobs().filter((info) => info.account === accountId) } };
    }
    if (url.pathname === '/__sim/requests') return { status: 200, body: { requests: requestLog.slice() } };
    throw new HttpError(404, 'NOT_FOUND', `No inspection route ${url.pathname}.`);
  };

  const heldGraph = (selector: HeldGraphSelector): HeldGraph => {
    settle();
    const graph = graphs.get(selector.account ?? account)?.scopes.get(scopeKeyFor(selector));
    return graph ? graph.snapshot() : { entities: [], relationships: [], mappedRelationships: [] };
  };

  const listJobs = (): SimulatedJobInfo[] => {
    settle();
    return [...jobs.values()].map((record) =>
      structuredClone({
        job: record.job,
        account: record.account,
        scopeKey: record.scopeKey,
        partialDatasets: record.partialDatasets,
        abortReason: record.abortReason,
        events: record.events,
      }),
    );
  };

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

  /** The injected fault for this request, if any: scheduled ones first, then the dice. */
  const drawFault = (route: SimulatorRoute): ScheduledFault['kind'] | undefined => {
    const index = scheduled.findIndex((fault) => fault.route === undefined || fault.route === route);
    if (index >= 0) {
      const fault = scheduled[index];
      if (--fault.count <= 0) scheduled.splice(index, 1);
      return fault.kind;
    }
    if (faults.routes !== undefined && !faults.routes.includes(route)) return undefined;
    const roll = dice();
    if (roll < faults.connectionResetRate) return 'connection-reset';
    if (roll < faults.connectionResetRate + faults.serverErrorRate) return 'server-error';
    if (roll < faults.connectionResetRate + faults.serverErrorRate + faults.rateLimitRate) return 'rate-limit';
    return undefined;
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

  /** The body as sent, gunzipped when it says it is gzipped. */
  const decompressed = (req: IncomingMessage, buffer: Buffer): Buffer => {
    if ((req.headers['content-encoding'] ?? '').toLowerCase() !== 'gzip') return buffer;
    try {
      return gunzipSync(buffer, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
    } catch {
      throw new HttpError(400, 'INVALID_BODY', 'The gzipped body cannot be decompressed.');
    }
  };

  const record = (entry: SimulatorRequestLogEntry): void => {
    requestLog.push(entry);
    if (requestLog.length > requestLogLimit) requestLog.splice(0, requestLog.length - requestLogLimit);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
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
    if (UPLOAD_ROUTES.includes(route)) entry.ignoreDuplicates = url.searchParams.get('ignoreDuplicates') === 'true';

    const { bytes, buffer } = await readBody(req);
    entry.bodyBytes = bytes;
    if (route !== 'inspect' && faults.latencyMs > 0) await delay(faults.latencyMs);
    let answer: Answer;
    let fault: ScheduledFault['kind'] | undefined;
    try {
      settle();
      if (route === 'unknown') throw new HttpError(404, 'NOT_FOUND', `No route ${method} ${url.pathname}.`);
      const accountId = authenticate(req);
      if (route !== 'inspect') fault = drawFault(route);
      if (fault === 'connection-reset') {
        entry.fault = fault;
        record(entry);
        req.socket.destroy();
        return;
      }
      if (fault === 'server-error') throw new HttpError(500, 'INTERNAL_ERROR', 'Internal server error');
      if (fault === 'rate-limit') throw new HttpError(429, 'RATE_LIMIT_EXCEEDED', 'Too many requests');
      const limit = UPLOAD_ROUTES.includes(route)
        ? Math.min(maxBodyBytes, faults.payloadLimitBytes ?? Infinity)
        : maxBodyBytes;
      if (buffer === undefined || bytes > limit) {
        throw new HttpError(
          413,
          'RequestEntityTooLargeException',
          `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
        );
      }
      answer =
        route === 'inspect'
          ? inspect(url, accountId)
          : await dispatch(route, jobId, accountId, req, url, buffer, entry);
    } catch (caught) {
      const error = caught instanceof UploadBodyError ? new HttpError(400, caught.code, caught.message) : caught;
      if (!(error instanceof HttpError)) throw error;
      answer = { status: error.status, body: { error: { code: error.code, message: error.message } } };
      if (error.status === 429 && faults.retryAfterSeconds !== undefined) {
        answer.headers = { 'retry-after': String(faults.retryAfterSeconds) };
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

  const dispatch = (
    route: SimulatorRoute,
    jobId: string | undefined,
    accountId: string,
    req: IncomingMessage,
    url: URL,
    buffer: Buffer,
    entry: SimulatorRequestLogEntry,
  ): Answer | Promise<Answer> => {
    const bytes = decompressed(req, buffer);
    if (route === 'start-job') {
      const answer = startJob(parseJsonObjectBody(bytes), accountId);
      entry.jobId = (answer.body as { job: SyncJob }).job.id;
      return answer;
    }
    const job = jobFor(jobId, accountId);
    const ignoreDuplicates = url.searchParams.get('ignoreDuplicates') === 'true';
    switch (route) {
      case 'get-job':
        return { status: 200, body: { job: { ...job.job } } };
      case 'upload-entities':
        return upload(job, bytes, ['entities'], ignoreDuplicates, entry);
      case 'upload-relationships':
        return upload(job, bytes, ['relationships'], ignoreDuplicates, entry);
      case 'upload':
        return upload(job, bytes, ['entities', 'relationships'], ignoreDuplicates, entry);
      case 'finalize':
        return finalize(job, parseJsonObjectBody(bytes), entry);
      case 'abort':
        return abort(job, parseJsonObjectBody(bytes));
      case 'events':
        return addEvents(job, parseJsonObjectBody(bytes));
      default:
        throw new HttpError(404, 'NOT_FOUND', `No route ${req.method} ${url.pathname}.`);
    }
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
    heldGraph,
    jobs: listJobs,
    setFaults: (next) => {
      faults = { ...faults, ...next };
      if (next.seed !== undefined) dice = seededRandom(next.seed);
    },
    scheduleFault: (fault) => {
      scheduled.push({ kind: fault.kind, count: fault.count ?? 1, route: fault.route });
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      await uploadReaders.close();
    },
  };
}

/**
 * What `duo-j1 simulate jupiterone` runs: starts the simulator and prints one JSON line
 * `{ "url", "apiKey", "account" }` once it listens, so scripts can read its address and test key.
 */
export async function runJupiterOneSimulatorCommand(
  options: JupiterOneSimulatorOptions = {},
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<JupiterOneSimulator> {
  const simulator = await startJupiterOneSimulator(options);
  print(JSON.stringify({ url: simulator.url, apiKey: simulator.apiKey, account: simulator.account }));
  return simulator;
}
