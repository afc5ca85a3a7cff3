/**
 * The graph the simulated JupiterOne account holds, and what finalizing a DIFF job does to it.
 *
 * The account's graph is split by owner: one part per scope key (an integration instance or an API
 * scope), plus the part the mapper owns (the entities it created as mapped-relationship targets,
 * such as `employee` people). A finalized DIFF job replaces its own part only:
 *
 * - its entities and direct relationships become exactly what the job uploaded, except that the
 *   previous objects of the job's partial types that were not re-sent are kept;
 * - relationships whose endpoint is not in the new part are not created (`num…CreateErrors`), and
 *   kept ones whose endpoint disappeared go with it;
 * - mapped relationships are resolved against every entity of the account: the targets matching
 *   the first filter group that matches anything, or a new mapper-owned entity built from
 *   `targetEntity` when nothing matches and `skipTargetCreation` is not set.
 */
import { createHash, hash } from 'node:crypto';
import {
  type DirectRelationship,
  type Entity,
  isMappedRelationship,
  type MappedRelationship,
  type Relationship,
} from '../../graph/types';
import type { SyncJobCounters } from '../../jupiterone/types';

/** Scope key of the entities the mapper creates; they survive every job's DIFF. */
export const SYSTEM_MAPPER_SCOPE_KEY = 'system-mapper';

/** One relationship the mapper made for a mapped relationship (there is one per matched target). */
export interface MappedEdge {
  _fromEntityKey: string;
  _toEntityKey: string;
  targetEntityKey: string;
}

export interface HeldMappedRelationship {
  /** The mapped relationship as uploaded. */
  relationship: MappedRelationship;
  edges: MappedEdge[];
}

/** A part of the account's graph, as the inspection route and `heldGraph()` return it. */
export interface HeldGraph {
  entities: Entity[];
  relationships: DirectRelationship[];
  mappedRelationships: HeldMappedRelationship[];
}

export class ScopeGraph {
  entities = new Map<string, Entity>();
  relationships = new Map<string, DirectRelationship>();
  mapped = new Map<string, HeldMappedRelationship>();

  /** A deep copy, sorted by `_key` so that two snapshots of the same graph compare equal. */
  snapshot(): HeldGraph {
    const sorted = <T>(map: ReadonlyMap<string, T>): T[] =>
      [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, value]) => value);
    return structuredClone({
      entities: sorted(this.entities),
      relationships: sorted(this.relationships),
      mappedRelationships: sorted(this.mapped),
    });
  }
}

export class AccountGraph {
  readonly scopes = new Map<string, ScopeGraph>();

  scope(scopeKey: string): ScopeGraph {
    let graph = this.scopes.get(scopeKey);
    if (!graph) {
      graph = new ScopeGraph();
      this.scopes.set(scopeKey, graph);
    }
    return graph;
  }

  *allEntities(): Iterable<Entity> {
    for (const graph of this.scopes.values()) yield* graph.entities.values();
  }
}

export type FinalizeCounters = Pick<
  SyncJobCounters,
  | 'numEntitiesCreated'
  | 'numEntitiesUpdated'
  | 'numEntitiesDeleted'
  | 'numRelationshipsCreated'
  | 'numRelationshipsUpdated'
  | 'numRelationshipsDeleted'
  | 'numRelationshipCreateErrors'
  | 'numMappedRelationshipsCreated'
  | 'numMappedRelationshipsUpdated'
  | 'numMappedRelationshipsDeleted'
  | 'numMappedRelationshipCreateErrors'
>;

export interface FinalizeInput {
  scopeKey: string;
  entities: ReadonlyMap<string, Entity>;
  relationships: ReadonlyMap<string, Relationship>;
  partialTypes: ReadonlySet<string>;
}

/** JSON with object keys sorted, so that two objects compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return inner;
    return Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)));
  });
}

const fingerprints = new WeakMap<object, string>();

/**
 * Digest of an object's JSON text, computed once per object and only when finalize compares it
 * with a held object of the same key: the first finalize of a scope compares nothing, and a held
 * object keeps its digest for every later finalize, so each object is serialised at most once
 * (and no second copy of the graph is kept).
 */
export function fingerprintOf(object: object): string {
  let fingerprint = fingerprints.get(object);
  if (fingerprint === undefined) {
    fingerprint = createHash('sha1').update(JSON.stringify(object)).digest('base64');
    fingerprints.set(object, fingerprint);
  }
  return fingerprint;
}

function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  // Re-sent objects are usually built by the same code, keys in the same order: the plain JSON
  // comparison settles most of them without sorting keys.
  return fingerprintOf(a) === fingerprintOf(b) || canonicalJson(a) === canonicalJson(b);
}

function sameMapped(a: HeldMappedRelationship, b: HeldMappedRelationship): boolean {
  return sameContent(a.relationship, b.relationship) && JSON.stringify(a.edges) === JSON.stringify(b.edges);
}

