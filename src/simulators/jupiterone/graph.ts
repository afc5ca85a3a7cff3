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
import { hash } from 'node:crypto';
import type { DirectRelationship, Entity, MappedRelationship, MappedRelationshipMapping } from '../../graph/types';
import type { SyncJobCounters } from '../../jupiterone/types';
import { HeldObject } from './held-object';

/** Scope key of the entities the mapper creates; they survive every job's DIFF. */
export const SYSTEM_MAPPER_SCOPE_KEY = 'system-mapper';

/** One relationship the mapper made for a mapped relationship (there is one per matched target). */
export interface MappedEdge {
  _fromEntityKey: string;
  _toEntityKey: string;
  targetEntityKey: string;
}

/** A mapped relationship as the account holds it. */
export interface HeldMapping {
  /** The mapped relationship as uploaded. */
  relationship: HeldObject;
  edges: MappedEdge[];
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
  entities = new Map<string, HeldObject>();
  relationships = new Map<string, HeldObject>();
  mapped = new Map<string, HeldMapping>();

  /** A deep copy, sorted by `_key` so that two snapshots of the same graph compare equal. */
  snapshot(): HeldGraph {
    const sorted = <T>(map: ReadonlyMap<string, T>): T[] =>
      [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, value]) => value);
    return {
      entities: sorted(this.entities).map((held) => held.copy() as Entity),
      relationships: sorted(this.relationships).map((held) => held.copy() as DirectRelationship),
      mappedRelationships: sorted(this.mapped).map(({ relationship, edges }) => ({
        relationship: relationship.copy() as MappedRelationship,
        edges: edges.map((edge) => ({ ...edge })),
      })),
    };
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

  *allEntities(): Iterable<HeldObject> {
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
  entities: ReadonlyMap<string, HeldObject>;
  relationships: ReadonlyMap<string, HeldObject>;
  partialTypes: ReadonlySet<string>;
}

/** JSON with object keys sorted, so that two objects compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return inner;
    return Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)));
  });
}

/**
 * Whether two held objects are the same: equal texts (re-sent objects are usually serialised by
 * the same code, so the digests settle almost every comparison), or equal once keys are sorted.
 */
function sameContent(a: HeldObject, b: HeldObject): boolean {
  return a === b || a.digest() === b.digest() || canonicalJson(a.value()) === canonicalJson(b.value());
}

function sameMapped(a: HeldMapping, b: HeldMapping): boolean {
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
  same: (a: T, b: T) => boolean,
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
    if (!entities.has(key) && isPartial(entity.type)) entities.set(key, entity);
  }
  const hasEnds = (relationship: HeldObject) =>
    entities.has(relationship.fromEntityKey as string) && entities.has(relationship.toEntityKey as string);

  let relationshipCreateErrors = 0;
  const relationships = new Map<string, HeldObject>();
  const uploadedMapped: HeldObject[] = [];
  for (const [key, relationship] of input.relationships) {
    if (relationship.mapping !== undefined) {
      uploadedMapped.push(relationship);
    } else if (hasEnds(relationship)) {
      relationships.set(key, relationship);
    } else {
      relationshipCreateErrors++;
    }
  }
  for (const [key, relationship] of previous.relationships) {
    if (relationships.has(key) || input.relationships.has(key) || !isPartial(relationship.type)) continue;
    if (hasEnds(relationship)) relationships.set(key, relationship);
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
    else if (resolved.edges.length > 0) next.mapped.set(relationship.key, resolved);
  }
  for (const [key, held] of previous.mapped) {
    if (next.mapped.has(key) || input.relationships.has(key) || !isPartial(held.relationship.type)) continue;
    if (entities.has(held.relationship.mapping!.sourceEntityKey)) next.mapped.set(key, held);
  }

  const entityChanges = tallyChanges(previous.entities, next.entities, sameContent);
  const relationshipChanges = tallyChanges(previous.relationships, next.relationships, sameContent);
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
  scopeEntities: ReadonlyMap<string, HeldObject>,
  relationship: HeldObject,
): HeldMapping | 'error' {
  const mapping = relationship.mapping!;
  if (!scopeEntities.has(mapping.sourceEntityKey)) return 'error';
  let targets: HeldObject[] = [];
  for (const group of mapping.targetFilterKeys) {
    targets = finder.find(group, mapping.targetEntity);
    if (targets.length > 0) break;
  }
  const mapperScope = account.scope(SYSTEM_MAPPER_SCOPE_KEY);
  if (targets.length === 0) {
    if (mapping.skipTargetCreation === true) return { relationship, edges: [] };
    const created = mapperEntityFor(mapping.targetEntity, mapping.targetFilterKeys[0]);
    if (created === undefined) return 'error';
    const held = HeldObject.live(created);
    mapperScope.entities.set(created._key, held);
    finder.add(held);
    targets = [held];
  } else {
    // The mapper keeps the entities it owns up to date with what mappings say about them.
    for (const target of targets) {
      if (mapperScope.entities.get(target.key) === target) {
        mergeTargetProperties(target.value() as Entity, mapping.targetEntity);
        target.updated();
      }
    }
  }
  const edges = targets.map((target) =>
    mapping.relationshipDirection === 'FORWARD'
      ? { _fromEntityKey: mapping.sourceEntityKey, _toEntityKey: target.key, targetEntityKey: target.key }
      : { _fromEntityKey: target.key, _toEntityKey: mapping.sourceEntityKey, targetEntityKey: target.key },
  );
  return { relationship, edges };
}

