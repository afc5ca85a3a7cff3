/**
 * The benchmark's arithmetic: options, the fastest possible fetch of a tenant under the
 * simulator's latency and rate limit, and the one JSON line of figures. Pure functions only, so
 * the numbers the benchmark reports can be checked without running anything.
 *
 * The lower bound (documented with a worked example in docs/benchmarks.md):
 *
 * - An endpoint with `records` records and a maximum page size `m` needs
 *   `pages = max(1, ceil(records / m))` requests (an empty list still costs one request; an object
 *   endpoint costs one). Its pages are strictly sequential: each request needs the previous
 *   answer's `next_offset`.
 * - Latency bound: the simulator waits `L` before every answer, so the pages take at least
 *   `pages × L`.
 * - Rate bound: the simulator's token bucket for the endpoint starts full with `B` tokens and
 *   refills at `r` per minute. By the time the k-th request passes, at most
 *   `B + r·(t_k − t_1)` may have passed, so `t_pages ≥ t_1 + (pages − B) / r`; the first request is
 *   itself answered only after `L`. Hence `L + max(0, pages − B) × 60 / r` seconds.
 * - An endpoint needs at least the larger of the two. A resource reads its endpoints one after
 *   another (the account: settings, then the info summary), so its bound is their sum. Resources
 *   are fetched in parallel, each endpoint with its own bucket, so the tenant's bound is the
 *   largest resource bound.
 *
 * Processing, transfer and scheduling time are left out, which is what makes it a lower bound:
 * no client, however fast, can fetch the tenant from that simulator in less.
 */
import { ConfigurationError, type ConfigurationProblem } from '../config/errors';
import { RESOURCE_NAMES, endpointsReadBy, type DuoEndpoint } from '../resources/table';
import type { ChangeCounts, DuoIngestionResult } from '../workflows/contract';

export type BenchTarget = 'local' | 'jupiterone';
export type BenchClientBudget = 'match' | 'default' | number;

/** Object counts of the generated tenant; omitted ones follow the generator's proportions. */
export interface BenchTenantCounts {
  phones?: number;
  tokens?: number;
  webauthn?: number;
  groups?: number;
  admins?: number;
  integrations?: number;
  bypassCodes?: number;
  endpoints?: number;
  policies?: number;
  adminUnits?: number;
}

export interface BenchOptions {
  users: number;
  target: BenchTarget;
  latencyMs: number;
  /** List requests per minute per endpoint in the simulator; 0 = unlimited. */
  rateLimit: number;
  /**
   * The instance's `requestsPerMinute`: `match` sets it to the simulator's limit (unlimited: so high
   * it never delays a request), `default` leaves it unset (the client's adaptive budget, as a
   * product installed with default settings runs), a number sets that explicit cap.
   */
  clientBudget: BenchClientBudget;
  seed: number;
  counts: BenchTenantCounts;
  /**
   * Authentications per user in the day of Duo's authentication log the log tail reads before the
   * run (`--log-auths-per-user`); 0 = logs off (the default).
   */
  logAuthsPerUser: number;
  /**
   * The instance's `compressUploads` for the jupiterone target (`--compress-uploads on|off`, default
   * on, as installed): off measures the delivery as it was before uploads were gzipped.
   */
  compressUploads: boolean;
  /**
   * Run one ingestion before the measured one (`--previous-run on|off`, default off): the measured
   * run is then a schedule's every run after its first, comparing with (and replacing) the output
   * the first left; off measures a first run.
   */
  previousRun: boolean;
}

/** The flags of `duo-j1 bench`, as commander hands them over (strings). */
export interface BenchFlags {
  users?: string;
  target?: string;
  latencyMs?: string;
  rateLimit?: string;
  clientBudget?: string;
  seed?: string;
  phones?: string;
  tokens?: string;
  webauthn?: string;
  groups?: string;
  admins?: string;
  integrations?: string;
  bypassCodes?: string;
  endpoints?: string;
  policies?: string;
  adminUnits?: string;
  logAuthsPerUser?: string;
  compressUploads?: string;
  previousRun?: string;
}

const COUNT_FLAGS = [
  'phones',
  'tokens',
  'webauthn',
  'groups',
  'admins',
  'integrations',
  'bypassCodes',
  'endpoints',
  'policies',
  'adminUnits',
] as const;

