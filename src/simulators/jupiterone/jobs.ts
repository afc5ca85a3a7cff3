/**
 * The JupiterOne simulator's state: the synchronization jobs and the graph each account holds.
 *
 * A job moves AWAITING_UPLOADS → FINALIZE_PENDING → FINISHED (or ABORTED). Uploads are applied in
 * the order they arrived, each read and validated whole before anything changes, so a refused
 * upload leaves its job as it was. A finalized job is applied to its account's graph (DIFF, see
 * graph.ts) once its finalize delay has passed, in the order finalizations were requested.
 */
import { randomUUID } from 'node:crypto';
import {
  type PartialDatasets,
  type SyncJob,
  type SyncJobCounters,
  type SyncJobSource,
  type SyncJobStatus,
  SYNC_JOB_COUNTER_NAMES,
} from '../../jupiterone/types';
import { HttpError, type JupiterOneAnswer } from './answers';
import { AccountGraph, finalizeIntoAccount, type HeldGraph, SYSTEM_MAPPER_SCOPE_KEY } from './graph';
import { HeldObject } from './held-object';
import type { HeldGraphSelector, SimulatedJobInfo, SimulatorRequestLogEntry } from './server';
import type { UploadBody, UploadKind } from './upload-body';
import type { UploadReaders } from './upload-readers';

/** A job with everything the simulator keeps about it. */
export interface JobRecord {
  job: SyncJob & SyncJobCounters;
  account: string;
  /** `integration:<id>` or `scope:<scope>`: the part of the graph the job replaces. */
  scopeKey: string;
  entities: Map<string, HeldObject>;
  relationships: Map<string, HeldObject>;
  partialDatasets?: PartialDatasets;
  finalizeDueAt?: number;
  abortReason?: string;
  events: { name: string; description: string }[];
  /** The distinct objects per `_type` the job held when it was finalized. */
  finalizedObjects?: Record<string, number>;
}

const JOB_SOURCES: readonly SyncJobSource[] = ['api', 'integration-managed', 'integration-external', 'system-internal'];
const ABORT_STATUSES: readonly SyncJobStatus[] = ['ABORTED', 'ABORTED_DUE_TO_INVALID_CONFIGURATION', 'ERROR_BAD_DATA'];
const MAX_EVENTS_PER_JOB = 1000;

function newCounters(): SyncJobCounters {
  return Object.fromEntries(SYNC_JOB_COUNTER_NAMES.map((name) => [name, 0])) as unknown as SyncJobCounters;
}

function scopeKeyFor(selector: HeldGraphSelector): string {
  if ('integrationInstanceId' in selector) return `integration:${selector.integrationInstanceId}`;
  if ('scope' in selector) return `scope:${selector.scope}`;
  return SYSTEM_MAPPER_SCOPE_KEY;
}

function requireAwaitingUploads(record: JobRecord, action: string): void {
  if (record.job.status !== 'AWAITING_UPLOADS') {
    throw new HttpError(
      400,
      'JOB_NOT_AWAITING_UPLOADS',
      `Cannot ${action}: job ${record.job.id} is ${record.job.status}, not AWAITING_UPLOADS.`,
    );
  }
}

export class SyncJobs {
  readonly #graphs = new Map<string, AccountGraph>();
  readonly #jobs = new Map<string, JobRecord>();
  readonly #pendingFinalizations: JobRecord[] = [];
  /** Settles once the latest upload so far is applied (or refused): uploads apply in arrival order. */
  #uploadsApplied: Promise<void> = Promise.resolve();

  constructor(
    /** The account `heldGraph` reads when its selector names none. */
    private readonly defaultAccount: string,
    /** How long a finalized job stays FINALIZE_PENDING; 0 finishes it within the finalize request. */
    private readonly finalizeDelayMs: number,
    private readonly uploadReaders: UploadReaders,
    /** The integration instances the accounts have; undefined: every id is taken to exist. */
    private readonly integrationInstanceIds?: ReadonlySet<string>,
  ) {}

