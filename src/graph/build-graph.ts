/**
 * buildGraph: staged raw Duo records in, staged graph datasets out.
 *
 * Reads `raw/<resource>` datasets as streams and writes `graph/entities/<_type>` and
 * `graph/relationships/<_type>` datasets. Memory holds key sets only (which groups, phones and MFA
 * devices exist), never a tenant's worth of entities, so 100,000-user tenants build in bounded memory.
 *
 * Two halves: converting records (parse, convert, validate, serialise — record-conversion.ts) needs
 * no other record, so parts are converted in parallel, on worker threads for large tenants
 * (conversion-pool.ts), or were converted already while the fetches ran (conversion-ahead.ts);
 * applying the results (de-duplication, edges, drops, counts, writes) happens here, on one thread,
 * strictly in record order, so the graph is the same however and whenever it was converted.
 *
 * Resources are applied in dependency order: everything users point at (account, groups, phones,
 * tokens, WebAuthn credentials) is indexed before the users are applied, so each user's edges are
 * built from its own record in one pass, and an edge whose end does not exist is skipped and counted.
 */
import { DatasetWriter } from '../staging/dataset-writer';
import { jsonLineTexts } from '../staging/json-lines';
import { StagedInputMissingError, partChecksum, type PartInfo, type StagedRun } from '../staging/store';
import { APPLY_ORDER, RESOURCE_NAMES, RESOURCE_TABLE, type ResourceName } from '../resources/table';
import { ENTITY_KINDS, GRAPH_DATASETS, RELATIONSHIP_KINDS, rawDatasetName, type RelationshipKind } from './data-model';
import type { GraphInstanceContext } from './converters';
import { contextKey, readConvertedAhead } from './conversion-ahead';
import {
  conversionThreadsFor,
  convertedInOrder,
  openRecordConverter,
  type LentConversionThreads,
} from './conversion-pool';
import { computePartialTypes, type FetchOutcomeLike, type PartialType } from './partial-datasets';
import {
  ENTITY_TYPE_OF_RESOURCE,
  accountKeyOf,
  convertRecordTexts,
  isUnconvertible,
  type ConvertedBatch,
  type ConvertedEntity,
  type ConvertedRecord,
  type ConvertedRelationship,
  type SerializedObjects,
  type UnconvertibleRecord,
} from './record-conversion';

/** At most this many dropped objects are described in a summary (the rest are only counted). */
export const MAX_DROPPED_EXAMPLES = 20;

export interface DroppedObject {
  key: string;
  type: string;
  error: string;
}

export interface SkippedRelationships {
  type: string;
  reason: string;
  count: number;
}

export interface BuildGraphSummary {
  /** Entities written per `_type` (every declared entity type, zero included). */
  entities: Record<string, number>;
  /** Relationships and mapped relationships written per `_type` (every declared type, zero included). */
  relationships: Record<string, number>;
  partialTypes: PartialType[];
  dropped: { count: number; examples: DroppedObject[] };
  /** Edges not emitted because one end does not exist, by type and reason. */
  skippedRelationships: SkippedRelationships[];
  /** Records seen again under a key already written (overlapping list pages, a U2F token in several users), per `_type`. */
  duplicatesSkipped: Record<string, number>;
  /** Property values the data model rejected and that were left out (kept in `_rawData`), per `<_type>.<property>`. */
  valuesLeftOut: Record<string, number>;
  /** Staged records read per resource (zero for resources whose fetch did not complete). */
  recordsRead: Record<ResourceName, number>;
  /** Staged parts applied (`of`), and how many of them were converted ahead of the build (conversion-ahead.ts). */
  convertedAhead: { parts: number; of: number };
}

/** Where a build is, reported every `PROGRESS_INTERVAL` records (an activity heartbeats with it). */
export interface BuildGraphProgress {
  resource: ResourceName;
  /** Records of `resource` read so far. */
  records: number;
}

/** Records between two progress reports (and abort checks). */
export const PROGRESS_INTERVAL = 1000;

