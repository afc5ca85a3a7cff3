/**
 * buildGraph: staged raw Duo records in, staged graph datasets out.
 *
 * Reads `raw/<resource>` datasets as streams and writes `graph/entities/<_type>` and
 * `graph/relationships/<_type>` datasets. Memory holds key sets only (which groups, phones and MFA
 * devices exist), never a tenant's worth of entities, so 100,000-user tenants build in bounded memory.
 *
 * Resources are read in dependency order: everything users point at (account, groups, phones,
 * tokens, WebAuthn credentials) is indexed before the users are read, so each user's edges are built
 * from its own record in one pass, and an edge whose end does not exist is skipped and counted.
 */
import { DatasetWriter } from '../staging/dataset-writer';
import type { StagedRun } from '../staging/store';
import type {
  DuoAdmin,
  DuoGroup,
  DuoIntegrationRecord,
  DuoPhone,
  DuoToken,
  DuoUser,
  DuoWebAuthnCredential,
} from '../duo/types';
import {
  ENTITY_KEYS,
  ENTITY_KINDS,
  GRAPH_DATASETS,
  RELATIONSHIP_KINDS,
  RESOURCE_NAMES,
  rawDatasetName,
  type RelationshipKind,
  type ResourceName,
} from './data-model';
import {
  UnconvertibleRecordError,
  convertAccount,
  convertAdmin,
  convertGroup,
  convertIntegration,
  convertPhone,
  convertToken,
  convertU2fToken,
  convertUser,
  convertWebAuthnCredential,
  type GraphInstanceContext,
  type StagedAccountRecord,
} from './converters';
import { computePartialTypes, type FetchOutcomeLike, type PartialType } from './partial-datasets';
import { directRelationship, employeeMapping } from './relationships';
import type { Entity, Relationship } from './types';
import { relationshipError, validateEntity } from './validation';
import { text } from './values';

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
  /** Objects per staged part of a graph dataset. */
  recordsPerPart?: number;
  /** Called when a resource starts and every `PROGRESS_INTERVAL` records; keep it cheap. */
  onProgress?: (progress: BuildGraphProgress) => void;
  /** Stops the build (rejecting with the signal's reason) at the next progress point. */
  signal?: AbortSignal;
}

/** `duplicate`: the key is already in the graph; `duplicate-of-dropped`: an earlier copy was dropped. */
type EntityResult = 'added' | 'duplicate' | 'dropped' | 'duplicate-of-dropped';

/**
 * Accumulates the graph: validates, de-duplicates and writes objects, and keeps the counts.
 *
 * Adding is synchronous: a build adds several objects per staged record (hundreds of thousands per
 * run), and a promise and an await per object cost measurable time, the more so inside Temporal
 * activities where async hooks are active. A writer hands back a promise only when an object
 * completes a part; the sink keeps those and the build awaits them after each record
 * (`pendingWrites`), so a part's write is still waited for before the producer runs far ahead.
 */
class GraphSink {
  // One writer and one key set per declared type, made up front: looking them up by the declared
  // (interned) type strings is cheap, and no dataset name is built per object.
  private readonly entityWriters = new Map<string, DatasetWriter>();
  private readonly relationshipWriters = new Map<string, DatasetWriter>();
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

