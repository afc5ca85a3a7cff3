/**
 * buildGraph: the converted pages the fetches staged in, staged graph datasets out.
 *
 * Each fetch converted its records as it read them (record-conversion.ts, page-conversion.ts) and
 * staged them as `converted/<resource>`; the build applies those results — de-duplication, the
 * account's edges, links to other resources, drops, counts, writes — on one thread, strictly in
 * record order, so the graph is the same however and wherever its records were converted. It
 * writes `graph/entities/<_type>` and `graph/relationships/<_type>` datasets. Memory holds key sets
 * only (which groups, phones and MFA devices exist), never a tenant's worth of entities, so
 * 100,000-user tenants build in bounded memory.
 *
 * Resources are applied in the order the resource table gives: the account first, whose key every
 * account edge needs, and a resource after those its records link to (users after the groups,
 * phones, tokens and WebAuthn credentials they name), so each record's edges are made from its own
 * record in one pass, and an edge whose end does not exist is skipped and counted.
 */
import { APPLY_ORDER, RESOURCE_NAMES, RESOURCE_TABLE, type ResourceName } from '../resources/table';
import { DatasetWriter } from '../staging/dataset-writer';
import { PartBuffers } from '../staging/part-buffers';
import type { PartInfo, StagedRun } from '../staging/store';
import { mapInOrder } from '../util/in-order';
import { ConvertedPartReader, conversionKey, convertedParts } from './converted-part';
import type { GraphInstanceContext } from './converters';
import { DEVICE_USE_RELATIONSHIP_TYPES, type LogGraphFacts } from './log-facts';
import { ENTITY_KEYS, ENTITY_KINDS, GRAPH_DATASETS, RELATIONSHIP_KINDS, type RelationshipKind } from './data-model';
import { MfaPostureTracker, factorOfLink, resourcesLinkingWith } from './mfa-posture';
import { computePartialTypes, sourcesOf, type FetchOutcomeLike, type PartialType } from './partial-datasets';
import {
  accountKeyOf,
  isUnconvertible,
  type CandidateRelationship,
  type ConvertedEntity,
  type ConvertedRecord,
  type ConvertedRelationship,
  type SerializedObjects,
} from './record-conversion';
import { directRelationship, directRelationshipKey, stagedDirectRelationship } from './relationships';
import { stagedGraphObject } from './serialization';
import type { Entity, GraphObject, Relationship } from './types';
import { directRelationshipError, relationshipError, validateEntity } from './validation';

/** At most this many dropped objects are described in a summary (the rest are only counted). */
export const MAX_DROPPED_EXAMPLES = 20;

export interface DroppedObject {
  key: string;
  type: string;
  error: string;
}

export interface DroppedObjects {
  count: number;
  /** The first `MAX_DROPPED_EXAMPLES`. */
  examples: DroppedObject[];
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
  dropped: DroppedObjects;
  /** Edges not emitted because one end does not exist, by type and reason. */
  skippedRelationships: SkippedRelationships[];
  /** Records seen again under a key already written (overlapping list pages, a U2F token in several users), per `_type`. */
  duplicatesSkipped: Record<string, number>;
  /** Property values the data model rejected and that were left out (kept in `_rawData`), per `<_type>.<property>`. */
  valuesLeftOut: Record<string, number>;
  /** Staged records read per resource (zero for resources whose fetch did not complete). */
  recordsRead: Record<ResourceName, number>;
}

/** Where a build is, reported every `PROGRESS_INTERVAL` records (an activity heartbeats with it). */
export interface BuildGraphProgress {
  resource: ResourceName;
  /** Records of `resource` read so far. */
  records: number;
}

/**
 * The resources whose converted datasets a build had found staged when its progress reached
 * `resource`: it applies them in `APPLY_ORDER`, and reports a resource once its first part is
 * read, every dataset before it committed (or switched off, or failed: those it does not read).
 */
export function resourcesStagedBy(resource: ResourceName): ResourceName[] {
  const position = APPLY_ORDER.indexOf(resource);
  return position === -1 ? [] : APPLY_ORDER.slice(0, position + 1);
}

/** Records between two progress reports (and abort checks). */
export const PROGRESS_INTERVAL = 1000;