interface ChangeTally {
  created: number;
  updated: number;
  deleted: number;
}

/** Counts created/updated/deleted between two keyed collections. */
function tallyChanges<T>(
  previous: ReadonlyMap<string, T>,
  next: ReadonlyMap<string, T>,
  same: (a: T, b: T) => boolean = sameContent,
): ChangeTally {
  const tally = { created: 0, updated: 0, deleted: 0 };
  for (const [key, object] of next) {
    const before = previous.get(key);
    if (before === undefined) tally.created++;
    else if (!same(before, object)) tally.updated++;
  }
  for (const key of previous.keys()) if (!next.has(key)) tally.deleted++;
  return tally;
}

/** Applies a finalized DIFF job to the account's graph and returns the job's change counters. */
export function finalizeIntoAccount(account: AccountGraph, input: FinalizeInput): FinalizeCounters {
  const previous = account.scope(input.scopeKey);
  const isPartial = (type: string) => input.partialTypes.has(type);

  const entities = new Map(input.entities);
  for (const [key, entity] of previous.entities) {
    if (!entities.has(key) && isPartial(entity._type)) entities.set(key, entity);
  }

  let relationshipCreateErrors = 0;
  const relationships = new Map<string, DirectRelationship>();
  const uploadedMapped: MappedRelationship[] = [];
  for (const [key, relationship] of input.relationships) {
    if (isMappedRelationship(relationship)) {
      uploadedMapped.push(relationship);
    } else if (entities.has(relationship._fromEntityKey) && entities.has(relationship._toEntityKey)) {
      relationships.set(key, relationship);
    } else {
      relationshipCreateErrors++;
    }
  }
  for (const [key, relationship] of previous.relationships) {
    if (relationships.has(key) || input.relationships.has(key) || !isPartial(relationship._type)) continue;
    if (entities.has(relationship._fromEntityKey) && entities.has(relationship._toEntityKey)) {
      relationships.set(key, relationship);
    }
  }

  const next = new ScopeGraph();
  next.entities = entities;
  next.relationships = relationships;
  // The new entities must be visible before mapped relationships are resolved against the account.
  account.scopes.set(input.scopeKey, next);

  const finder = new TargetFinder(account);
  let mappedCreateErrors = 0;
  for (const relationship of uploadedMapped) {
    const resolved = resolveMappedRelationship(account, finder, entities, relationship);
    if (resolved === 'error') mappedCreateErrors++;
    else if (resolved.edges.length > 0) next.mapped.set(relationship._key, resolved);
  }
  for (const [key, held] of previous.mapped) {
    if (next.mapped.has(key) || input.relationships.has(key) || !isPartial(held.relationship._type)) continue;
    if (entities.has(held.relationship._mapping.sourceEntityKey)) next.mapped.set(key, held);
  }

  const entityChanges = tallyChanges(previous.entities, next.entities);
  const relationshipChanges = tallyChanges(previous.relationships, next.relationships);
  const mappedChanges = tallyChanges(previous.mapped, next.mapped, sameMapped);
  return {
    numEntitiesCreated: entityChanges.created,
    numEntitiesUpdated: entityChanges.updated,
    numEntitiesDeleted: entityChanges.deleted,
    numRelationshipsCreated: relationshipChanges.created,
    numRelationshipsUpdated: relationshipChanges.updated,
    numRelationshipsDeleted: relationshipChanges.deleted,
    numRelationshipCreateErrors: relationshipCreateErrors,
    numMappedRelationshipsCreated: mappedChanges.created,
    numMappedRelationshipsUpdated: mappedChanges.updated,
    numMappedRelationshipsDeleted: mappedChanges.deleted,
    numMappedRelationshipCreateErrors: mappedCreateErrors,
  };
}

function resolveMappedRelationship(
  account: AccountGraph,
  finder: TargetFinder,
  scopeEntities: ReadonlyMap<string, Entity>,
  relationship: MappedRelationship,
): HeldMappedRelationship | 'error' {
  const mapping = relationship._mapping;
  if (!scopeEntities.has(mapping.sourceEntityKey)) return 'error';
  let targets: Entity[] = [];
  for (const group of mapping.targetFilterKeys) {
    targets = finder.find(group, mapping.targetEntity);
    if (targets.length > 0) break;
  }
  const mapperScope = account.scope(SYSTEM_MAPPER_SCOPE_KEY);
  if (targets.length === 0) {
    if (mapping.skipTargetCreation === true) return { relationship, edges: [] };
    const created = mapperEntityFor(mapping.targetEntity, mapping.targetFilterKeys[0]);
    if (created === undefined) return 'error';
    mapperScope.entities.set(created._key, created);
    finder.add(created);
    targets = [created];
  } else {
    // The mapper keeps the entities it owns up to date with what mappings say about them.
    for (const target of targets) {
      if (mapperScope.entities.get(target._key) === target) {
        mergeTargetProperties(target, mapping.targetEntity);
        fingerprints.delete(target);
      }
    }
  }
  const edges = targets.map((target) =>
    mapping.relationshipDirection === 'FORWARD'
      ? { _fromEntityKey: mapping.sourceEntityKey, _toEntityKey: target._key, targetEntityKey: target._key }
      : { _fromEntityKey: target._key, _toEntityKey: mapping.sourceEntityKey, targetEntityKey: target._key },
  );
  return { relationship, edges };
}

