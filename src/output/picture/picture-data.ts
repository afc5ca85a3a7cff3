/**
 * The data a `graph.html` page embeds, collected from graph objects as they stream past.
 *
 * Memory stays bounded for any tenant: at most `maxNodesPerType` entities of each `_type` are kept
 * for drawing (with their properties, without `_rawData`), and at most `maxEdges` relationships
 * between kept entities. Only one `_key → number` map covers every entity (its type, and its node
 * when drawn), which is what lets the type-level summary count relationships between types exactly.
 * A kept node is held as the JSON text the page embeds, made once when it is kept: a few thousand
 * parsed entities per type, held as objects until the page was written, were most of a large
 * delivery's heap at its end, where its memory peaked.
 *
 * A relationship's ends are looked up when it is added; one whose end is not there yet (objects of
 * every type arriving in the order a build makes them) is looked up again when the page is built,
 * and left out of the picture only if its end never came.
 */
import { isMappedRelationship, type Entity, type PropertyValue, type Relationship } from '../../graph/types';
import { CompactKeyMap } from '../../util/compact-key-map';
import { scriptSafeJson } from './script-safe-json';

export interface PictureType {
  name: string;
  /** Entities of this type in the graph. */
  count: number;
  /** How many of them the page can draw (fewer than `count` only above `maxNodesPerType`). */
  drawn: number;
  partial: boolean;
  partialReason?: string;
  /** Placeholders for targets of mapped relationships, which JupiterOne resolves or creates. */
  mappedTarget: boolean;
}

export interface PictureRelationshipType {
  name: string;
  count: number;
  drawn: number;
  partial: boolean;
  partialReason?: string;
}

export interface PictureNode {
  key: string;
  /** Index into `types`. */
  type: number;
  label: string;
  /** Every property but `_key`, `_type` and `_rawData`. */
  properties: Record<string, PropertyValue>;
}

export interface PictureEdge {
  /** Indexes into `nodes`. */
  source: number;
  target: number;
  /** Index into `relationshipTypes`. */
  type: number;
}

/** Relationships of one `_type` between entities of two types, for the type-level summary. */
export interface PictureTypeEdge {
  relationshipType: number;
  source: number;
  target: number;
  count: number;
}

/**
 * Array elements held as their JSON texts, already safe inside a `<script>` element
 * (`scriptSafeJson`): the page embeds them as they are (`jsonPiecesForScriptElement`).
 */
export class JsonTextList {
  readonly texts: string[] = [];

  get length(): number {
    return this.texts.length;
  }

  /** Adds `value` as its JSON text. */
  push(value: unknown): void {
    this.texts.push(scriptSafeJson(value));
  }

  /** The elements parsed back (for a reader that wants the values, not the page). */
  toJSON(): unknown[] {
    return this.texts.map((text) => JSON.parse(text) as unknown);
  }
}

export interface PictureData {
  title: string;
  generatedAt: string;
  /** Above this many drawable nodes the page opens on the type-level summary. */
  detailThreshold: number;
  maxNodesPerType: number;
  types: PictureType[];
  relationshipTypes: PictureRelationshipType[];
  /** `PictureNode`s, as JSON texts. */
  nodes: JsonTextList;
  edges: PictureEdge[];
  typeEdges: PictureTypeEdge[];
}

export interface PictureLimits {
  /** Entities of one `_type` kept for drawing; default 5,000. */
  maxNodesPerType?: number;
  /** Relationships kept for drawing; default 50,000. */
  maxEdges?: number;
  /** Drawable nodes above which the page starts with the type summary; default 1,500. */
  detailThreshold?: number;
}

/** Partial types with their reason (undefined when none was given). */
export type PartialTypeReasons = ReadonlyMap<string, string | undefined>;