export interface BuildGraphOptions {
  /** Objects per staged part of a graph dataset; default `GRAPH_RECORDS_PER_PART`. */
  recordsPerPart?: number;
  /** Called when a resource starts and every `PROGRESS_INTERVAL` records; keep it cheap. */
  onProgress?: (progress: BuildGraphProgress) => void;
  /** Stops the build (rejecting with the signal's reason) at the next part or progress point. */
  signal?: AbortSignal;
  /** Facts from Duo's logs (the instance's logs are on and their aggregates complete): added to users, integrations and their edges. */
  logFacts?: LogGraphFacts;
  /**
   * The staged parts of a resource to apply, in order, given the key of the conversion they must
   * have been made with. By default those its manifest lists (its fetch is over); a build that
   * runs while the fetch goes on gives them as they are staged (`followConvertedParts`).
   */
  partsOf?: (resource: ResourceName, key: string) => AsyncIterable<PartInfo>;
  /**
   * Also given every object as it is staged (a local delivery that follows the build,
   * src/output/local-graph-draft.ts). Must not throw; a promise it answers is awaited with the
   * staging's own writes.
   */
  copyTo?: GraphObjectCopy;
}

/**
 * Takes each staged object, of `kind` and `_type`, as its canonical text and index entry's JSON
 * text. Text given as bytes is a view of the part being applied, whose buffer reads the next part
 * once it is applied: what is kept must be copied during the call.
 */
export interface GraphObjectCopy {
  add(
    kind: 'entities' | 'relationships',
    type: string,
    text: Uint8Array | string,
    indexEntry: string,
  ): Promise<void> | undefined;
}

/**
 * Objects per staged graph part. Each of the forty-odd writers (a dataset and its index per type)
 * buffers its current part in memory, and a part of 5,000 users' entities is over 12 MB: parts of
 * 2,000 took 40 MB off a 100,000-user build's peak memory, at no measurable cost in time.
 */
const GRAPH_RECORDS_PER_PART = 2000;

/**
 * Bytes after which a staged graph part is written with fewer objects. Each writer holds two
 * parts (one filling, one being written): at 2,000 objects a part, the writers of a 20,000-user
 * build held about 100 MB of buffers by its end, a users' part alone 5 MB; at a megabyte, a writer
 * holds about 2 MB at most, and the larger types are staged in a few times as many files.
 */
const GRAPH_BYTES_PER_PART = 1024 * 1024;

/**
 * Buffers the writers keep free between them for their next parts (`PartBuffers`): about as many
 * as the writers of one resource (its entity type and the relationship types its records make,
 * each a dataset and its index) have parts being written at once.
 */
const FREE_PART_BUFFERS = 8;

/** Staged parts being read while one is applied. */
const PARTS_READ_AHEAD = 2;

/** `duplicate`: the key is already in the graph; `duplicate-of-dropped`: an earlier copy was dropped. */
type EntityResult = 'added' | 'duplicate' | 'dropped' | 'duplicate-of-dropped';

const applyPosition = (resource: ResourceName) => APPLY_ORDER.indexOf(resource);

/** The entity kind at the other end of a link's relationship from the record's entity. */
function linkedKind(resource: ResourceName, relationship: RelationshipKind) {
  return relationship.source === RESOURCE_TABLE[resource].entity ? relationship.target : relationship.source;
}

/**
 * Per resource, per link by id: whether the entities it links to come from a resource applied after
 * it (an administrator's `hardtoken`, applied before the tokens). Such edges are held and written,
 * or skipped, once every resource is applied; the table keeps them to small resources.
 */
const HELD_LINKS = Object.fromEntries(
  APPLY_ORDER.map((resource) => [
    resource,
    (RESOURCE_TABLE[resource].links ?? []).map((link) =>
      sourcesOf(linkedKind(resource, RELATIONSHIP_KINDS[link.relationship])).some(
        (source) => applyPosition(source) > applyPosition(resource),
      ),
    ),
  ]),
) as Record<ResourceName, boolean[]>;

/**
 * Relationship types whose edges links of several resources make (an administrator's token is
 * named by the administrator and by the token): the same edge may come twice, from two records,
 * so their keys are kept for the whole build. Types made from one resource's records need no such
 * set (one record's repeats are caught per record).
 */
const SHARED_LINK_TYPES: ReadonlySet<string> = new Set(
  Object.values(RELATIONSHIP_KINDS)
    .filter((kind) => {
      const makers = APPLY_ORDER.filter((resource) =>
        (RESOURCE_TABLE[resource].links ?? []).some((link) => RELATIONSHIP_KINDS[link.relationship] === kind),
      );
      return makers.length > 1;
    })
    .map((kind) => kind._type),
);