/** `bypassCodes` → `--bypass-codes`, the flag as typed. */
function flagName(name: string): string {
  return `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Reads the bench flags; throws one ConfigurationError listing every bad flag, each by name. */
export function parseBenchOptions(flags: BenchFlags): BenchOptions {
  const problems: ConfigurationProblem[] = [];
  const wholeNumber = (value: string | undefined, flag: string, fallback: number, min: number): number => {
    if (value === undefined || value === '') return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) {
      problems.push({ setting: flag, message: `must be a whole number of at least ${min}, not "${value}"` });
      return fallback;
    }
    return parsed;
  };
  const users = wholeNumber(flags.users, '--users', 10_000, 1);
  const latencyMs = wholeNumber(flags.latencyMs, '--latency-ms', 20, 0);
  const rateLimit = wholeNumber(flags.rateLimit, '--rate-limit', 0, 0);
  const seed = wholeNumber(flags.seed, '--seed', 1, 0);
  const clientBudget = parseClientBudget(flags.clientBudget, problems);
  const logAuthsPerUser = wholeNumber(flags.logAuthsPerUser, '--log-auths-per-user', 0, 0);
  const compress = flags.compressUploads ?? 'on';
  if (compress !== 'on' && compress !== 'off') {
    problems.push({ setting: '--compress-uploads', message: `must be on or off, not "${compress}"` });
  }
  const previousRun = flags.previousRun ?? 'off';
  if (previousRun !== 'on' && previousRun !== 'off') {
    problems.push({ setting: '--previous-run', message: `must be on or off, not "${previousRun}"` });
  }
  const target = flags.target ?? 'local';
  if (target !== 'local' && target !== 'jupiterone') {
    problems.push({ setting: '--target', message: `must be local or jupiterone, not "${target}"` });
  }
  const counts: BenchTenantCounts = {};
  for (const name of COUNT_FLAGS) {
    if (flags[name] !== undefined) counts[name] = wholeNumber(flags[name], flagName(name), 0, 0);
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  return {
    users,
    target: target as BenchTarget,
    latencyMs,
    rateLimit,
    clientBudget,
    seed,
    counts,
    logAuthsPerUser,
    compressUploads: compress !== 'off',
    previousRun: previousRun === 'on',
  };
}

function parseClientBudget(value: string | undefined, problems: ConfigurationProblem[]): BenchClientBudget {
  if (value === undefined || value === '' || value === 'match') return 'match';
  if (value === 'default') return 'default';
  const parsed = Number(value);
  if (Number.isInteger(parsed) && parsed >= 1) return parsed;
  problems.push({
    setting: '--client-budget',
    message: `must be match, default or a whole number of requests per minute of at least 1, not "${value}"`,
  });
  return 'match';
}

/**
 * The token bucket size the benchmark gives the simulator: one second's worth of requests (the
 * simulator's own default), at least one.
 */
export function rateLimitBurst(requestsPerMinute: number): number {
  return Math.max(1, Math.ceil(requestsPerMinute / 60));
}

/**
 * The instance's `requestsPerMinute` for a `--client-budget`: undefined for `default` (the adaptive
 * budget); for `match`, the simulator's limit, so the client uses all of it, and for "unlimited" (0)
 * a budget so high that it never delays a request.
 */
export function clientRequestsPerMinute(
  rateLimit: number,
  clientBudget: BenchClientBudget = 'match',
): number | undefined {
  if (clientBudget === 'default') return undefined;
  if (clientBudget !== 'match') return clientBudget;
  return rateLimit > 0 ? rateLimit : 6_000_000;
}

/** What the simulator imposes on every endpoint. */
export interface SimulatorLimits {
  latencyMs: number;
  /** Per endpoint; 0 = unlimited. */
  requestsPerMinute: number;
  /** Token bucket size (ignored when unlimited). */
  burst: number;
}

/** Requests needed to read `records` records at `maxPageSize` per page; object endpoints (no page size) need one. */
export function pagesFor(records: number, maxPageSize: number | undefined): number {
  if (maxPageSize === undefined) return 1;
  return Math.max(1, Math.ceil(records / maxPageSize));
}

/** Fastest possible time, in seconds, to read `pages` sequential pages of one endpoint. */
export function endpointLowerBoundSeconds(pages: number, limits: SimulatorLimits): number {
  const latency = limits.latencyMs / 1000;
  const latencyBound = pages * latency;
  const rateBound =
    limits.requestsPerMinute > 0 ? latency + (Math.max(0, pages - limits.burst) * 60) / limits.requestsPerMinute : 0;
  return Math.max(latencyBound, rateBound);
}

/** One endpoint of a resource, with the number of records the tenant holds there. */
export interface EndpointLoad {
  path: string;
  records: number;
  /** Undefined for object endpoints (one request). */
  maxPageSize: number | undefined;
}

/** The endpoints one fetch activity reads, in order. */
export interface FetchChain {
  resource: string;
  endpoints: EndpointLoad[];
}

/** The fetch chains of duo-j1's resources, given the tenant's record count per endpoint path. */
export function duoFetchChains(recordsByPath: Readonly<Record<string, number>>): FetchChain[] {
  return RESOURCE_NAMES.map((name) => ({
    resource: name,
    endpoints: endpointsReadBy(name).map((endpoint: DuoEndpoint) => ({
      path: endpoint.path,
      records: endpoint.paged ? (recordsByPath[endpoint.path] ?? 0) : 1,
      maxPageSize: endpoint.paged ? endpoint.maxPageSize : undefined,
    })),
  }));
}

export interface FetchLowerBound {
  seconds: number;
  /** The resource whose bound is the largest (the one that takes longest at best); `none` when the bound is 0. */
  bottleneck: string;
  /** Bound per resource, for the reading in docs/benchmarks.md. */
  perResource: Record<string, number>;
}

/** The fastest any client could fetch the whole tenant: the slowest resource, each at its best. */
export function fetchLowerBound(chains: readonly FetchChain[], limits: SimulatorLimits): FetchLowerBound {
  const perResource: Record<string, number> = {};
  let seconds = 0;
  let bottleneck = '';
  for (const chain of chains) {
    const chainSeconds = chain.endpoints.reduce(
      (sum, endpoint) => sum + endpointLowerBoundSeconds(pagesFor(endpoint.records, endpoint.maxPageSize), limits),
      0,
    );
    perResource[chain.resource] = chainSeconds;
    if (bottleneck === '' || chainSeconds > seconds) {
      seconds = chainSeconds;
      bottleneck = chain.resource;
    }
  }
  return { seconds, bottleneck: seconds > 0 ? bottleneck : 'none', perResource };
}

/** `measured / bound`, or null when the bound is 0 (no latency, no rate limit: nothing to compare with). */
export function boundRatio(measuredSeconds: number, boundSeconds: number): number | null {
  return boundSeconds > 0 ? round(measuredSeconds / boundSeconds, 3) : null;
}

/** Counts of what the Duo simulator answered, per endpoint path. */
export interface DuoRequestSummary {
  requests: Record<string, number>;
  http429: number;
}

/** Summarises the Duo simulator's request log (paths sorted for a stable line). */
export function summariseRequestLog(entries: Iterable<{ path: string; status: number }>): DuoRequestSummary {
  const counts = new Map<string, number>();
  let http429 = 0;
  for (const entry of entries) {
    counts.set(entry.path, (counts.get(entry.path) ?? 0) + 1);
    if (entry.status === 429) http429 += 1;
  }
  const requests: Record<string, number> = {};
  for (const path of [...counts.keys()].sort()) requests[path] = counts.get(path)!;
  return { requests, http429 };
}

/** Peak resident set size in MiB from the text of `/proc/<pid>/status` (its `VmHWM` line). */
export function peakRssMbFromProcStatus(status: string): number {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error('/proc/<pid>/status has no VmHWM line: peak memory cannot be read on this system');
  return round(Number(match[1]) / 1024, 1);
}

/**
 * CPU time in seconds (user + system, every thread of the process: the garbage collector's count)
 * from the text of `/proc/<pid>/stat`. Its fields 14 and 15 count clock ticks of `USER_HZ`, which
 * Linux fixes at 100 per second for user space on every architecture it runs on.
 */
export function cpuSecondsFromProcStat(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error("/proc/<pid>/stat has no CPU times: the worker's CPU time cannot be read on this system");
  }
  return (utime + stime) / 100;
}

/** The benchmark's output: one JSON line. */
export interface BenchFigures {
  users: number;
  target: BenchTarget;
  latencyMs: number;
  rateLimit: number;
  clientBudget: BenchClientBudget;
  /** Present only when uploads were not gzipped (`--compress-uploads off`). */
  compressUploads?: false;
  /** Present only when the measured run followed another (`--previous-run on`). */
  previousRun?: true;
  seed: number;
  entities: number;
  relationships: number;
  /** Requests the Duo simulator received, per endpoint path (validation included). */
  requests: Record<string, number>;
  http429: number;
  /** From the workflow result's per-phase durations. */
  wallSeconds: { total: number; validate: number; fetch: number; build: number; deliver: number };
  lowerBoundSeconds: number;
  /** The resource that sets the lower bound. */
  bottleneck: string;
  /** fetch wall / lower bound; null when the bound is 0. */
  boundRatio: number | null;
  /** total wall / lower bound; null when the bound is 0. */
  totalRatio: number | null;
  /** Users per second, end to end (total wall). */
  usersPerSecond: number;
  /** Peak resident set size of the worker process. */
  peakRssMb: number;
  /** CPU time of the worker process (all its threads) from the run's start to its result. */
  cpuSeconds: number;
  /** `cpuSeconds` per 1,000 users. */
  cpuSecondsPerThousandUsers: number;
  historyEvents: number;
  historyBytes: number;
  /** Bytes of the upload bodies as sent to JupiterOne, gzipped (0 for the local target). */
  uploadBytes: number;
  /** The same bodies before compression (0 for the local target). */
  uploadUncompressedBytes: number;
  /** Upload batches sent to JupiterOne (0 for the local target). */
  batches: number;
  /** The log tail's catch-up on a day of authentications (with `--log-auths-per-user`). */
  logs?: LogTailFigures;
  /**
   * With `--previous-run on`: what the measured run changed against the output of the run before
   * it (entities, relationships and mapped relationships together). The simulator serves the same
   * tenant both times, so all zero.
   */
  changes?: ChangeCounts;
}

export interface LogTailFigures {
  events: number;
  pages: number;
  /** From the tail's start to its aggregates covering the whole day, reading without a budget. */
  catchUpSeconds: number;
  /** The same pages at Duo's log budget of one request per minute: what a real tenant waits. */
  catchUpMinutesAtDuoBudget: number;
  /** The aggregates file (gzip'd JSON) and its JSON. */
  aggregateBytes: number;
  aggregateJsonBytes: number;
  /** Users and user × integration pairs the aggregates hold. */
  usersWithActivity: number;
  usagePairs: number;
}

export interface BenchMeasurements {
  options: BenchOptions;
  result: Pick<DuoIngestionResult, 'entities' | 'relationships' | 'durationsMs' | 'delivery'>;
  duoRequests: DuoRequestSummary;
  lowerBound: FetchLowerBound;
  peakRssMb: number;
  /** Worker CPU seconds over the run. */
  cpuSeconds: number;
  history: { events: number; bytes: number };
  logs?: LogTailFigures;
}

function sum(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0);
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Assembles the JSON line from what the benchmark measured. */
export function benchFigures(measured: BenchMeasurements): BenchFigures {
  const { options, result } = measured;
  const seconds = (ms: number) => round(ms / 1000, 3);
  const wallSeconds = {
    total: seconds(result.durationsMs.total),
    validate: seconds(result.durationsMs.validate),
    fetch: seconds(result.durationsMs.fetch),
    build: seconds(result.durationsMs.build),
    deliver: seconds(result.durationsMs.deliver),
  };
  const delivery = result.delivery;
  return {
    users: options.users,
    target: options.target,
    latencyMs: options.latencyMs,
    rateLimit: options.rateLimit,
    clientBudget: options.clientBudget,
    ...(options.compressUploads ? {} : { compressUploads: false as const }),
    ...(options.previousRun ? { previousRun: true as const } : {}),
    seed: options.seed,
    entities: sum(result.entities),
    relationships: sum(result.relationships),
    requests: measured.duoRequests.requests,
    http429: measured.duoRequests.http429,
    wallSeconds,
    lowerBoundSeconds: round(measured.lowerBound.seconds, 3),
    bottleneck: measured.lowerBound.bottleneck,
    boundRatio: boundRatio(result.durationsMs.fetch / 1000, measured.lowerBound.seconds),
    totalRatio: boundRatio(result.durationsMs.total / 1000, measured.lowerBound.seconds),
    usersPerSecond: result.durationsMs.total > 0 ? Math.round(options.users / (result.durationsMs.total / 1000)) : 0,
    peakRssMb: measured.peakRssMb,
    cpuSeconds: round(measured.cpuSeconds, 2),
    cpuSecondsPerThousandUsers: round((measured.cpuSeconds * 1000) / options.users, 3),
    historyEvents: measured.history.events,
    historyBytes: measured.history.bytes,
    uploadBytes: delivery.target === 'jupiterone' ? delivery.uploaded.bytes : 0,
    uploadUncompressedBytes: delivery.target === 'jupiterone' ? delivery.uploaded.uncompressedBytes : 0,
    batches: delivery.target === 'jupiterone' ? delivery.uploaded.batches : 0,
    ...(measured.logs ? { logs: measured.logs } : {}),
    ...(options.previousRun ? { changes: changesOf(delivery) } : {}),
  };
}

/** A delivery's changes against the previous output, all object kinds together. */
function changesOf(delivery: BenchMeasurements['result']['delivery']): ChangeCounts {
  if (delivery.target === 'local') return { ...delivery.changes };
  const kinds = [delivery.entities, delivery.relationships, delivery.mappedRelationships];
  return {
    created: kinds.reduce((total, kind) => total + kind.created, 0),
    updated: kinds.reduce((total, kind) => total + kind.updated, 0),
    deleted: kinds.reduce((total, kind) => total + kind.deleted, 0),
  };
}

/**
 * The Duo simulator's requests between two of its reports (its request log only grows): those of
 * the measured run when another ran before it.
 */
export function requestsBetween(before: DuoRequestSummary, after: DuoRequestSummary): DuoRequestSummary {
  const requests: Record<string, number> = {};
  for (const [path, count] of Object.entries(after.requests)) {
    const since = count - (before.requests[path] ?? 0);
    if (since > 0) requests[path] = since;
  }
  return { requests, http429: after.http429 - before.http429 };
}
