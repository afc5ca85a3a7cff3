/**
 * JupiterOne synchronization client: start a DIFF job, upload a graph one dataset at a time,
 * finalize with the partial datasets, wait for the job's counters, or abort.
 *
 * Everything here is safe to repeat, because the delivery activity may be retried at any point:
 * uploads use `ignoreDuplicates=true` (a re-sent batch replaces identical objects), finalize reads
 * the job before acting, and an upload can resume after the objects a previous attempt committed
 * (`skipObjects`, reported through `onBatchDone`).
 *
 * There is no endpoint that lists synchronization jobs (the API offers create, get, upload,
 * finalize, abort and events per job id), so stale jobs can only be aborted by an id the caller
 * kept — `abortJobIfOpen` is meant for that.
 */
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Entity, Relationship } from '../graph/types';
import {
  BatchPayload,
  BodyBuffers,
  batchBySize,
  DEFAULT_MAX_BATCH_BYTES,
  emptyBodyBytes,
  type PreparedBatch,
  type PreparedObject,
  type RejectedObject,
  type UploadSource,
  shrinkRejectedByServer,
} from './batching';
import {
  JupiterOneConfigurationError,
  JupiterOneError,
  JupiterOneJobFailedError,
  JupiterOneJobWaitTimeoutError,
  JupiterOnePayloadTooLargeError,
} from './errors';
import { DEFAULT_JUPITERONE_API_BASE_URL } from './base-url';
import { gzipUploadBody } from './compression';
import type { JobEvent } from './job-events';
import { JupiterOneHttp, type JupiterOneLogger, type RetryPolicy, sleep } from './http';
import {
  FINALIZING_SYNC_JOB_STATUSES,
  type GraphDatasetKind,
  type PartialDatasets,
  type StartSyncJobBody,
  type SyncJob,
  type SyncJobResponse,
  type SyncJobTarget,
  TERMINAL_SYNC_JOB_STATUSES,
} from './types';

/** Objects of one kind, or their JSON texts (strings or bytes), one by one or in arrays. */
type UploadSourceOf<T> =
  | AsyncIterable<T | string | Uint8Array | readonly (T | string | Uint8Array)[]>
  | Iterable<T | string | Uint8Array | readonly (T | string | Uint8Array)[]>;

export const SYNC_JOBS_PATH = '/persister/synchronization/jobs';

/** The SDK's upload concurrency; JupiterOne handles it well and it keeps memory at a few batches. */
export const DEFAULT_UPLOAD_CONCURRENCY = 6;

/** Bounds on posting job log events (see publishEvents): best effort, never a run's bottleneck. */
export const JOB_EVENTS_PER_REQUEST = 50;
export const JOB_EVENT_ATTEMPTS = 3;
export const JOB_EVENT_TIMEOUT_MS = 15_000;

/** At most this many rejected objects are listed by key (the count and types are complete). */
export const MAX_REJECTED_EXAMPLES = 20;

export interface JupiterOneSyncClientOptions {
  apiKey: string;
  /** JupiterOne account id, sent as `JupiterOne-Account`. */
  account: string;
  /** Default `DEFAULT_JUPITERONE_API_BASE_URL`. HTTPS only, except loopback addresses. */
  baseUrl?: string;
  /** undici dispatcher for every request (proxy agent, connection limits). */
  dispatcher?: Dispatcher;
  logger?: JupiterOneLogger;
  /** Retries of network errors, 5xx and 429 for every request. */
  retry?: Partial<RetryPolicy>;
  requestTimeoutMs?: number;
  /** Default bound of an upload request body, in bytes, before compression. */
  maxBatchBytes?: number;
  /** Default number of upload requests in flight. */
  uploadConcurrency?: number;
  /**
   * Gzip entity and relationship uploads (`Content-Encoding: gzip`), as JupiterOne's SDK does with
   * its `compressUploads`. Default true: a large account sends an eighth of the bytes.
   */
  compressUploads?: boolean;
}