export interface BuildGraphOptions {
  /** Objects per staged part of a graph dataset; default `GRAPH_RECORDS_PER_PART`. */
  recordsPerPart?: number;
  /** Called when a resource starts and every `PROGRESS_INTERVAL` records; keep it cheap. */
  onProgress?: (progress: BuildGraphProgress) => void;
  /** Stops the build (rejecting with the signal's reason) at the next progress point. */
  signal?: AbortSignal;
  /**
   * Threads converting records; 0 converts on the calling thread. Default: one per core (at most
   * four) from `THREADED_CONVERSION_THRESHOLD` staged records, 0 below.
   */
  conversionThreads?: number;
  /**
   * Where to borrow running conversion threads from instead of starting new ones (a worker's
   * ConversionAhead lends the threads that converted while the fetches ran).
   */
  borrowThreads?: () => LentConversionThreads;
}

/**
 * Objects per staged graph part. Each of the forty-odd writers (a dataset and its index per type)
 * buffers its current part in memory, and a part of 5,000 users' entities is over 12 MB: parts of
 * 2,000 took 40 MB off a 100,000-user build's peak memory, at no measurable cost in time.
 */
const GRAPH_RECORDS_PER_PART = 2000;

/** Staged parts being converted (or read) while one is applied, per converting thread. */
const PARTS_IN_FLIGHT_PER_THREAD = 2;

/** `duplicate`: the key is already in the graph; `duplicate-of-dropped`: an earlier copy was dropped. */
type EntityResult = 'added' | 'duplicate' | 'dropped' | 'duplicate-of-dropped';

/**
 * Accumulates the graph: de-duplicates and writes converted objects, and keeps the counts.
 *
 * Adding is synchronous: a build adds several objects per staged record (hundreds of thousands per
 * run), and a promise and an await per object cost measurable time, the more so inside Temporal
 * activities where async hooks are active. A writer hands back a promise only when an object
 * completes a part; the sink keeps those and the build awaits them after each batch of staged
 * records (`pendingWrites`), so a part's write is still waited for before the producer runs far ahead.
 * Objects are staged as their canonical JSON text (`graphObjectJson`): the text every later stage
 * uses as it is.
 */
class GraphSink {
  // One writer pair (objects and their index) and one key set per declared type, made up front:
  // looking them up by the declared (interned) type strings is cheap, and no dataset name is built
  // per object.
  private readonly entityWriters = new Map<string, StagedObjectWriter>();
  private readonly relationshipWriters = new Map<string, StagedObjectWriter>();
  private readonly keysByType = new Map<string, Set<string>>();
  private readonly droppedKeys = new Set<string>();
  readonly entities: Record<string, number> = {};
  readonly relationships: Record<string, number> = {};
  readonly droppedByType: Record<string, number> = {};
  readonly droppedExamples: DroppedObject[] = [];
  readonly duplicatesSkipped: Record<string, number> = {};
  readonly valuesLeftOut: Record<string, number> = {};
  private readonly skipped = new Map<string, SkippedRelationships>();
  private writes: Promise<void>[] = [];
  droppedCount = 0;
  /** The serialised objects of the batch being applied (converted results refer to them by id). */
  batch: AppliedBatch = EMPTY_BATCH;

  constructor(run: StagedRun, recordsPerPart: number | undefined) {
    for (const { dataset, indexDataset, kind, type } of GRAPH_DATASETS) {
      const writer = new StagedObjectWriter(run, dataset, indexDataset, recordsPerPart);
      if (kind === 'entities') {
        this.entityWriters.set(type, writer);
        this.keysByType.set(type, new Set());
        this.entities[type] = 0;
      } else {
        this.relationshipWriters.set(type, writer);
        this.relationships[type] = 0;
      }
    }
  }

  /** Keys of the entities of a declared type written so far. */
  keysOf(type: string): ReadonlySet<string> {
    const keys = this.keysByType.get(type);
    if (!keys) throw new Error(`"${type}" is not a declared entity type; declare it in src/graph/data-model.ts.`);
    return keys;
  }