type TargetEntity = MappedRelationship['_mapping']['targetEntity'];

function mergeTargetProperties(target: Entity, properties: TargetEntity): void {
  for (const [name, value] of Object.entries(properties)) {
    if (!name.startsWith('_')) target[name] = value;
  }
}

/**
 * The entity the mapper creates for an unmatched mapping, like JupiterOne's `system-mapper`
 * objects. Without a `_key` in `targetEntity` the key is derived from the filter values, so the
 * same mapping creates the same entity every time. Undefined when `_type` or `_class` is missing.
 */
export function mapperEntityFor(targetEntity: TargetEntity, firstGroup: string[]): Entity | undefined {
  const type = targetEntity._type;
  const classes = targetEntity._class as unknown;
  if (typeof type !== 'string' || type.length < 3) return undefined;
  const classList = Array.isArray(classes) ? classes.map(String) : typeof classes === 'string' ? [classes] : [];
  if (classList.length === 0) return undefined;
  const filterValues = firstGroup.map((key) => [key, targetEntity[key]]);
  const key =
    typeof targetEntity._key === 'string' && targetEntity._key.length >= 10
      ? targetEntity._key
      : // Filter values are primitives (validation.ts checks), so plain JSON is already canonical.
        `${SYSTEM_MAPPER_SCOPE_KEY}:${type}:${hash('sha256', JSON.stringify(filterValues), 'hex').slice(0, 24)}`;
  return { ...targetEntity, _key: key, _type: type, _class: classList, _source: 'system-mapper' };
}

type Primitive = string | number | boolean | null;

function valuesOf(value: unknown): Primitive[] {
  if (value === undefined || value === null) return [null];
  if (Array.isArray(value)) return value.length === 0 ? [null] : (value as Primitive[]);
  return [value as Primitive];
}

/**
 * Whether an entity matches one filter group: `_class` must contain every target class; any other
 * property matches when the entity's value (or one element of its array) equals the target value.
 */
export function matchesFilterGroup(entity: Entity, group: readonly string[], targetEntity: TargetEntity): boolean {
  return group.every((key) => {
    const wanted = valuesOf(targetEntity[key]);
    const have = valuesOf(entity[key]);
    if (key === '_class') return wanted.every((value) => have.includes(value));
    return wanted.some((value) => have.includes(value));
  });
}

/** Caps the index entries of one entity whose filter properties are long arrays. */
const MAX_INDEX_TUPLES_PER_ENTITY = 1000;

/**
 * Finds mapping targets through one index per filter group (a tenant maps every user, so a scan of
 * the account per mapping would be quadratic). Index hits are confirmed with matchesFilterGroup.
 */
class TargetFinder {
  private readonly indexes = new Map<string, Map<string, Entity[]>>();

  constructor(private readonly account: AccountGraph) {}

  find(group: readonly string[], targetEntity: TargetEntity): Entity[] {
    const index = this.indexFor(group);
    const probe = JSON.stringify(group.map((key) => valuesOf(targetEntity[key])[0]));
    return (index.get(probe) ?? []).filter((entity) => matchesFilterGroup(entity, group, targetEntity));
  }

  add(entity: Entity): void {
    for (const [signature, index] of this.indexes) addToIndex(index, JSON.parse(signature) as string[], entity);
  }

  private indexFor(group: readonly string[]): Map<string, Entity[]> {
    const signature = JSON.stringify(group);
    let index = this.indexes.get(signature);
    if (!index) {
      index = new Map();
      for (const entity of this.account.allEntities()) addToIndex(index, group, entity);
      this.indexes.set(signature, index);
    }
    return index;
  }
}

function addToIndex(index: Map<string, Entity[]>, group: readonly string[], entity: Entity): void {
  const valueLists = group.map((key) => valuesOf(entity[key]));
  let tuples: Primitive[][];
  if (valueLists.every((values) => values.length === 1)) {
    tuples = [valueLists.map((values) => values[0])];
  } else {
    tuples = [[]];
    for (const values of valueLists) {
      tuples = tuples
        .flatMap((tuple) => values.map((value) => [...tuple, value]))
        .slice(0, MAX_INDEX_TUPLES_PER_ENTITY);
    }
  }
  for (const tuple of new Set(tuples.map((tuple) => JSON.stringify(tuple)))) {
    const bucket = index.get(tuple);
    if (bucket) bucket.push(entity);
    else index.set(tuple, [entity]);
  }
}