/** What a worker (or a test) may tune of every JupiterOne client it makes. */
export type JupiterOneClientTuning = Pick<
  JupiterOneSyncClientOptions,
  'dispatcher' | 'retry' | 'requestTimeoutMs' | 'maxBatchBytes' | 'uploadConcurrency'
>;

export interface RequestOptions {
  /** Cancels the request and any wait between retries (an activity's cancellation signal). */
  signal?: AbortSignal;
}

export interface UploadOptions extends RequestOptions {
  maxBatchBytes?: number;
  concurrency?: number;
  /**
   * Input objects to skip: the `committedObjects` of an earlier attempt's last progress report.
   * Those objects are already uploaded and are not read into batches again.
   */
  skipObjects?: number;
  /**
   * Rejected objects among the skipped ones, per `_type` (`committedRejectedByType` of that same
   * progress report), so that the result accounts for the whole dataset.
   */
  skippedRejectedByType?: Readonly<Record<string, number>>;
  /** Called after each batch is uploaded (or rejected); a good place to heartbeat. */
  onBatchDone?: (progress: UploadProgress) => void | Promise<void>;
}

export interface UploadProgress {
  kind: GraphDatasetKind;
  batchIndex: number;
  batchObjects: number;
  uploadedObjects: number;
  uploadedRequests: number;
  /** Bytes of the successful request bodies as sent (gzipped when uploads are compressed). */
  uploadedBytes: number;
  /** The same bodies' bytes before compression. */
  uploadedUncompressedBytes: number;
  rejectedObjects: number;
  rejectedTypes: string[];
  /**
   * Number of input objects, skipped ones included, of which every one is uploaded or rejected.
   * Batches finish out of order; this only counts the unbroken prefix, so it is safe to resume from.
   */
  committedObjects: number;
  /** Rejected objects within the committed prefix, per `_type` (to resume with, as `skippedRejectedByType`). */
  committedRejectedByType: Record<string, number>;
}

export interface UploadResult {
  kind: GraphDatasetKind;
  /** Objects delivered to JupiterOne by this call. */
  objects: number;
  /** Successful upload requests (a batch split after a 413 counts each half). */
  requests: number;
  /** Bytes of the successful request bodies as sent (gzipped when uploads are compressed). */
  bytes: number;
  /** The same bodies' bytes before compression (equal to `bytes` when uploads are not compressed). */
  uncompressedBytes: number;
  /** Objects skipped because an earlier attempt had committed them. */
  skippedObjects: number;
  /** Objects delivered without their `_rawData` because they were too large with it. */
  rawDataRemoved: number;
  rejectedCount: number;
  /** Every `_type` with a rejected object; the caller lists them as partial datasets. */
  rejectedTypes: string[];
  /** The first rejected objects (at most MAX_REJECTED_EXAMPLES). */
  rejected: RejectedObject[];
  /** See UploadProgress.committedObjects; equals every input object at the end. */
  committedObjects: number;
  /** Rejected objects of the whole input per `_type`, the skipped ones' included. */
  rejectedByType: Record<string, number>;
}

export interface WaitForJobOptions extends RequestOptions {
  /** Give up (JupiterOneJobWaitTimeoutError) after this long. Default 10 minutes. */
  timeoutMs?: number;
  /** Time between two reads of the job. Default 5 seconds, as JupiterOne's own CLI polls. */
  pollIntervalMs?: number;
  /** Called with every job read while waiting; a good place to heartbeat. */
  onPoll?: (job: SyncJob) => void | Promise<void>;
}

export interface ChangeCounts {
  created: number;
  updated: number;
  deleted: number;
}

export interface SyncJobChangeCounts {
  entities: ChangeCounts;
  relationships: ChangeCounts;
  mappedRelationships: ChangeCounts;
  uploaded: { entities: number; relationships: number };
}