type TargetEntity = MappedRelationshipMapping['targetEntity'];

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
  // Object.assign, then the identity: measured an order of magnitude faster than an object spread
  // here (a tenant maps every user, so this runs once per user).
  const entity = Object.assign({}, targetEntity) as Entity;
  entity._key = key;
  entity._type = type;
  entity._class = classList;
  entity._source = 'system-mapper';
  return entity;
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
export function matchesFilterGroup(
  entity: Record<string, unknown>,
  group: readonly string[],
  targetEntity: TargetEntity,
): boolean {
  return group.every((key) => {
    const wanted = valuesOf(targetEntity[key]);
    const have = valuesOf(entity[key]);
    if (key === '_class') return wanted.every((value) => have.includes(value));
    return wanted.some((value) => have.includes(value));
  });
}

/** Caps the index entries of one entity whose filter properties are long arrays. */
const MAX_INDEX_TUPLES_PER_ENTITY = 1000;

/** An entity in a target index, with the value its filter properties were read from. */
interface IndexedEntity {
  held: HeldObject;
  value: Record<string, unknown>;
}

/**
 * Finds mapping targets through one index per filter group (a tenant maps every user, so a scan of
 * the account per mapping would be quadratic). Index hits are confirmed with matchesFilterGroup.
 *
 * A group that filters on `_type` (nearly all do) is indexed one type at a time, from the types
 * held beside each object, so only the entities of the wanted type are ever parsed.
 */
class TargetFinder {
  private readonly indexes = new Map<
    string,
    { group: readonly string[]; type?: string; index: Map<string, IndexedEntity[]> }
  >();

  constructor(private readonly account: AccountGraph) {}

  find(group: readonly string[], targetEntity: TargetEntity): HeldObject[] {
    const type = group.includes('_type') && typeof targetEntity._type === 'string' ? targetEntity._type : undefined;
    const index = this.indexFor(group, type);
    const probe = JSON.stringify(group.map((key) => valuesOf(targetEntity[key])[0]));
    return (index.get(probe) ?? [])
      .filter((entity) => matchesFilterGroup(entity.value, group, targetEntity))
      .map((entity) => entity.held);
  }

  add(entity: HeldObject): void {
    for (const { group, type, index } of this.indexes.values()) {
      if (type === undefined || entity.type === type) addToIndex(index, group, entity);
    }
  }

  private indexFor(group: readonly string[], type: string | undefined): Map<string, IndexedEntity[]> {
    // Filter keys are property names; NUL and SOH do not occur in them.
    const signature = `${group.join('\u0000')}\u0001${type ?? ''}`;
    let indexed = this.indexes.get(signature);
    if (!indexed) {
      indexed = { group, type, index: new Map() };
      for (const entity of this.account.allEntities()) {
        if (type === undefined || entity.type === type) addToIndex(indexed.index, group, entity);
      }
      this.indexes.set(signature, indexed);
    }
    return indexed.index;
  }
}

function addToIndex(index: Map<string, IndexedEntity[]>, group: readonly string[], held: HeldObject): void {
  const value = held.value() as Record<string, unknown>;
  const entry = { held, value };
  const add = (tuple: string) => {
    const bucket = index.get(tuple);
    if (bucket) bucket.push(entry);
    else index.set(tuple, [entry]);
  };
  const valueLists = group.map((key) => valuesOf(value[key]));
  if (valueLists.every((values) => values.length === 1)) {
    // One tuple, the usual case (an email and a type): nothing to combine or de-duplicate.
    add(JSON.stringify(valueLists.map((values) => values[0])));
    return;
  }
  let tuples: Primitive[][] = [[]];
  for (const values of valueLists) {
    tuples = tuples.flatMap((tuple) => values.map((value) => [...tuple, value])).slice(0, MAX_INDEX_TUPLES_PER_ENTITY);
  }
  for (const tuple of new Set(tuples.map((tuple) => JSON.stringify(tuple)))) add(tuple);
}