  drop(type: string, key: string, error: string): void {
    this.droppedCount += 1;
    this.droppedByType[type] = (this.droppedByType[type] ?? 0) + 1;
    if (this.droppedExamples.length < MAX_DROPPED_EXAMPLES) this.droppedExamples.push({ key, type, error });
  }

  skip(kind: RelationshipKind, reason: string, count = 1): void {
    if (count <= 0) return;
    const id = `${kind._type}\u0000${reason}`;
    const entry = this.skipped.get(id);
    if (entry) entry.count += count;
    else this.skipped.set(id, { type: kind._type, reason, count });
  }

  get skippedRelationships(): SkippedRelationships[] {
    return [...this.skipped.values()];
  }

  /**
   * The part writes started since the last call, as one promise; undefined when none started
   * (nearly always). Await it before reading the next batch of records.
   */
  pendingWrites(): Promise<void> | undefined {
    if (this.writes.length === 0) return undefined;
    const writes = this.writes;
    this.writes = [];
    return writes.length === 1 ? writes[0] : Promise.all(writes).then(() => undefined);
  }

  private track(write: Promise<void> | undefined): void {
    if (!write) return;
    // Rejections are awaited through pendingWrites; until then (or when an error thrown while the
    // same record is applied ends the build first) they must not count as unhandled.
    write.catch(() => undefined);
    this.writes.push(write);
  }

  /** Adds a converted entity unless its key is taken or the data model rejected it. */
  addEntity(entity: ConvertedEntity): EntityResult {
    const { type, key } = entity;
    const keys = this.keysByType.get(type);
    const writer = this.entityWriters.get(type);
    if (!keys || !writer)
      throw new Error(`"${type}" is not a declared entity type; declare it in src/graph/data-model.ts.`);
    if (keys.has(key) || this.droppedKeys.has(key)) {
      this.duplicatesSkipped[type] = (this.duplicatesSkipped[type] ?? 0) + 1;
      return keys.has(key) ? 'duplicate' : 'duplicate-of-dropped';
    }
    if (entity.object === undefined) {
      this.droppedKeys.add(key);
      this.drop(type, key, entity.error ?? 'rejected by the data model');
      return 'dropped';
    }
    for (const property of entity.valuesLeftOut) {
      const id = `${type}.${property}`;
      this.valuesLeftOut[id] = (this.valuesLeftOut[id] ?? 0) + 1;
    }
    keys.add(key);
    this.track(writer.add(this.batch, entity.object));
    this.entities[type] += 1;
    return 'added';
  }

  /** Adds a converted relationship, or counts it dropped with the reason it failed the check. */
  addRelationship(relationship: ConvertedRelationship): void {
    const { type } = relationship;
    const writer = this.relationshipWriters.get(type);
    if (!writer)
      throw new Error(`"${type}" is not a declared relationship type; declare it in src/graph/data-model.ts.`);
    if (relationship.object === undefined) {
      this.drop(type, relationship.key, relationship.error ?? 'rejected by the data model');
      return;
    }
    this.track(writer.add(this.batch, relationship.object));
    this.relationships[type] += 1;
  }

  /**
   * Adds a candidate edge of a record unless `emitted` already holds its key: one record may list
   * the same group, phone or device twice, and that is one edge.
   */
  addRelationshipOnce(relationship: ConvertedRelationship, emitted: Set<string>): void {
    if (emitted.has(relationship.key)) return;
    emitted.add(relationship.key);
    this.addRelationship(relationship);
  }

  /** Commits every declared graph dataset, empty ones included, so readers find all of them. */
  async close(): Promise<void> {
    for (const writer of this.entityWriters.values()) await writer.close();
    for (const writer of this.relationshipWriters.values()) await writer.close();
  }
}

/** A batch's serialised objects with Buffer views of its bytes (made once per batch, not per object). */
interface AppliedBatch extends SerializedObjects {
  texts: Buffer;
  entries: Buffer;
}

function appliedBatch(objects: SerializedObjects): AppliedBatch {
  const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { ...objects, texts: asBuffer(objects.texts), entries: asBuffer(objects.entries) };
}