/** The job's counters, zero where JupiterOne left one out. */
export function syncJobChangeCounts(job: SyncJob): SyncJobChangeCounts {
  const n = (value: number | undefined) => value ?? 0;
  return {
    entities: {
      created: n(job.numEntitiesCreated),
      updated: n(job.numEntitiesUpdated),
      deleted: n(job.numEntitiesDeleted),
    },
    relationships: {
      created: n(job.numRelationshipsCreated),
      updated: n(job.numRelationshipsUpdated),
      deleted: n(job.numRelationshipsDeleted),
    },
    mappedRelationships: {
      created: n(job.numMappedRelationshipsCreated),
      updated: n(job.numMappedRelationshipsUpdated),
      deleted: n(job.numMappedRelationshipsDeleted),
    },
    uploaded: { entities: n(job.numEntitiesUploaded), relationships: n(job.numRelationshipsUploaded) },
  };
}

/** The body that starts a DIFF job for a target; rejects an incomplete target. */
export function buildStartJobBody(target: SyncJobTarget, integrationJobId?: string): StartSyncJobBody {
  if (target.source === 'api') {
    if (typeof target.scope !== 'string' || target.scope.trim() === '') {
      throw new JupiterOneConfigurationError(
        'A JupiterOne job with source "api" needs a non-empty scope: DIFF replaces everything in that scope.',
        'scope',
      );
    }
    return { source: 'api', scope: target.scope, syncMode: 'DIFF' };
  }
  if (target.source !== 'integration-external' && target.source !== 'integration-managed') {
    throw new JupiterOneConfigurationError(
      `Unknown JupiterOne job source ${JSON.stringify((target as { source: unknown }).source)}; use integration-external, integration-managed or api.`,
      'source',
    );
  }
  if (typeof target.integrationInstanceId !== 'string' || target.integrationInstanceId.trim() === '') {
    throw new JupiterOneConfigurationError(
      `A JupiterOne job with source "${target.source}" needs JUPITERONE_INTEGRATION_INSTANCE_ID (the id of the integration instance in JupiterOne).`,
      'JUPITERONE_INTEGRATION_INSTANCE_ID',
    );
  }
  const body: StartSyncJobBody = {
    source: target.source,
    integrationInstanceId: target.integrationInstanceId,
    syncMode: 'DIFF',
  };
  if (integrationJobId !== undefined) body.integrationJobId = integrationJobId;
  return body;
}

function jobPath(jobId: string): string {
  return `${SYNC_JOBS_PATH}/${encodeURIComponent(jobId)}`;
}

function isFinalizingOrFinished(job: SyncJob): boolean {
  return job.status === 'FINISHED' || FINALIZING_SYNC_JOB_STATUSES.includes(job.status);
}

function isEndedWithoutFinishing(job: SyncJob): boolean {
  return job.status !== 'FINISHED' && TERMINAL_SYNC_JOB_STATUSES.includes(job.status);
}

interface BatchOutcome {
  requests: number;
  objects: number;
  bytes: number;
  uncompressedBytes: number;
  rawDataRemoved: number;
  rejected: RejectedObject[];
}

/** The outcome of a batch of which nothing was sent (every object rejected). */
const NOTHING_SENT: Omit<BatchOutcome, 'rejected'> = {
  requests: 0,
  objects: 0,
  bytes: 0,
  uncompressedBytes: 0,
  rawDataRemoved: 0,
};

/** Collects rejected objects: complete count and types, a bounded list of examples. */
class RejectionTally {
  count = 0;
  readonly types = new Set<string>();
  readonly examples: RejectedObject[] = [];

  add(rejected: readonly RejectedObject[]): void {
    for (const object of rejected) {
      this.count++;
      this.types.add(object.type);
      if (this.examples.length < MAX_REJECTED_EXAMPLES) this.examples.push(object);
    }
  }

  sortedTypes(): string[] {
    return [...this.types].sort();
  }
}

export class JupiterOneSyncClient {
  private readonly http: JupiterOneHttp;
  private readonly log: JupiterOneLogger;
  private readonly maxBatchBytes: number;
  /** Upload requests in flight, by default, for each upload call. */
  readonly uploadConcurrency: number;
  private readonly compressUploads: boolean;
  /** Jobs whose events endpoint failed for good: their later events are not attempted. */
  private readonly jobsWithoutEventLog = new Set<string>();

