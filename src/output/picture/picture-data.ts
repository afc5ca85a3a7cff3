/**
 * The data a `graph.html` page embeds, collected from graph objects as they stream past.
 *
 * Memory stays bounded for any tenant: at most `maxNodesPerType` entities of each `_type` are kept
 * for drawing (with their properties, without `_rawData`), and at most `maxEdges` relationships
 * between kept entities. Only a `_key → type number` map covers every entity, which is what lets
 * the type-level summary count relationships between types exactly.
 *
 * Entities must all be added before the first relationship (a relationship's ends are looked up
 * when it is added).
 */
import { isMappedRelationship, type Entity, type PropertyValue, type Relationship } from '../../graph/types';

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

export interface PictureData {
  title: string;
  generatedAt: string;
  /** Above this many drawable nodes the page opens on the type-level summary. */
  detailThreshold: number;
  maxNodesPerType: number;
  types: PictureType[];
  relationshipTypes: PictureRelationshipType[];
  nodes: PictureNode[];
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

export class PictureCollector {
  private readonly maxNodesPerType: number;
  private readonly maxEdges: number;
  private readonly detailThreshold: number;
  private readonly types: PictureType[] = [];
  private readonly typeNumbers = new Map<string, number>();
  private readonly relationshipTypes: PictureRelationshipType[] = [];
  private readonly relationshipTypeNumbers = new Map<string, number>();
  /** Type number of every entity and mapped-target placeholder seen. */
  private readonly typeOfKey = new Map<string, number>();
  /** Node number of every entity kept for drawing. */
  private readonly nodeOfKey = new Map<string, number>();
  private readonly nodes: PictureNode[] = [];
  private readonly edges: PictureEdge[] = [];
  private readonly typeEdges = new Map<string, PictureTypeEdge>();

  constructor(
    private readonly partialTypes: PartialTypeReasons,
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

  /** Declares an entity type up front, so types without objects still appear (e.g. a partial one). */
  declareEntityType(name: string, mappedTarget = false): number {
    let number = this.typeNumbers.get(name);
    if (number === undefined) {
      number = this.types.length;
      this.types.push({ name, count: 0, drawn: 0, ...this.partialOf(name), mappedTarget });
      this.typeNumbers.set(name, number);
    }
    return number;
  }

  declareRelationshipType(name: string): number {
    let number = this.relationshipTypeNumbers.get(name);
    if (number === undefined) {
      number = this.relationshipTypes.length;
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
    if (this.typeOfKey.has(key)) return;
    this.typeOfKey.set(key, typeNumber);
    const type = this.types[typeNumber];
    type.count += 1;
    if (type.drawn >= this.maxNodesPerType) return;
    type.drawn += 1;
    this.nodeOfKey.set(key, this.nodes.length);
    this.nodes.push({ key, type: typeNumber, ...describe() });
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

  /** A relationship of `type` from the entity keyed `from` to the one keyed `to` (entities added before). */
  addEdge(type: string, from: string, to: string): void {
    const relationshipType = this.declareRelationshipType(type);
    this.relationshipTypes[relationshipType].count += 1;
    const sourceType = this.typeOfKey.get(from);
    const targetType = this.typeOfKey.get(to);
    if (sourceType === undefined || targetType === undefined) return;
    const typeEdgeKey = `${relationshipType}:${sourceType}:${targetType}`;
    const typeEdge = this.typeEdges.get(typeEdgeKey);
    if (typeEdge) typeEdge.count += 1;
    else this.typeEdges.set(typeEdgeKey, { relationshipType, source: sourceType, target: targetType, count: 1 });
    const source = this.nodeOfKey.get(from);
    const target = this.nodeOfKey.get(to);
    if (source === undefined || target === undefined || this.edges.length >= this.maxEdges) return;
    this.relationshipTypes[relationshipType].drawn += 1;
    this.edges.push({ source, target, type: relationshipType });
  }

  build(title: string, generatedAt: string): PictureData {
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