const EMPTY_BATCH: AppliedBatch = appliedBatch({
  texts: new Uint8Array(0),
  textEnds: new Uint32Array(0),
  entries: new Uint8Array(0),
  entryEnds: new Uint32Array(0),
});

/** Stages objects and their index entries side by side, in the same order. */
class StagedObjectWriter {
  private readonly objects: DatasetWriter;
  private readonly index: DatasetWriter;

  constructor(run: StagedRun, dataset: string, indexDataset: string, recordsPerPart: number | undefined) {
    // The objects are serialised already (record-conversion.ts); the writers stage their bytes.
    this.objects = new DatasetWriter(run, dataset, { recordsPerPart });
    this.index = new DatasetWriter(run, indexDataset, { recordsPerPart });
  }

  /** Adds object `id` of a batch; a promise only when it completed a part being written (see DatasetWriter.add). */
  add(batch: AppliedBatch, id: number): Promise<void> | undefined {
    const objectWritten = this.objects.addBytes(batch.texts, id === 0 ? 0 : batch.textEnds[id - 1], batch.textEnds[id]);
    const indexWritten = this.index.addBytes(
      batch.entries,
      id === 0 ? 0 : batch.entryEnds[id - 1],
      batch.entryEnds[id],
    );
    if (!objectWritten && !indexWritten) return undefined;
    return Promise.all([objectWritten, indexWritten]).then(() => undefined);
  }

  /** The index last: an index's manifest means its objects are all staged. */
  async close(): Promise<void> {
    await this.objects.close();
    await this.index.close();
  }
}

function isComplete(outcome: FetchOutcomeLike | undefined): boolean {
  return outcome?.status === 'complete';
}

/** `users record #12`: how a record without a usable key is named in the summary. */
function recordLabel(resource: ResourceName, position: number): string {
  return `${resource} record #${position}`;
}

/** Why an account edge is not written: there is no account to start it from. */
const NO_ACCOUNT = `no ${ENTITY_KINDS.account._type} entity (the account fetch failed or its entity was invalid)`;

/** Resources after the account, in the order they are applied (users last: they point at the others). */
const AFTER_ACCOUNT: readonly ResourceName[] = APPLY_ORDER.filter((resource) => resource !== 'account');

/** The parts of a resource's staged raw dataset, as its manifest lists them. */
async function manifestParts(run: StagedRun, resource: ResourceName): Promise<PartInfo[]> {
  const dataset = rawDatasetName(resource);
  const manifest = await run.readManifest(dataset);
  if (!manifest) throw new StagedInputMissingError(run.key, dataset, 'no manifest (never completed, or removed)');
  return manifest.parts;
}

/**
 * A raw part's bytes, refused unless they are what the manifest says the part holds: the build
 * reads minutes after the fetch wrote, and a part replaced or cut short in between would make a
 * graph short of records that passes for complete.
 */
async function readCheckedPart(run: StagedRun, resource: ResourceName, part: PartInfo): Promise<Buffer> {
  const dataset = rawDatasetName(resource);
  const { bytes } = await run.readPart(dataset, part.index);
  const problem =
    bytes.length !== part.bytes
      ? `${bytes.length} bytes where its manifest says ${part.bytes}`
      : part.sha256 !== undefined && partChecksum(bytes) !== part.sha256
        ? 'its SHA-256 is not the one its manifest gives'
        : undefined;
  if (problem) throw new StagedInputMissingError(run.key, dataset, `part ${part.index} is not as written: ${problem}`);
  return bytes;
}

/** Staged records a build will read: the converter is sized by it. */
async function stagedRecordCount(
  run: StagedRun,
  outcomes: Readonly<Partial<Record<ResourceName, FetchOutcomeLike>>>,
): Promise<number> {
  let records = 0;
  for (const resource of RESOURCE_NAMES) {
    if (!isComplete(outcomes[resource])) continue;
    records += (await run.readManifest(rawDatasetName(resource)))?.records ?? 0;
  }
  return records;
}

/**
 * Builds the graph of one run from its staged raw datasets. Resources whose fetch did not complete
 * are not read; their types, and the relationships touching them, are reported partial.
 */