  constructor(options: JupiterOneSyncClientOptions) {
    this.http = new JupiterOneHttp({ ...options, baseUrl: options.baseUrl ?? DEFAULT_JUPITERONE_API_BASE_URL });
    this.log = options.logger ?? (() => undefined);
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.uploadConcurrency = options.uploadConcurrency ?? DEFAULT_UPLOAD_CONCURRENCY;
    this.compressUploads = options.compressUploads ?? true;
    checkUploadSettings(this.maxBatchBytes, this.uploadConcurrency);
  }

  /**
   * Starts a DIFF synchronization job for the target; it awaits uploads.
   *
   * Starting a job must not happen twice: a job nobody knows the id of stays open in JupiterOne.
   * So the request is repeated only when it certainly had no effect (429, a refused connection).
   * When its answer is lost (the connection broke, a 5xx), the job may exist: for an integration
   * target the caller passes `integrationJobId`, which JupiterOne makes the job's id, so the job is
   * looked up by it and used if it exists, and asked for again only if it does not. A scope
   * (`source: api`) has no such id — the API offers no way to find a job but by the id its start
   * answered — so it is asked for again, and a job whose answer was lost stays open, empty: it is
   * never finalized, so it changes nothing in JupiterOne.
   */
  async startJob(
    target: SyncJobTarget,
    options: RequestOptions & { integrationJobId?: string } = {},
  ): Promise<SyncJob> {
    const body = buildStartJobBody(target, options.integrationJobId);
    const attempts = this.http.maxAttempts;
    for (let attempt = 1; ; attempt++) {
      try {
        const { job } = await this.http.requestJson<SyncJobResponse>({
          method: 'POST',
          path: SYNC_JOBS_PATH,
          body: JSON.stringify(body),
          signal: options.signal,
          repeatable: false,
        });
        this.log('info', 'JupiterOne synchronization job started', {
          jobId: job.id,
          source: job.source,
          status: job.status,
        });
        return job;
      } catch (error) {
        if (!(error instanceof JupiterOneError)) throw error;
        const known = body.integrationJobId;
        // 409: the job exists already (an earlier attempt's start went through).
        const mayExist = error.retryable || error.status === 409;
        if (!mayExist) throw withStartAdvice(error, target);
        if (known !== undefined) {
          const found = await this.findJob(known, options);
          if (found) {
            this.log('warn', 'The answer to starting a JupiterOne job was lost; found the job by its id', {
              jobId: found.id,
              status: found.status,
            });
            if (found.status !== 'AWAITING_UPLOADS') {
              throw new JupiterOneJobFailedError(
                `JupiterOne synchronization job ${found.id}, started by this run, is ${found.status} instead of awaiting uploads.`,
                found,
              );
            }
            return found;
          }
        } else if (error.retryable) {
          this.log('warn', 'The answer to starting a JupiterOne job was lost; asking again', {
            status: error.status,
            code: error.code,
            attempt,
          });
        }
        if (attempt >= attempts || !error.retryable) throw error;
        await sleep(this.http.retryDelay(attempt), options.signal);
      }
    }
  }