  /** Applies finalizations whose delay has passed, in the order they were requested. */
  settle(now = Date.now()): void {
    const pending = this.#pendingFinalizations;
    while (pending.length > 0 && (pending[0].finalizeDueAt ?? 0) <= now) {
      const record = pending.shift() as JobRecord;
      const counters = finalizeIntoAccount(this.#graphOf(record.account), {
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
  }

  /** The job `jobId` of this account; 404 JOB_NOT_FOUND otherwise. */
  jobFor(jobId: string | undefined, accountId: string): JobRecord {
    const record = jobId === undefined ? undefined : this.#jobs.get(jobId);
    if (!record || record.account !== accountId) {
      throw new HttpError(404, 'JOB_NOT_FOUND', `No synchronization job ${JSON.stringify(jobId)} in this account.`);
    }
    return record;
  }

  start(body: Record<string, unknown>, accountId: string): JupiterOneAnswer {
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
      if (this.integrationInstanceIds && !this.integrationInstanceIds.has(instanceId)) {
        throw new HttpError(
          404,
          'INTEGRATION_INSTANCE_NOT_FOUND',
          `No integration instance ${JSON.stringify(instanceId)} in this account.`,
        );
      }
      scopeKey = `integration:${instanceId}`;
    }
    const requestedId =
      typeof body.integrationJobId === 'string' && body.integrationJobId !== '' ? body.integrationJobId : undefined;
    const id = requestedId ?? randomUUID();
    if (this.#jobs.has(id)) throw new HttpError(409, 'JOB_ALREADY_EXISTS', `Job ${id} already exists.`);
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
    this.#jobs.set(id, {
      job,
      account: accountId,
      scopeKey,
      entities: new Map(),
      relationships: new Map(),
      events: [],
    });
    return { status: 200, body: { job: { ...job } } };
  }

  /**
   * Reads and validates a whole body before changing anything, so a refused upload leaves the job
   * unchanged. With ignoreDuplicates the latest copy of a key wins, as JupiterOne documents.
   */
  async upload(
    record: JobRecord,
    bytes: Buffer,
    kinds: readonly UploadKind[],
    ignoreDuplicates: boolean,
    entry: SimulatorRequestLogEntry,
  ): Promise<JupiterOneAnswer> {
    requireAwaitingUploads(record, 'upload');
    const reading = this.uploadReaders.read(bytes, kinds);
    const previous = this.#uploadsApplied;
    let applied!: () => void;
    this.#uploadsApplied = new Promise((resolve) => (applied = resolve));
    try {
      const read = await reading;
      await previous;
      // The job may have been finalized or aborted while the body was being read.
      requireAwaitingUploads(record, 'upload');
      return this.#applyUpload(record, read.bytes, read.body, ignoreDuplicates, entry);
    } finally {
      applied();
    }
  }

  #applyUpload(
    record: JobRecord,
    bytes: Buffer,
    body: UploadBody,
    ignoreDuplicates: boolean,
    entry: SimulatorRequestLogEntry,
  ): JupiterOneAnswer {
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
  }

  finalize(record: JobRecord, body: Record<string, unknown>, entry: SimulatorRequestLogEntry): JupiterOneAnswer {
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
    const finalizedObjects: Record<string, number> = {};
    for (const held of [...record.entities.values(), ...record.relationships.values()]) {
      finalizedObjects[held.type] = (finalizedObjects[held.type] ?? 0) + 1;
    }
    record.finalizedObjects = finalizedObjects;
    record.job.status = 'FINALIZE_PENDING';
    record.finalizeDueAt = Date.now() + this.finalizeDelayMs;
    this.#pendingFinalizations.push(record);
    if (this.finalizeDelayMs <= 0) this.settle();
    return { status: 200, body: { job: { ...record.job } } };
  }

  abort(record: JobRecord, body: Record<string, unknown>): JupiterOneAnswer {
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
  }

  addEvents(record: JobRecord, body: Record<string, unknown>): JupiterOneAnswer {
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
  }

  /** A copy of one part of an account's graph (after applying every due finalization). */
  heldGraph(selector: HeldGraphSelector): HeldGraph {
    this.settle();
    const graph = this.#graphs.get(selector.account ?? this.defaultAccount)?.scopes.get(scopeKeyFor(selector));
    return graph ? graph.snapshot() : { entities: [], relationships: [], mappedRelationships: [] };
  }

  /** Copies of every job, oldest first. */
  list(): SimulatedJobInfo[] {
    this.settle();
    return [...this.#jobs.values()].map((record) =>
      structuredClone({
        job: record.job,
        account: record.account,
        scopeKey: record.scopeKey,
        partialDatasets: record.partialDatasets,
        abortReason: record.abortReason,
        events: record.events,
        ...(record.finalizedObjects ? { finalizedObjects: record.finalizedObjects } : {}),
      }),
    );
  }

  #graphOf(accountId: string): AccountGraph {
    let graph = this.#graphs.get(accountId);
    if (!graph) {
      graph = new AccountGraph();
      this.#graphs.set(accountId, graph);
    }
    return graph;
  }
}