export async function buildGraph(
  run: StagedRun,
  outcomes: Readonly<Partial<Record<ResourceName, FetchOutcomeLike>>>,
  context: GraphInstanceContext,
  options: BuildGraphOptions = {},
): Promise<BuildGraphSummary> {
  // A retried build starts from a clean slate rather than mixing parts of two attempts.
  for (const { dataset } of GRAPH_DATASETS) await run.removeDataset(dataset);
  const sink = new GraphSink(run, options.recordsPerPart ?? GRAPH_RECORDS_PER_PART);
  const recordsRead = Object.fromEntries(RESOURCE_NAMES.map((r) => [r, 0])) as Record<ResourceName, number>;

  /** Counts a record applied; reports progress and honours the abort signal now and then. */
  const counted = (resource: ResourceName): number => {
    const count = (recordsRead[resource] += 1);
    if (count % PROGRESS_INTERVAL === 0) {
      options.signal?.throwIfAborted();
      options.onProgress?.({ resource, records: count });
    }
    return count;
  };
  const started = (resource: ResourceName): void => {
    options.signal?.throwIfAborted();
    options.onProgress?.({ resource, records: 0 });
  };
  /** An entity, or the record it could not be made from, counted as dropped. */
  const addEntityOf = (
    resource: ResourceName,
    label: string,
    converted: ConvertedEntity | UnconvertibleRecord,
  ): { entity: ConvertedEntity; result: EntityResult } | undefined => {
    if (isUnconvertible(converted)) {
      sink.drop(ENTITY_TYPE_OF_RESOURCE[resource], label, converted.unconvertible);
      return undefined;
    }
    return { entity: converted, result: sink.addEntity(converted) };
  };

  // The account first, on this thread: one record, whose key every account edge needs.
  let accountKey: string | undefined;
  started('account');
  if (isComplete(outcomes.account)) {
    for (const part of await manifestParts(run, 'account')) {
      const converted = convertRecordTexts(
        'account',
        jsonLineTexts(await readCheckedPart(run, 'account', part)),
        context,
      );
      sink.batch = appliedBatch(converted.objects);
      accountKey ??= accountKeyOf(converted);
      for (const record of converted.records) {
        counted('account');
        addEntityOf('account', 'account record', record.entity);
      }
    }
  }
  const applyRecord = (resource: ResourceName, record: ConvertedRecord): void =>
    applyConverted(sink, resource, record, recordLabel(resource, counted(resource)), accountKey);

  /** Every staged part to apply, resource by resource in apply order. */
  async function* stagedParts(): AsyncIterable<{ resource: ResourceName; part: PartInfo }> {
    for (const resource of AFTER_ACCOUNT) {
      if (!isComplete(outcomes[resource])) continue;
      for (const part of await manifestParts(run, resource)) yield { resource, part };
    }
  }

  const convertedAhead = { parts: 0, of: 0 };
  const instanceContext = contextKey(context);
  /**
   * A part's conversion: the one kept from before the build when it was made from the part as its
   * manifest describes it, else a new one from the part's bytes, checked against the manifest.
   */
  const convertPart = async (resource: ResourceName, part: PartInfo): Promise<ConvertedBatch> => {
    convertedAhead.of += 1;
    const kept = await readConvertedAhead(run, resource, part.index, instanceContext, accountKey, part.sha256);
    if (kept) {
      convertedAhead.parts += 1;
      return kept;
    }
    return converter.convert(resource, await readCheckedPart(run, resource, part), accountKey);
  };

  const threads = options.conversionThreads ?? conversionThreadsFor(await stagedRecordCount(run, outcomes));
  const converter = openRecordConverter(context, threads, options.borrowThreads);
  try {
    // Progress reports a resource's start when its first batch is applied, and the start of every
    // resource before it that had nothing to apply (a failed fetch, an empty list).
    let notStarted = 0;
    const startThrough = (resource: ResourceName): void => {
      while (notStarted <= AFTER_ACCOUNT.indexOf(resource)) started(AFTER_ACCOUNT[notStarted++]);
    };
    for await (const [job, converted] of convertedInOrder(
      stagedParts(),
      (job) => convertPart(job.resource, job.part),
      Math.max(1, threads * PARTS_IN_FLIGHT_PER_THREAD),
    )) {
      startThrough(job.resource);
      sink.batch = appliedBatch(converted.objects);
      for (const record of converted.records) applyRecord(job.resource, record);
      const written = sink.pendingWrites();
      if (written) await written;
    }
    startThrough('users');
  } finally {
    await converter.close();
  }

  await sink.close();
  return {
    entities: sink.entities,
    relationships: sink.relationships,
    partialTypes: computePartialTypes(outcomes, sink.droppedByType),
    dropped: { count: sink.droppedCount, examples: sink.droppedExamples },
    skippedRelationships: sink.skippedRelationships,
    duplicatesSkipped: sink.duplicatesSkipped,
    valuesLeftOut: sink.valuesLeftOut,
    recordsRead,
    convertedAhead,
  };
}