  constructor(run: StagedRun, recordsPerPart: number | undefined) {
    for (const { dataset, kind, type } of GRAPH_DATASETS) {
      const writer = new DatasetWriter(run, dataset, { recordsPerPart });
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
   * (nearly always). Await it before reading the next record.
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
    // same record is converted ends the build first) they must not count as unhandled.
    write.catch(() => undefined);
    this.writes.push(write);
  }

  addEntity(entity: Entity): EntityResult {
    const { _type: type, _key: key } = entity;
    const keys = this.keysByType.get(type);
    const writer = this.entityWriters.get(type);
    if (!keys || !writer)
      throw new Error(`"${type}" is not a declared entity type; declare it in src/graph/data-model.ts.`);
    if (keys.has(key) || this.droppedKeys.has(key)) {
      this.duplicatesSkipped[type] = (this.duplicatesSkipped[type] ?? 0) + 1;
      return keys.has(key) ? 'duplicate' : 'duplicate-of-dropped';
    }
    const validation = validateEntity(entity);
    if (!validation.valid) {
      this.droppedKeys.add(key);
      this.drop(type, key, validation.error);
      return 'dropped';
    }
    for (const property of validation.removedProperties) {
      const id = `${type}.${property}`;
      this.valuesLeftOut[id] = (this.valuesLeftOut[id] ?? 0) + 1;
    }
    keys.add(key);
    this.track(writer.add(validation.entity));
    this.entities[type] += 1;
    return 'added';
  }

  addRelationship(relationship: Relationship): void {
    const type = relationship._type;
    const writer = this.relationshipWriters.get(type);
    if (!writer)
      throw new Error(`"${type}" is not a declared relationship type; declare it in src/graph/data-model.ts.`);
    const error = relationshipError(relationship);
    if (error) {
      this.drop(type, relationship._key, error);
      return;
    }
    this.track(writer.add(relationship));
    this.relationships[type] += 1;
  }

  /**
   * Adds a direct relationship unless `emitted` already holds its key: one record may list the
   * same group, phone or device twice, and that is one edge.
   */
  addDirectRelationshipOnce(kind: RelationshipKind, fromKey: string, toKey: string, emitted: Set<string>): void {
    const relationship = directRelationship(kind, fromKey, toKey);
    if (emitted.has(relationship._key)) return;
    emitted.add(relationship._key);
    this.addRelationship(relationship);
  }

  /** Commits every declared graph dataset, empty ones included, so readers find all of them. */
  async close(): Promise<void> {
    for (const writer of this.entityWriters.values()) await writer.close();
    for (const writer of this.relationshipWriters.values()) await writer.close();
  }
}

function isComplete(outcome: FetchOutcomeLike | undefined): boolean {
  return outcome?.status === 'complete';
}

/** `users record #12`: how a record without a usable key is named in the summary. */
function recordLabel(resource: ResourceName, position: number): string {
  return `${resource} record #${position}`;
}

/** Converts a record, turning a record that cannot be keyed into a counted drop. */
function tryConvert<T>(
  sink: GraphSink,
  type: string,
  label: string,
  record: T,
  convert: (record: T, context: GraphInstanceContext) => Entity,
  context: GraphInstanceContext,
): Entity | undefined {
  try {
    return convert(record, context);
  } catch (error) {
    if (error instanceof UnconvertibleRecordError) {
      sink.drop(type, label, error.message);
      return undefined;
    }
    throw error;
  }
}

const SKIP = {
  noAccount: `no ${ENTITY_KINDS.account._type} entity (the account fetch failed or its entity was invalid)`,
  userDropped: `the ${ENTITY_KINDS.user._type} was dropped as invalid`,
  groupMissing: 'the group is not among the fetched groups',
  phoneMissing: 'the phone is not among the fetched phones',
  mfaDeviceMissing: 'the device is not among the fetched tokens and WebAuthn credentials',
  u2fDropped: 'the U2F token was dropped as invalid',
};

function idsOf(list: unknown, field: string): string[] {
  if (!Array.isArray(list)) return [];
  const ids: string[] = [];
  for (const item of list) {
    const id = item && typeof item === 'object' ? text((item as Record<string, unknown>)[field]) : undefined;
    if (id) ids.push(id);
  }
  return ids;
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
  const sink = new GraphSink(run, options.recordsPerPart);

  const recordsRead = Object.fromEntries(RESOURCE_NAMES.map((r) => [r, 0])) as Record<ResourceName, number>;

  /** A resource's staged records, or none when its fetch did not complete. */
  const records = <T>(resource: ResourceName): AsyncIterable<T> | T[] => {
    options.signal?.throwIfAborted();
    options.onProgress?.({ resource, records: 0 });
    return isComplete(outcomes[resource]) ? run.read<T>(rawDatasetName(resource)) : [];
  };
  /** Counts a record read; reports progress and honours the abort signal now and then. */
  const counted = (resource: ResourceName): number => {
    const count = (recordsRead[resource] += 1);
    if (count % PROGRESS_INTERVAL === 0) {
      options.signal?.throwIfAborted();
      options.onProgress?.({ resource, records: count });
    }
    return count;
  };

  let accountKey: string | undefined;
  for await (const record of records<StagedAccountRecord>('account')) {
    counted('account');
    const entity = tryConvert(sink, ENTITY_KINDS.account._type, 'account record', record, convertAccount, context);
    if (entity && sink.addEntity(entity) === 'added') accountKey ??= entity._key;
    const written = sink.pendingWrites();
    if (written) await written;
  }

  const linkToAccount = (kind: RelationshipKind, entity: Entity, result: EntityResult): void => {
    if (result !== 'added') return;
    if (accountKey) sink.addRelationship(directRelationship(kind, accountKey, entity._key));
    else sink.skip(kind, SKIP.noAccount);
  };

  const convertAndLink = async <T>(
    resource: ResourceName,
    type: string,
    convert: (record: T, context: GraphInstanceContext) => Entity,
    accountRelationship?: RelationshipKind,
  ): Promise<void> => {
    for await (const record of records<T>(resource)) {
      const count = counted(resource);
      const entity = tryConvert(sink, type, recordLabel(resource, count), record, convert, context);
      if (!entity) continue;
      const result = sink.addEntity(entity);
      if (accountRelationship) linkToAccount(accountRelationship, entity, result);
      const written = sink.pendingWrites();
      if (written) await written;
    }
  };

  await convertAndLink<DuoAdmin>('admins', ENTITY_KINDS.admin._type, convertAdmin, RELATIONSHIP_KINDS.accountHasAdmin);
  await convertAndLink<DuoGroup>('groups', ENTITY_KINDS.group._type, convertGroup, RELATIONSHIP_KINDS.accountHasGroup);
  await convertAndLink<DuoIntegrationRecord>(
    'integrations',
    ENTITY_KINDS.integration._type,
    convertIntegration,
    RELATIONSHIP_KINDS.accountHasIntegration,
  );
  await convertAndLink<DuoPhone>('phones', ENTITY_KINDS.phone._type, convertPhone);
  await convertAndLink<DuoToken>('tokens', ENTITY_KINDS.mfaDevice._type, convertToken);
  await convertAndLink<DuoWebAuthnCredential>('webauthn', ENTITY_KINDS.mfaDevice._type, convertWebAuthnCredential);

  for await (const user of records<DuoUser>('users')) {
    const label = recordLabel('users', counted('users'));
    addUser(sink, user, label, context, accountKey, linkToAccount);
    const written = sink.pendingWrites();
    if (written) await written;
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
  };
}

/** One user: its entity, and every edge its record gives (groups, phones, MFA devices, employee). */
function addUser(
  sink: GraphSink,
  user: DuoUser,
  label: string,
  context: GraphInstanceContext,
  accountKey: string | undefined,
  linkToAccount: (kind: RelationshipKind, entity: Entity, result: EntityResult) => void,
): void {
  const mfaType = ENTITY_KINDS.mfaDevice._type;
  const entity = tryConvert(sink, ENTITY_KINDS.user._type, label, user, convertUser, context);
  if (!entity) return;
  const result = sink.addEntity(entity);
  // A repeated user record (offset paging over a changing tenant) was accounted for the first time.
  if (result === 'duplicate' || result === 'duplicate-of-dropped') return;

  const groupIds = idsOf(user.groups, 'group_id');
  const phoneIds = idsOf(user.phones, 'phone_id');
  const mfaIds = [...idsOf(user.tokens, 'token_id'), ...idsOf(user.webauthncredentials, 'webauthnkey')];
  const u2fTokens = Array.isArray(user.u2ftokens) ? user.u2ftokens : [];

  if (result === 'dropped') {
    sink.skip(RELATIONSHIP_KINDS.accountHasUser, SKIP.userDropped, accountKey ? 1 : 0);
    sink.skip(RELATIONSHIP_KINDS.groupHasUser, SKIP.userDropped, groupIds.length);
    sink.skip(RELATIONSHIP_KINDS.userUsesPhone, SKIP.userDropped, phoneIds.length);
    sink.skip(RELATIONSHIP_KINDS.userAssignedMfaDevice, SKIP.userDropped, mfaIds.length + u2fTokens.length);
    return;
  }

  const userKey = entity._key;
  linkToAccount(RELATIONSHIP_KINDS.accountHasUser, entity, result);

  const emitted = new Set<string>();
  const groupKeys = sink.keysOf(ENTITY_KINDS.group._type);
  for (const groupId of groupIds) {
    const groupKey = ENTITY_KEYS.group(groupId);
    if (groupKeys.has(groupKey)) {
      sink.addDirectRelationshipOnce(RELATIONSHIP_KINDS.groupHasUser, groupKey, userKey, emitted);
    } else sink.skip(RELATIONSHIP_KINDS.groupHasUser, SKIP.groupMissing);
  }
  const phoneKeys = sink.keysOf(ENTITY_KINDS.phone._type);
  for (const phoneId of phoneIds) {
    const phoneKey = ENTITY_KEYS.phone(phoneId);
    if (phoneKeys.has(phoneKey)) {
      sink.addDirectRelationshipOnce(RELATIONSHIP_KINDS.userUsesPhone, userKey, phoneKey, emitted);
    } else sink.skip(RELATIONSHIP_KINDS.userUsesPhone, SKIP.phoneMissing);
  }
  const mfaKeys = sink.keysOf(mfaType);
  for (const deviceId of mfaIds) {
    const deviceKey = ENTITY_KEYS.mfaDevice(deviceId);
    if (mfaKeys.has(deviceKey)) {
      sink.addDirectRelationshipOnce(RELATIONSHIP_KINDS.userAssignedMfaDevice, userKey, deviceKey, emitted);
    } else sink.skip(RELATIONSHIP_KINDS.userAssignedMfaDevice, SKIP.mfaDeviceMissing);
  }
  // U2F tokens have no list endpoint: the users' records are their only source.
  for (let index = 0; index < u2fTokens.length; index += 1) {
    const device = tryConvert(
      sink,
      mfaType,
      `${label} U2F token #${index + 1}`,
      u2fTokens[index],
      convertU2fToken,
      context,
    );
    if (!device) continue;
    const deviceResult = sink.addEntity(device);
    if (deviceResult === 'dropped' || deviceResult === 'duplicate-of-dropped') {
      sink.skip(RELATIONSHIP_KINDS.userAssignedMfaDevice, SKIP.u2fDropped);
    } else {
      sink.addDirectRelationshipOnce(RELATIONSHIP_KINDS.userAssignedMfaDevice, userKey, device._key, emitted);
    }
  }

  const mapping = employeeMapping(user, userKey);
  if (mapping) sink.addRelationship(mapping);
}