/**
 * Entity types whose emails the build indexes, for the links by email that name them. Their
 * resources must be applied before the resource declaring the link: checked here, once.
 */
const EMAIL_INDEXED_TYPES: ReadonlySet<string> = new Set(
  APPLY_ORDER.flatMap((resource) =>
    (RESOURCE_TABLE[resource].emailLinks ?? []).map((link) => {
      const other = linkedKind(resource, RELATIONSHIP_KINDS[link.relationship]);
      const late = sourcesOf(other).filter(
        (source) => applyPosition(source) >= applyPosition(resource) || !RESOURCE_TABLE[source].emailField,
      );
      if (late.length > 0) {
        throw new Error(
          `The ${resource} row links by email to ${other} entities, but ${late.join(', ')} is applied after it or declares no emailField.`,
        );
      }
      return ENTITY_KINDS[other]._type;
    }),
  ),
);

/** An edge held until every resource is applied: its serialised text, copied out of its batch. */
interface HeldEdge {
  kind: RelationshipKind;
  key: string;
  end: string;
  /** The `_type` of the entity at `end`. */
  endType: string;
  text?: string;
  indexEntry?: string;
  error?: string;
  missing: string;
  /** For an edge that counts towards its holder's MFA posture. */
  posture?: { holderKey: string; deviceKey: string; factor: NonNullable<ReturnType<typeof factorOfLink>> };
}

/** The relationships some resource's MFA posture is worked out from. */
const POSTURE_RELATIONSHIPS: ReadonlySet<string> = new Set(
  APPLY_ORDER.flatMap((resource) => RESOURCE_TABLE[resource].mfaPosture ?? []),
);