  /** The job with this id, or undefined when JupiterOne has none (404). */
  async findJob(jobId: string, options: RequestOptions = {}): Promise<SyncJob | undefined> {
    try {
      return await this.getJob(jobId, options);
    } catch (error) {
      if (error instanceof JupiterOneError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * Proves that JupiterOne accepts the key, the account and the target, the one way the
   * synchronization API allows: starting a job for the target, which is aborted at once (it has
   * no uploads, so aborting it changes nothing).
   */
  async checkAccess(target: SyncJobTarget, options: RequestOptions = {}): Promise<{ jobId: string }> {
    const job = await this.startJob(target, options);
    await this.abortJob(job.id, 'duo-j1 validate: checked the key, the account and the target', options);
    return { jobId: job.id };
  }

  async getJob(jobId: string, options: RequestOptions = {}): Promise<SyncJob> {
    const { job } = await this.http.requestJson<SyncJobResponse>({
      method: 'GET',
      path: jobPath(jobId),
      signal: options.signal,
    });
    return job;
  }

  /**
   * Uploads one entity dataset, streaming; see UploadOptions for resuming and progress. Items are
   * entities or their JSON text, as strings or UTF-8 bytes (staged lines are sent as they are,
   * without parsing them), one by one or in arrays.
   */
  uploadEntities(jobId: string, entities: UploadSourceOf<Entity>, options: UploadOptions = {}): Promise<UploadResult> {
    return this.uploadDataset(jobId, 'entities', entities, options);
  }

  /** Uploads one relationship dataset (direct and mapped relationships, or their JSON text), streaming. */
  uploadRelationships(
    jobId: string,
    relationships: UploadSourceOf<Relationship>,
    options: UploadOptions = {},
  ): Promise<UploadResult> {
    return this.uploadDataset(jobId, 'relationships', relationships, options);
  }

  /**
   * Finalizes the job with the partial datasets. When JupiterOne refuses because the job already
   * left AWAITING_UPLOADS — an earlier attempt finalized it but its answer was lost — the job is
   * read and returned if it is finalizing or finished.
   */
  async finalizeJob(jobId: string, partialDatasets: PartialDatasets, options: RequestOptions = {}): Promise<SyncJob> {
    const types = [...new Set(partialDatasets.types)].sort();
    try {
      const { job } = await this.http.requestJson<SyncJobResponse>({
        method: 'POST',
        path: `${jobPath(jobId)}/finalize`,
        body: JSON.stringify({ partialDatasets: { types } }),
        signal: options.signal,
      });
      this.log('info', 'JupiterOne synchronization job finalized', {
        jobId,
        status: job.status,
        partialTypes: types.length,
      });
      return job;
    } catch (error) {
      if (!(error instanceof JupiterOneError) || error.status === undefined || error.status >= 500) throw error;
      if (error.status === 401 || error.status === 403) throw error;
      const job = await this.getJob(jobId, options);
      if (isFinalizingOrFinished(job)) return job;
      throw error;
    }
  }

  /**
   * Finalizes the job unless that already happened: reads it first, finalizes when it awaits
   * uploads, returns it when it is finalizing or finished, and fails when it was aborted or failed.
   */
  async finalizeIfNeeded(
    jobId: string,
    partialDatasets: PartialDatasets,
    options: RequestOptions = {},
  ): Promise<SyncJob> {
    const job = await this.getJob(jobId, options);
    if (job.status === 'AWAITING_UPLOADS') return this.finalizeJob(jobId, partialDatasets, options);
    if (isFinalizingOrFinished(job)) {
      this.log('info', 'JupiterOne synchronization job was already finalized', { jobId, status: job.status });
      return job;
    }
    throw new JupiterOneJobFailedError(
      `JupiterOne synchronization job ${jobId} cannot be finalized: its status is ${job.status}. Start a new job.`,
      job,
    );
  }

  /** Aborts the job; JupiterOne then discards its uploads and keeps the graph unchanged. */
  async abortJob(jobId: string, reason: string, options: RequestOptions = {}): Promise<SyncJob> {
    const { job } = await this.http.requestJson<SyncJobResponse>({
      method: 'POST',
      path: `${jobPath(jobId)}/abort`,
      body: JSON.stringify({ reason: this.http.redact(reason).slice(0, 1000) }),
      signal: options.signal,
    });
    this.log('info', 'JupiterOne synchronization job aborted', { jobId, status: job.status });
    return job;
  }

  /**
   * Aborts the job if it still awaits uploads, and otherwise returns it as it is — for cleaning up
   * after a failed, cancelled or terminated run without disturbing a job that was finalized.
   */
  async abortJobIfOpen(jobId: string, reason: string, options: RequestOptions = {}): Promise<SyncJob> {
    const job = await this.getJob(jobId, options);
    if (job.status !== 'AWAITING_UPLOADS') return job;
    return this.abortJob(jobId, reason, options);
  }

  /**
   * Posts events to the job's log, in order (JupiterOne's SDK posts them one by one; the API takes
   * a list, so they go in one request per JOB_EVENTS_PER_REQUEST). The job log is a courtesy to the
   * people reading it, never a reason to fail a run: a failed post is tried JOB_EVENT_ATTEMPTS times
   * at most, each answer awaited JOB_EVENT_TIMEOUT_MS at most, then a warning is logged and the
   * events are dropped — and so are the job's later events in this process, so that an events
   * endpoint that is down costs a run one such wait, not one per post. Only cancellation throws.
   * Returns whether the events were posted.
   */
  async publishEvents(jobId: string, events: readonly JobEvent[], options: RequestOptions = {}): Promise<boolean> {
    if (events.length === 0) return true;
    if (this.jobsWithoutEventLog.has(jobId)) return false;
    for (let start = 0; start < events.length; start += JOB_EVENTS_PER_REQUEST) {
      const chunk = events.slice(start, start + JOB_EVENTS_PER_REQUEST);
      try {
        await this.http.requestJson<unknown>({
          method: 'POST',
          path: `${jobPath(jobId)}/events`,
          body: JSON.stringify({ events: chunk.map(({ name, description }) => ({ name, description })) }),
          signal: options.signal,
          maxAttempts: JOB_EVENT_ATTEMPTS,
          timeoutMs: JOB_EVENT_TIMEOUT_MS,
        });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        this.jobsWithoutEventLog.add(jobId);
        if (this.jobsWithoutEventLog.size > 1000)
          this.jobsWithoutEventLog.delete(this.jobsWithoutEventLog.values().next().value!);
        const failure = error instanceof JupiterOneError ? error : undefined;
        this.log('warn', 'JupiterOne did not take the job log events; the run goes on without its job log', {
          jobId,
          events: events.length - start,
          eventNames: [...new Set(events.slice(start).map((event) => event.name))],
          status: failure?.status,
          code: failure?.code,
          error: failure ? undefined : this.http.redact(error instanceof Error ? error.message : String(error)),
        });
        return false;
      }
    }
    this.log('debug', 'JupiterOne job log events posted', { jobId, events: events.length });
    return true;
  }

  /**
   * Reads the job until it is FINISHED and returns it with its counters. Throws
   * JupiterOneJobFailedError when it ends otherwise and JupiterOneJobWaitTimeoutError after
   * `timeoutMs` (the job may still finish; its id stays valid).
   */
  async waitForJobToFinish(jobId: string, options: WaitForJobOptions = {}): Promise<SyncJob> {
    const timeoutMs = options.timeoutMs ?? 10 * 60_000;
    const pollIntervalMs = options.pollIntervalMs ?? 5_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.getJob(jobId, options);
      await options.onPoll?.(job);
      if (job.status === 'FINISHED') return job;
      if (isEndedWithoutFinishing(job)) {
        throw new JupiterOneJobFailedError(
          `JupiterOne synchronization job ${jobId} ended with status ${job.status} instead of FINISHED.`,
          job,
        );
      }
      if (Date.now() + pollIntervalMs > deadline) {
        throw new JupiterOneJobWaitTimeoutError(
          `JupiterOne synchronization job ${jobId} was still ${job.status} after ${Math.round(timeoutMs / 1000)} s; it may finish later.`,
          job,
          job.status,
        );
      }
      await sleep(pollIntervalMs, options.signal);
    }
  }

  private async uploadDataset(
    jobId: string,
    kind: GraphDatasetKind,
    source: UploadSource,
    options: UploadOptions,
  ): Promise<UploadResult> {
    const maxBatchBytes = options.maxBatchBytes ?? this.maxBatchBytes;
    const concurrency = options.concurrency ?? this.uploadConcurrency;
    checkUploadSettings(maxBatchBytes, concurrency);
    const skippedObjects = Math.max(0, options.skipObjects ?? 0);
    const totals = { objects: 0, requests: 0, bytes: 0, uncompressedBytes: 0, rawDataRemoved: 0 };
    const rejections = new RejectionTally();
    // Batches finish out of order; the committed prefix advances only over an unbroken run of them.
    const finishedAhead = new Map<number, { objects: number; rejected: readonly RejectedObject[] }>();
    let nextBatchToCommit = 0;
    let committedObjects = skippedObjects;
    const committedRejectedByType: Record<string, number> = { ...options.skippedRejectedByType };

    const finish = async (
      batch: Pick<PreparedBatch, 'index' | 'objectCount'>,
      outcome: BatchOutcome,
    ): Promise<void> => {
      totals.objects += outcome.objects;
      totals.requests += outcome.requests;
      totals.bytes += outcome.bytes;
      totals.uncompressedBytes += outcome.uncompressedBytes;
      totals.rawDataRemoved += outcome.rawDataRemoved;
      rejections.add(outcome.rejected);
      for (const rejected of outcome.rejected) {
        this.log('warn', 'Graph object too large for JupiterOne; not uploaded, its type is reported partial', {
          jobId,
          kind,
          type: rejected.type,
          key: rejected.key,
          bytes: rejected.bytes,
          reason: rejected.reason,
        });
      }
      finishedAhead.set(batch.index, { objects: batch.objectCount, rejected: outcome.rejected });
      for (let done = finishedAhead.get(nextBatchToCommit); done; done = finishedAhead.get(nextBatchToCommit)) {
        committedObjects += done.objects;
        for (const { type } of done.rejected) committedRejectedByType[type] = (committedRejectedByType[type] ?? 0) + 1;
        finishedAhead.delete(nextBatchToCommit++);
      }
      this.log('debug', 'JupiterOne upload batch done', {
        jobId,
        kind,
        batchIndex: batch.index,
        objects: outcome.objects,
        bytes: outcome.bytes,
        requests: outcome.requests,
      });
      await options.onBatchDone?.({
        kind,
        batchIndex: batch.index,
        batchObjects: batch.objectCount,
        uploadedObjects: totals.objects,
        uploadedRequests: totals.requests,
        uploadedBytes: totals.bytes,
        uploadedUncompressedBytes: totals.uncompressedBytes,
        rejectedObjects: rejections.count,
        rejectedTypes: rejections.sortedTypes(),
        committedObjects,
        committedRejectedByType: { ...committedRejectedByType },
      });
    };

    const inFlight = new Set<Promise<void>>();
    const bodyBuffers = new BodyBuffers(maxBatchBytes);
    let failure: { error: unknown } | undefined;
    try {
      for await (const batch of batchBySize(source, { kind, maxBatchBytes, skipObjects: skippedObjects })) {
        if (failure) break;
        if (batch.items.length === 0) {
          await finish(batch, { ...NOTHING_SENT, rejected: batch.rejected });
          continue;
        }
        while (inFlight.size >= concurrency && !failure) await Promise.race(inFlight);
        if (failure) break;
        // The task keeps the body and the batch's counts, not the batch and its prepared objects.
        const payload = BatchPayload.of(kind, batch.items, bodyBuffers);
        const done = { index: batch.index, objectCount: batch.objectCount, rejected: batch.rejected };
        const task: Promise<void> = this.uploadPayload(jobId, payload, options.signal)
          .finally(() => payload.release())
          .then((outcome) => finish(done, { ...outcome, rejected: [...done.rejected, ...outcome.rejected] }))
          .catch((error: unknown) => {
            failure ??= { error };
          })
          .finally(() => inFlight.delete(task));
        inFlight.add(task);
      }
    } catch (error) {
      failure ??= { error };
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;

    this.log('info', 'JupiterOne dataset uploaded', {
      jobId,
      kind,
      objects: totals.objects,
      requests: totals.requests,
      bytes: totals.bytes,
      uncompressedBytes: totals.uncompressedBytes,
      rejected: rejections.count,
    });
    return {
      kind,
      ...totals,
      skippedObjects,
      rejectedCount: rejections.count,
      rejectedTypes: rejections.sortedTypes(),
      rejected: rejections.examples,
      committedObjects,
      // Every batch is committed by now: the prefix is the whole input.
      rejectedByType: committedRejectedByType,
    };
  }

  /**
   * Uploads a batch, gzipped when uploads are compressed (once: every retry sends the same bytes).
   * On 413 — JupiterOne's limit can be lower than the configured batch limit — the batch is split
   * in halves and each is sent; a single object is sent once more without its `_rawData`, then
   * rejected.
   */
  private async uploadPayload(
    jobId: string,
    payload: BatchPayload,
    signal: AbortSignal | undefined,
  ): Promise<BatchOutcome> {
    const { kind } = payload;
    const body = this.compressUploads ? await gzipUploadBody(payload.body) : payload.body;
    const correlationId = randomUUID();
    try {
      await this.http.requestJson<SyncJobResponse>({
        method: 'POST',
        path: `${jobPath(jobId)}/${kind}`,
        query: { ignoreDuplicates: 'true' },
        body,
        contentEncoding: this.compressUploads ? 'gzip' : undefined,
        correlationId,
        signal,
      });
    } catch (error) {
      if (!(error instanceof JupiterOnePayloadTooLargeError)) throw error;
      return this.uploadSmaller(jobId, kind, payload.items(), signal, correlationId);
    }
    return {
      requests: 1,
      objects: payload.objectCount,
      bytes: body.length,
      uncompressedBytes: payload.body.length,
      rawDataRemoved: payload.rawDataRemoved,
      rejected: [],
    };
  }

  /** Uploads prepared objects as one batch (see uploadPayload). */
  private uploadItems(
    jobId: string,
    kind: GraphDatasetKind,
    items: PreparedObject[],
    signal: AbortSignal | undefined,
  ): Promise<BatchOutcome> {
    return this.uploadPayload(jobId, BatchPayload.of(kind, items), signal);
  }

  private async uploadSmaller(
    jobId: string,
    kind: GraphDatasetKind,
    items: PreparedObject[],
    signal: AbortSignal | undefined,
    refusedCorrelationId: string,
  ): Promise<BatchOutcome> {
    if (items.length > 1) {
      const middle = Math.ceil(items.length / 2);
      this.log('warn', 'JupiterOne refused a batch as too large (413); splitting it', {
        jobId,
        kind,
        objects: items.length,
        correlationId: refusedCorrelationId,
      });
      const first = await this.uploadItems(jobId, kind, items.slice(0, middle), signal);
      const second = await this.uploadItems(jobId, kind, items.slice(middle), signal);
      return {
        requests: first.requests + second.requests,
        objects: first.objects + second.objects,
        bytes: first.bytes + second.bytes,
        uncompressedBytes: first.uncompressedBytes + second.uncompressedBytes,
        rawDataRemoved: first.rawDataRemoved + second.rawDataRemoved,
        rejected: [...first.rejected, ...second.rejected],
      };
    }
    const [item] = items;
    const shrunk = shrinkRejectedByServer(item);
    if (shrunk !== undefined) return this.uploadItems(jobId, kind, [shrunk], signal);
    return {
      ...NOTHING_SENT,
      rejected: [
        {
          type: item.type,
          key: item.key,
          bytes: item.bytes,
          reason: 'JupiterOne refused it as too large (413) even alone and without _rawData',
        },
      ],
    };
  }
}

/**
 * A refused job start, saying which setting to check: JupiterOne refuses a job for an integration
 * instance it does not know, or one the key may not write to.
 */
function withStartAdvice(error: JupiterOneError, target: SyncJobTarget): JupiterOneError {
  if (error.status === undefined || error.status < 400 || error.status >= 500 || error.status === 401) return error;
  if (error.status === 403 || error.status === 429) return error;
  const setting = target.source === 'api' ? 'JUPITERONE_SCOPE' : 'JUPITERONE_INTEGRATION_INSTANCE_ID';
  error.message = `${error.message} Check ${setting}: JupiterOne refused to start a job for it.`;
  return error;
}

function checkUploadSettings(maxBatchBytes: number, concurrency: number): void {
  const minimum = emptyBodyBytes('relationships') + 2;
  if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < minimum) {
    throw new JupiterOneConfigurationError(
      `maxBatchBytes must be an integer of at least ${minimum} bytes (got ${maxBatchBytes}).`,
      'maxBatchBytes',
    );
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new JupiterOneConfigurationError(
      `uploadConcurrency must be a positive integer (got ${concurrency}).`,
      'uploadConcurrency',
    );
  }
}