function labelOf(properties: Record<string, unknown>, fallback: string): string {
  for (const name of ['displayName', 'name']) {
    const value = properties[name];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return fallback;
}

function drawableProperties(graphObject: Record<string, unknown>): Record<string, PropertyValue> {
  const properties: Record<string, PropertyValue> = {};
  for (const [name, value] of Object.entries(graphObject)) {
    if (name === '_key' || name === '_type' || name === '_rawData' || value === undefined) continue;
    properties[name] = value as PropertyValue;
  }
  return properties;
}

/**
 * Type numbers below this fit a place (and a type-edge id) exactly; far more than any data model
 * declares, and checked when a type is declared.
 */
const TYPE_NUMBERS = 4096;

/** An entity's place in the picture as one number: its type, and its node + 1 when drawn (0 when not). */
function place(type: number, node: number | undefined): number {
  return (node === undefined ? 0 : node + 1) * TYPE_NUMBERS + type;
}

function typeOfPlace(place: number): number {
  return place % TYPE_NUMBERS;
}

function nodeOfPlace(place: number): number | undefined {
  const node = Math.floor(place / TYPE_NUMBERS);
  return node === 0 ? undefined : node - 1;
}

/** A relationship type, source type and target type as one number (a Map key that needs no string). */
function typeEdgeId(relationshipType: number, sourceType: number, targetType: number): number {
  return (relationshipType * TYPE_NUMBERS + sourceType) * TYPE_NUMBERS + targetType;
}

/** Fails clearly rather than mixing up types, should a picture ever be given that many types. */
function checkTypeNumber(number: number, what: string): void {
  if (number >= TYPE_NUMBERS) {
    throw new RangeError(`The picture draws at most ${TYPE_NUMBERS} ${what}; this graph declares more.`);
  }
}

export class PictureCollector {
  private readonly maxNodesPerType: number;
  private readonly maxEdges: number;
  private readonly detailThreshold: number;
  private readonly types: PictureType[] = [];
  private readonly typeNumbers = new Map<string, number>();
  private readonly relationshipTypes: PictureRelationshipType[] = [];
  private readonly relationshipTypeNumbers = new Map<string, number>();
  /**
   * Every entity and mapped-target placeholder seen: its type number, and its node number when it
   * is kept for drawing (`place`). One map rather than one per question: it is the largest thing
   * the picture holds (a key per entity of the tenant), and each relationship looks up its ends
   * once. Compact (no string per key) as it lives through the whole delivery.
   */
  private readonly placeOfKey = new CompactKeyMap();
  private readonly nodes = new JsonTextList();
  private readonly edges: PictureEdge[] = [];
  /** Per relationship type, source type and target type (`typeEdgeId`): how many relationships join them. */
  private readonly typeEdges = new Map<number, PictureTypeEdge>();
  /** Relationships one of whose ends was not there when they were added: type number, from, to. */
  private readonly waiting: (number | string)[] = [];

  constructor(
    private partialTypes: PartialTypeReasons,
    limits: PictureLimits = {},
  ) {
    this.maxNodesPerType = limits.maxNodesPerType ?? 5_000;
    this.maxEdges = limits.maxEdges ?? 50_000;
    this.detailThreshold = limits.detailThreshold ?? 1_500;
  }

  private partialOf(name: string): { partial: boolean; partialReason?: string } {
    if (!this.partialTypes.has(name)) return { partial: false };
    const reason = this.partialTypes.get(name);
    return reason ? { partial: true, partialReason: reason } : { partial: true };
  }

  /** The partial types, when they are known only once the objects are in (a delivery that follows the build). */
  setPartialTypes(partialTypes: PartialTypeReasons): void {
    this.partialTypes = partialTypes;
    this.types.forEach(({ name, count, drawn, mappedTarget }, number) => {
      this.types[number] = { name, count, drawn, ...this.partialOf(name), mappedTarget };
    });
    this.relationshipTypes.forEach(({ name, count, drawn }, number) => {
      this.relationshipTypes[number] = { name, count, drawn, ...this.partialOf(name) };
    });
  }

  /** Declares an entity type up front, so types without objects still appear (e.g. a partial one). */
  declareEntityType(name: string, mappedTarget = false): number {
    let number = this.typeNumbers.get(name);
    if (number === undefined) {
      number = this.types.length;
      checkTypeNumber(number, 'entity types');
      this.types.push({ name, count: 0, drawn: 0, ...this.partialOf(name), mappedTarget });
      this.typeNumbers.set(name, number);
    }
    return number;
  }

  declareRelationshipType(name: string): number {
    let number = this.relationshipTypeNumbers.get(name);
    if (number === undefined) {
      number = this.relationshipTypes.length;
      checkTypeNumber(number, 'relationship types');
      this.relationshipTypes.push({ name, count: 0, drawn: 0, ...this.partialOf(name) });
      this.relationshipTypeNumbers.set(name, number);
    }
    return number;
  }

  /**
   * Counts a node and keeps it for drawing while its type is under the limit. `describe` is called
   * only for nodes kept: labels and properties of the other (most, in a large tenant) nodes are
   * never needed.
   */
  private addNode(
    key: string,
    typeNumber: number,
    describe: () => { label: string; properties: Record<string, PropertyValue> },
  ): void {
    const type = this.types[typeNumber];
    const drawn = type.drawn < this.maxNodesPerType;
    const entry = this.placeOfKey.entryOrAdd(key, place(typeNumber, drawn ? this.nodes.length : undefined));
    if (entry >= 0) return;
    type.count += 1;
    if (!drawn) return;
    type.drawn += 1;
    const node: PictureNode = { key, type: typeNumber, ...describe() };
    this.nodes.push(node);
  }

  addEntity(entity: Entity): void {
    this.addEntityOf(entity._type, entity._key, () => entity);
  }

  /**
   * Like `addEntity`, for an entity known by its type and key: `read` gives the whole entity and is
   * called only if the entity is kept for drawing (parsing every entity of a large tenant would be
   * wasted on the few thousand drawn).
   */
  addEntityOf(type: string, key: string, read: () => Entity): void {
    this.addNode(key, this.declareEntityType(type), () => {
      const entity = read();
      return { label: labelOf(entity, key), properties: drawableProperties(entity) };
    });
  }

  addRelationship(relationship: Relationship): void {
    if (isMappedRelationship(relationship)) {
      const mapping = relationship._mapping;
      const target = mapping.targetEntity;
      const targetTypeName = typeof target._type === 'string' ? target._type : 'mapped target';
      // One placeholder per distinct value of the first filter group, as JupiterOne maps every
      // relationship with the same filter values to the same target.
      const filterKeys = mapping.targetFilterKeys[0] ?? Object.keys(target);
      const placeholderKey = `mapped:${targetTypeName}:${JSON.stringify(filterKeys.map((name) => target[name] ?? null))}`;
      this.addNode(placeholderKey, this.declareEntityType(targetTypeName, true), () => {
        const properties: Record<string, PropertyValue> = { ...target, mappedTargetFilterKeys: filterKeys };
        return { label: labelOf(target, placeholderKey), properties };
      });
      const forward = mapping.relationshipDirection === 'FORWARD';
      this.addEdge(
        relationship._type,
        forward ? mapping.sourceEntityKey : placeholderKey,
        forward ? placeholderKey : mapping.sourceEntityKey,
      );
    } else {
      this.addEdge(relationship._type, relationship._fromEntityKey, relationship._toEntityKey);
    }
  }

  /** A relationship of `type` from the entity keyed `from` to the one keyed `to`. */
  addEdge(type: string, from: string, to: string): void {
    const relationshipType = this.declareRelationshipType(type);
    this.relationshipTypes[relationshipType].count += 1;
    if (!this.placeEdge(relationshipType, from, to)) this.waiting.push(relationshipType, from, to);
  }

  /** Counts and keeps an edge between two entities seen; false when one of them has not been. */
  private placeEdge(relationshipType: number, from: string, to: string): boolean {
    const fromPlace = this.placeOfKey.get(from);
    const toPlace = this.placeOfKey.get(to);
    if (fromPlace === undefined || toPlace === undefined) return false;
    const sourceType = typeOfPlace(fromPlace);
    const targetType = typeOfPlace(toPlace);
    const id = typeEdgeId(relationshipType, sourceType, targetType);
    const typeEdge = this.typeEdges.get(id);
    if (typeEdge) typeEdge.count += 1;
    else this.typeEdges.set(id, { relationshipType, source: sourceType, target: targetType, count: 1 });
    const source = nodeOfPlace(fromPlace);
    const target = nodeOfPlace(toPlace);
    if (source === undefined || target === undefined || this.edges.length >= this.maxEdges) return true;
    this.relationshipTypes[relationshipType].drawn += 1;
    this.edges.push({ source, target, type: relationshipType });
    return true;
  }

  build(title: string, generatedAt: string): PictureData {
    // An end still missing now is not in the graph: that relationship is counted but not drawn.
    const waiting = this.waiting.splice(0);
    for (let at = 0; at < waiting.length; at += 3) {
      this.placeEdge(waiting[at] as number, waiting[at + 1] as string, waiting[at + 2] as string);
    }
    return {
      title,
      generatedAt,
      detailThreshold: this.detailThreshold,
      maxNodesPerType: this.maxNodesPerType,
      types: this.types,
      relationshipTypes: this.relationshipTypes,
      nodes: this.nodes,
      edges: this.edges,
      typeEdges: [...this.typeEdges.values()],
    };
  }
}