/** An entity held until its MFA posture is known. */
interface HeldEntity {
  type: string;
  key: string;
  text: string;
  indexEntry: string;
  /** Facts from Duo's logs to add. */
  extra?: Record<string, string | number | boolean>;
}

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
  private readonly sharedEdgeKeys = new Map<string, Set<string>>(
    [...SHARED_LINK_TYPES].map((type) => [type, new Set()]),
  );
  /**
   * Per email-indexed type, the keys of its entities by email: the key itself for the one entity
   * with that email (nearly every email of a tenant), a list only for several. A list per user
   * was a small array for each of a large tenant's users, held for the whole build.
   */
  private readonly emailIndex = new Map<string, Map<string, string | string[]>>(
    [...EMAIL_INDEXED_TYPES].map((type) => [type, new Map()]),
  );
  /** Administrators', integrations' and (some) users' keys by name, when the logs name them so. */
  private readonly byName = new Map<string, Map<string, string[]>>();
  /** Keys of the `USES` device edges the inventory made that the log shows: the log adds only the others. */
  private readonly deviceUseKeys = new Set<string>();
  private readonly heldEdges: HeldEdge[] = [];
  private readonly heldEntities: HeldEntity[] = [];
  readonly posture = new MfaPostureTracker();
  private writes: Promise<void>[] = [];
  droppedCount = 0;
  /** The serialised objects of the batch being applied (converted results refer to them by id). */
  batch: AppliedBatch = EMPTY_BATCH;

  constructor(
    run: StagedRun,
    recordsPerPart: number | undefined,
    private readonly logFacts?: LogGraphFacts,
    copyTo?: GraphObjectCopy,
  ) {
    const buffers = new PartBuffers(FREE_PART_BUFFERS);
    for (const { dataset, indexDataset, kind, type } of GRAPH_DATASETS) {
      const copy = copyTo && ((text: Uint8Array | string, entry: string) => copyTo.add(kind, type, text, entry));
      const writer = new StagedObjectWriter(run, dataset, indexDataset, { recordsPerPart, buffers }, copy);
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

  /**
   * Adds a converted entity unless its key is taken or the data model rejected it. `hold`: counted
   * now, written by `releaseHeldEntities` (with its MFA posture).
   */
  addEntity(entity: ConvertedEntity, hold = false): EntityResult {
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
    if (this.logFacts?.administration) this.indexName(type, key, entity.object);
    const extra = this.logFacts?.entityProperties(type, key);
    if (hold) {
      const { object } = entity;
      this.heldEntities.push({ type, key, text: this.objectText(object), indexEntry: this.entryText(object), extra });
    } else if (extra) this.track(this.addWithProperties(writer, entity.object, extra));
    else this.track(writer.add(this.batch, entity.object));
    this.entities[type] += 1;
    return 'added';
  }

  /** The text of object `id` of the batch being applied, copied out of it. */
  private objectText(id: number): string {
    return this.batch.texts.toString('utf8', id === 0 ? 0 : this.batch.textEnds[id - 1], this.batch.textEnds[id]);
  }

  private entryText(id: number): string {
    return this.batch.entries.toString('utf8', id === 0 ? 0 : this.batch.entryEnds[id - 1], this.batch.entryEnds[id]);
  }

  /** Notes an entity's email for the links by email that name its type. */
  indexEmail(type: string, email: string | undefined, key: string): void {
    const index = this.emailIndex.get(type);
    if (!index || email === undefined) return;
    const keys = index.get(email);
    if (keys === undefined) index.set(email, key);
    else if (typeof keys === 'string') index.set(email, [keys, key]);
    else keys.push(key);
  }

  /** Keys of the entities of an indexed type with this email. */
  keysWithEmail(type: string, email: string): readonly string[] {
    const keys = this.emailIndex.get(type)?.get(email);
    return keys === undefined ? [] : typeof keys === 'string' ? [keys] : keys;
  }

  /** Holds a candidate edge until every resource is applied (`releaseHeldEdges`). */
  holdEdge(
    edge: CandidateRelationship,
    kind: RelationshipKind,
    endType: string,
    missing: string,
    posture?: HeldEdge['posture'],
  ): void {
    this.heldEdges.push({
      kind,
      key: edge.key,
      end: edge.end,
      endType,
      text: edge.object === undefined ? undefined : this.objectText(edge.object),
      indexEntry: edge.object === undefined ? undefined : this.entryText(edge.object),
      error: edge.error,
      missing,
      posture,
    });
  }

  /** Writes each held edge whose end now exists, or counts it skipped. */
  releaseHeldEdges(): void {
    for (const held of this.heldEdges) {
      if (!this.keysOf(held.endType).has(held.end)) {
        this.skip(held.kind, held.missing);
        continue;
      }
      if (!this.firstOfShared(held.kind._type, held.key)) continue;
      if (held.text === undefined || held.indexEntry === undefined) {
        this.drop(held.kind._type, held.key, held.error ?? 'rejected by the data model');
        continue;
      }
      const writer = this.relationshipWriters.get(held.kind._type)!;
      const extra = this.logPropertiesOf(held.kind._type, held.key);
      this.track(
        extra ? this.addTextWithProperties(writer, held.text, extra) : writer.addText(held.text, held.indexEntry),
      );
      this.relationships[held.kind._type] += 1;
      if (held.posture) this.posture.note(held.posture.holderKey, held.posture.deviceKey, held.posture.factor);
    }
    this.heldEdges.length = 0;
  }

  /**
   * Writes the held entities, with their MFA posture where it is known (`postureKnown` of their
   * type): re-made from their text, checked again, and staged as any other entity.
   */
  releaseHeldEntities(postureKnown: (type: string) => boolean): void {
    for (const held of this.heldEntities) {
      const writer = this.entityWriters.get(held.type)!;
      const posture = postureKnown(held.type) ? this.posture.propertiesOf(held.key) : undefined;
      const entity =
        posture || held.extra ? { ...(JSON.parse(held.text) as Entity), ...posture, ...held.extra } : undefined;
      // The data model accepts these properties (plain flags, a count and a list); should it ever
      // not, the entity goes as it was converted rather than not at all.
      const validation = entity && validateEntity(entity);
      if (validation?.valid) {
        const { text, indexEntry } = stagedGraphObject(validation.entity);
        this.track(writer.addText(text, indexEntry));
      } else this.track(writer.addText(held.text, held.indexEntry));
    }
    this.heldEntities.length = 0;
  }

  /** False when an edge of a type several resources make was written already (from another record). */
  private firstOfShared(type: string, key: string): boolean {
    const keys = this.sharedEdgeKeys.get(type);
    if (!keys) return true;
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  }

  /** Writes object `id` of the batch with `extra` properties added (facts from Duo's logs). */
  private addWithProperties(writer: StagedObjectWriter, id: number, extra: Record<string, unknown>) {
    return this.addTextWithProperties(writer, this.objectText(id), extra);
  }

  private addTextWithProperties(writer: StagedObjectWriter, text: string, extra: Record<string, unknown>) {
    const staged = stagedGraphObject({ ...(JSON.parse(text) as GraphObject), ...extra } as GraphObject);
    return writer.addText(staged.text, staged.indexEntry);
  }

  /**
   * The log's properties of an edge the inventory made (when it is a device-use edge the log
   * shows), noting its key so that the log does not make it again (`addDeviceUseFromLog`). Only
   * the keys the log shows are noted: the others are never looked up, and every phone and
   * endpoint a large tenant's users use, held as keys for the whole build, was tens of megabytes.
   */
  private logPropertiesOf(type: string, key: string): Record<string, number> | undefined {
    if (!this.logFacts || !DEVICE_USE_RELATIONSHIP_TYPES.has(type)) return undefined;
    const properties = this.logFacts.relationshipProperties(type, key);
    if (properties) this.deviceUseKeys.add(key);
    return properties;
  }

  /**
   * Notes the name the administrator log would call an entity by: an administrator's or an
   * integration's `name`, a user's username (only those the log names: parsing every user of a
   * large tenant for none would be waste).
   */
  private indexName(type: string, key: string, object: number): void {
    const administration = this.logFacts!.administration!;
    let name: unknown;
    if (type === ENTITY_KINDS.admin._type || type === ENTITY_KINDS.integration._type) {
      name = (JSON.parse(this.objectText(object)) as Entity).name;
    } else if (type === ENTITY_KINDS.user._type && administration.usernames.size > 0) {
      const usernames = (JSON.parse(this.objectText(object)) as Entity).username;
      name = Array.isArray(usernames) ? usernames[0] : undefined;
      if (typeof name !== 'string' || !administration.usernames.has(name)) return;
    } else return;
    if (typeof name !== 'string') return;
    const names = this.byName.get(type) ?? new Map<string, string[]>();
    this.byName.set(type, names);
    names.set(name, [...(names.get(name) ?? []), key]);
  }

  /**
   * Adds what the administrator and activity logs say: the administrators' last action and counts
   * (on their held entities) and who created, viewed the secret key of, or switched to bypass
   * what. A reference no entity — or several — answers to makes no edge and is counted skipped.
   */
  addAdministrationFromLog(): void {
    const administration = this.logFacts?.administration;
    if (!administration) return;
    const resolver = (type: string, keyOf: (key: string) => string) => (reference: string) => {
      if (reference.startsWith('key:')) {
        const key = keyOf(reference.slice('key:'.length));
        return this.keysOf(type).has(key) ? key : undefined;
      }
      const keys = this.byName.get(type)?.get(reference.slice('name:'.length));
      return keys?.length === 1 ? keys[0] : undefined;
    };
    const facts = administration.facts({
      admin: resolver(ENTITY_KINDS.admin._type, ENTITY_KEYS.admin),
      integration: resolver(ENTITY_KINDS.integration._type, ENTITY_KEYS.integration),
      user: resolver(ENTITY_KINDS.user._type, ENTITY_KEYS.user),
    });
    for (const held of this.heldEntities) {
      const properties = held.type === ENTITY_KINDS.admin._type ? facts.adminProperties.get(held.key) : undefined;
      if (properties) held.extra = { ...held.extra, ...properties };
    }
    for (const edge of facts.relationships) this.addMadeRelationship(edge);
    for (const [type, count] of Object.entries(facts.unresolved)) {
      const kind = Object.values(RELATIONSHIP_KINDS).find((k) => k._type === type)!;
      this.skip(kind, 'the log names an administrator, integration or user the run has none (or several) of', count);
    }
  }

  /**
   * Adds Trust Monitor's events as findings, each linked to the user, administrator, phone and
   * endpoint it concerns that the run has (the others counted skipped).
   */
  addFindingsFromLog(): void {
    const findings = this.logFacts?.findings;
    if (!findings) return;
    const type = ENTITY_KINDS.trustMonitorEvent._type;
    for (const { entity, concerned } of findings) {
      const validation = validateEntity(entity);
      if (!validation.valid) {
        this.drop(type, entity._key, validation.error ?? 'rejected by the data model');
        continue;
      }
      const { text, indexEntry } = stagedGraphObject(validation.entity);
      this.track(this.entityWriters.get(type)!.addText(text, indexEntry));
      this.keysByType.get(type)!.add(entity._key);
      this.entities[type] += 1;
      for (const { kind, key } of concerned) {
        if (this.keysOf(ENTITY_KINDS[kind.source]._type).has(key)) {
          this.addMadeRelationship(directRelationship(kind, key, entity._key));
        } else this.skip(kind, `the event names a ${ENTITY_KINDS[kind.source]._type} the run does not have`);
      }
    }
  }

  /** Adds the device-use edges the log shows and the inventory did not make, between entities that exist. */
  addDeviceUseFromLog(): void {
    if (!this.logFacts) return;
    const users = this.keysOf(ENTITY_KINDS.user._type);
    for (const edge of this.logFacts.deviceUseRelationships(
      (userKey, deviceType, deviceKey) => users.has(userKey) && this.keysOf(deviceType).has(deviceKey),
    )) {
      if (!this.deviceUseKeys.has(edge._key)) this.addMadeRelationship(edge);
    }
  }

  /** Adds a converted relationship, or counts it dropped with the reason it failed the check. */
  addRelationship(relationship: ConvertedRelationship): void {
    const { type } = relationship;
    const writer = this.relationshipWriter(type);
    if (relationship.object === undefined) {
      this.drop(type, relationship.key, relationship.error ?? 'rejected by the data model');
      return;
    }
    const extra = this.logPropertiesOf(type, relationship.key);
    this.track(
      extra ? this.addWithProperties(writer, relationship.object, extra) : writer.add(this.batch, relationship.object),
    );
    this.relationships[type] += 1;
  }

  /**
   * Adds a relationship made while applying (an account edge), serialised here, or counts it
   * dropped with the reason it failed the check.
   */
  addMadeRelationship(relationship: Relationship): void {
    const { _type: type, _key: key } = relationship;
    const writer = this.relationshipWriter(type);
    const error = relationshipError(relationship);
    if (error) {
      this.drop(type, key, error);
      return;
    }
    const extra = this.logPropertiesOf(type, key);
    const { text, indexEntry } = stagedGraphObject(extra ? { ...relationship, ...extra } : relationship);
    this.track(writer.addText(text, indexEntry));
    this.relationships[type] += 1;
  }

  /**
   * `addMadeRelationship(directRelationship(kind, fromKey, toKey))`, written from the edge's strings
   * as conversion writes a record's edges (record-conversion.ts): the same text and check, without
   * making the object only to serialise it. Most of what the build makes itself are these (the
   * account's edge to each entity, one per entity of the tenant).
   */
  addMadeDirectRelationship(kind: RelationshipKind, fromKey: string, toKey: string): void {
    const type = kind._type;
    const writer = this.relationshipWriter(type);
    const key = directRelationshipKey(kind, fromKey, toKey);
    const error = directRelationshipError(kind, fromKey, key, toKey);
    if (error) {
      this.drop(type, key, error);
      return;
    }
    // An edge the log adds properties to is made as an object, with them.
    const extra = this.logPropertiesOf(type, key);
    const { text, indexEntry } = extra
      ? stagedGraphObject({ ...directRelationship(kind, fromKey, toKey), ...extra })
      : stagedDirectRelationship(kind, fromKey, key, toKey);
    this.track(writer.addText(text, indexEntry));
    this.relationships[type] += 1;
  }

  /** The staged dataset writer of a relationship type; a type the data model does not declare is a bug. */
  private relationshipWriter(type: string): StagedObjectWriter {
    const writer = this.relationshipWriters.get(type);
    if (!writer)
      throw new Error(`"${type}" is not a declared relationship type; declare it in src/graph/data-model.ts.`);
    return writer;
  }

  /**
   * Adds a candidate edge of a record unless `emitted` already holds its key: one record may list
   * the same group, phone or device twice, and that is one edge.
   */
  addRelationshipOnce(relationship: ConvertedRelationship, emitted: Set<string>): boolean {
    if (emitted.has(relationship.key)) return false;
    emitted.add(relationship.key);
    if (!this.firstOfShared(relationship.type, relationship.key)) return false;
    this.addRelationship(relationship);
    return relationship.object !== undefined;
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

  constructor(
    run: StagedRun,
    dataset: string,
    indexDataset: string,
    options: { recordsPerPart: number | undefined; buffers: PartBuffers },
    private readonly copy?: (text: Uint8Array | string, indexEntry: string) => Promise<void> | undefined,
  ) {
    // The objects are serialised already (record-conversion.ts); the writers stage their bytes.
    const parts = { ...options, bytesPerPart: GRAPH_BYTES_PER_PART };
    this.objects = new DatasetWriter(run, dataset, parts);
    this.index = new DatasetWriter(run, indexDataset, parts);
  }

  /** Adds object `id` of a batch; a promise only when it completed a part being written (see DatasetWriter.addText). */
  add(batch: AppliedBatch, id: number): Promise<void> | undefined {
    const textStart = id === 0 ? 0 : batch.textEnds[id - 1];
    const entryStart = id === 0 ? 0 : batch.entryEnds[id - 1];
    const objectWritten = this.objects.addBytes(batch.texts, textStart, batch.textEnds[id]);
    const indexWritten = this.index.addBytes(batch.entries, entryStart, batch.entryEnds[id]);
    const copied = this.copy?.(
      batch.texts.subarray(textStart, batch.textEnds[id]),
      batch.entries.toString('utf8', entryStart, batch.entryEnds[id]),
    );
    return whenWritten(objectWritten, indexWritten, copied);
  }

  /** Adds an object serialised on its own, with its index entry. */
  addText(text: string, indexEntry: string): Promise<void> | undefined {
    const objectWritten = this.objects.addText(text);
    const indexWritten = this.index.addText(indexEntry);
    return whenWritten(objectWritten, indexWritten, this.copy?.(text, indexEntry));
  }

  /** The index last: an index's manifest means its objects are all staged. */
  async close(): Promise<void> {
    await this.objects.close();
    await this.index.close();
  }
}

/** One promise for the writes an object started; undefined when it started none (nearly always). */
function whenWritten(
  objectWritten: Promise<void> | undefined,
  indexWritten: Promise<void> | undefined,
  copied: Promise<void> | undefined,
): Promise<void> | undefined {
  if (!objectWritten && !indexWritten && !copied) return undefined;
  return Promise.all([objectWritten, indexWritten, copied]).then(() => undefined);
}

/** `users record #12`: how a record without a usable key is named in the summary. */
function recordLabel(resource: ResourceName, position: number): string {
  return `${resource} record #${position}`;
}

/** Why an account edge is not written: there is no account to start it from. */
const NO_ACCOUNT = `no ${ENTITY_KINDS.account._type} entity (the account fetch failed or its entity was invalid)`;

/**
 * Builds the graph of one run from its staged converted datasets. Resources whose fetch did not
 * complete are not read; their types, and the relationships touching them, are reported partial.
 */
export async function buildGraph(
  run: StagedRun,
  outcomes: Readonly<Partial<Record<ResourceName, FetchOutcomeLike>>>,
  context: GraphInstanceContext,
  options: BuildGraphOptions = {},
): Promise<BuildGraphSummary> {
  // A retried build starts from a clean slate rather than mixing parts of two attempts.
  for (const { dataset } of GRAPH_DATASETS) await run.removeDataset(dataset);
  const sink = new GraphSink(run, options.recordsPerPart ?? GRAPH_RECORDS_PER_PART, options.logFacts, options.copyTo);
  const recordsRead = Object.fromEntries(RESOURCE_NAMES.map((r) => [r, 0])) as Record<ResourceName, number>;
  const key = conversionKey(context);
  const applied = APPLY_ORDER.filter((resource) => outcomes[resource]?.status === 'complete');

  /** Counts a record applied; reports progress and honours the abort signal now and then. */
  const counted = (resource: ResourceName): number => {
    const count = (recordsRead[resource] += 1);
    if (count % PROGRESS_INTERVAL === 0) {
      options.signal?.throwIfAborted();
      options.onProgress?.({ resource, records: count });
    }
    return count;
  };

  /** Every staged part to apply, resource by resource in apply order (each manifest checked first). */
  async function* stagedParts(): AsyncIterable<{ resource: ResourceName; part: PartInfo }> {
    for (const resource of applied) {
      const parts = options.partsOf?.(resource, key) ?? (await convertedParts(run, resource, key));
      for await (const part of parts) yield { resource, part };
    }
  }

  // Progress reports a resource's start when its first part is applied, and the start of every
  // resource before it that had nothing to apply (a failed fetch, an empty list).
  let notStarted = 0;
  const startThrough = (resource: ResourceName): void => {
    while (notStarted <= APPLY_ORDER.indexOf(resource)) {
      const starting = APPLY_ORDER[notStarted];
      notStarted += 1;
      options.signal?.throwIfAborted();
      options.onProgress?.({ resource: starting, records: 0 });
    }
  };
  let accountKey: string | undefined;
  // The parts read ahead and the one applied.
  const reader = new ConvertedPartReader(run, PARTS_READ_AHEAD + 1);
  for await (const [{ resource }, { batch, release }] of mapInOrder(
    stagedParts(),
    ({ resource, part }) => reader.read(resource, part),
    PARTS_READ_AHEAD,
  )) {
    options.signal?.throwIfAborted();
    startThrough(resource);
    // The account comes first: its entity's key starts every account edge.
    if (resource === 'account') accountKey ??= accountKeyOf(batch);
    sink.batch = appliedBatch(batch.objects);
    for (const record of batch.records) {
      applyConverted(sink, resource, record, recordLabel(resource, counted(resource)), accountKey);
    }
    // Whatever took the batch's objects (the staged writers, `copyTo`) copied them as it took them.
    sink.batch = EMPTY_BATCH;
    release();
    const written = sink.pendingWrites();
    if (written) await written;
  }
  startThrough(APPLY_ORDER[APPLY_ORDER.length - 1]);

  if (options.logFacts) {
    const users = sink.keysOf(ENTITY_KINDS.user._type);
    const integrations = sink.keysOf(ENTITY_KINDS.integration._type);
    for (const edge of options.logFacts.usageRelationships(
      (userKey, integrationKey) => users.has(userKey) && integrations.has(integrationKey),
    )) {
      sink.addMadeRelationship(edge);
      const written = sink.pendingWrites();
      if (written) await written;
    }
  }

  // Every resource is applied: the held edges' ends are known, and with them the MFA posture of
  // the entities held for it.
  sink.releaseHeldEdges();
  // Then the devices the log shows users used that the inventory does not link them to, and what
  // the administrators' logs say.
  sink.addDeviceUseFromLog();
  sink.addAdministrationFromLog();
  sink.addFindingsFromLog();
  sink.releaseHeldEntities((type) =>
    APPLY_ORDER.some((resource) => {
      const { mfaPosture, entity } = RESOURCE_TABLE[resource];
      return (
        ENTITY_KINDS[entity]._type === type &&
        mfaPosture !== undefined &&
        resourcesLinkingWith(mfaPosture).every((linking) => applied.includes(linking))
      );
    }),
  );
  const written = sink.pendingWrites();
  if (written) await written;
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
  const result = sink.addEntity(converted, declaration.mfaPosture !== undefined);
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
    if (accountKey) sink.addMadeDirectRelationship(accountEdge, accountKey, converted.key);
    else sink.skip(accountEdge, NO_ACCOUNT);
  }
  sink.indexEmail(entityType, record.email, converted.key);
  // One record may name the same group, phone or device twice: that is one edge.
  const emitted = new Set<string>();
  links.forEach((link, index) => {
    const kind = RELATIONSHIP_KINDS[link.relationship];
    const outgoing = kind.source === declaration.entity;
    const endType = ENTITY_KINDS[outgoing ? kind.target : kind.source]._type;
    const ends = sink.keysOf(endType);
    // Edges of administrators' devices count towards their MFA posture.
    const factor = POSTURE_RELATIONSHIPS.has(link.relationship) ? factorOfLink(resource, link) : undefined;
    for (const edge of record.links?.[index] ?? []) {
      const posture = factor && {
        holderKey: outgoing ? converted.key : edge.end,
        deviceKey: outgoing ? edge.end : converted.key,
        factor,
      };
      if (HELD_LINKS[resource][index]) sink.holdEdge(edge, kind, endType, link.missing, posture);
      else if (!ends.has(edge.end)) sink.skip(kind, link.missing);
      else if (sink.addRelationshipOnce(edge, emitted) && posture) {
        sink.posture.note(posture.holderKey, posture.deviceKey, posture.factor);
      }
    }
  });
  // Links by email: to every entity of the other end with the record's email (none is the usual case).
  for (const link of declaration.emailLinks ?? []) {
    if (record.email === undefined) break;
    const kind = RELATIONSHIP_KINDS[link.relationship];
    const outgoing = kind.source === declaration.entity;
    for (const other of sink.keysWithEmail(ENTITY_KINDS[outgoing ? kind.target : kind.source]._type, record.email)) {
      const relationship = outgoing
        ? directRelationship(kind, converted.key, other)
        : directRelationship(kind, other, converted.key);
      if (emitted.has(relationship._key)) continue;
      emitted.add(relationship._key);
      sink.addMadeRelationship(relationship);
    }
  }
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