/**
 * One converted record: its entity (unless its key is taken or the data model rejected it), then
 * the edges its resource declares (src/resources/table.ts) — from the account, to each linked
 * entity that exists, to each entity it carries — and its mapped relationship. An edge whose end is
 * missing is skipped and counted with the link's reason; the edges of a dropped entity are counted
 * skipped too.
 */
function applyConverted(
  sink: GraphSink,
  resource: ResourceName,
  record: ConvertedRecord,
  label: string,
  accountKey: string | undefined,
): void {
  const declaration = RESOURCE_TABLE[resource];
  const accountEdge = declaration.accountEdge && RELATIONSHIP_KINDS[declaration.accountEdge];
  const entityType = ENTITY_KINDS[declaration.entity]._type;
  const converted = record.entity;
  if (isUnconvertible(converted)) {
    sink.drop(entityType, label, converted.unconvertible);
    return;
  }
  const result = sink.addEntity(converted);
  // A repeated record (offset paging over a changing tenant) was accounted for the first time.
  if (result === 'duplicate' || result === 'duplicate-of-dropped') return;
  const links = declaration.links ?? [];
  const embedded = declaration.embedded ?? [];

  if (result === 'dropped') {
    const dropped = `the ${entityType} was dropped as invalid`;
    if (accountEdge && accountKey) sink.skip(accountEdge, dropped);
    links.forEach((link, index) =>
      sink.skip(RELATIONSHIP_KINDS[link.relationship], dropped, record.links?.[index]?.length ?? 0),
    );
    embedded.forEach((inside, index) =>
      sink.skip(RELATIONSHIP_KINDS[inside.relationship], dropped, record.embedded?.[index]?.length ?? 0),
    );
    return;
  }

  if (accountEdge) {
    if (record.accountEdge) sink.addRelationship(record.accountEdge);
    else sink.skip(accountEdge, NO_ACCOUNT);
  }
  // One record may name the same group, phone or device twice: that is one edge.
  const emitted = new Set<string>();
  links.forEach((link, index) => {
    const kind = RELATIONSHIP_KINDS[link.relationship];
    const ends = sink.keysOf(ENTITY_KINDS[kind.source === declaration.entity ? kind.target : kind.source]._type);
    for (const edge of record.links?.[index] ?? []) {
      if (ends.has(edge.end)) sink.addRelationshipOnce(edge, emitted);
      else sink.skip(kind, link.missing);
    }
  });
  embedded.forEach((inside, index) => {
    const kind = RELATIONSHIP_KINDS[inside.relationship];
    const insideType = ENTITY_KINDS[inside.entity]._type;
    (record.embedded?.[index] ?? []).forEach(({ entity, edge }, position) => {
      if (isUnconvertible(entity)) {
        sink.drop(insideType, `${label} ${inside.label} #${position + 1}`, entity.unconvertible);
        return;
      }
      const added = sink.addEntity(entity);
      if (added === 'dropped' || added === 'duplicate-of-dropped' || !edge) sink.skip(kind, inside.dropped);
      else sink.addRelationshipOnce(edge, emitted);
    });
  });
  if (record.mapping) sink.addRelationship(record.mapping);
}
