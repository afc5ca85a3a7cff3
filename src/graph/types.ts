/**
 * Graph object shapes as JupiterOne's synchronization API and `j1-integration` accept them.
 * These types are the contract between the graph builder (src/graph), the local graph directory
 * (src/output) and the JupiterOne uploader (src/jupiterone).
 */

/** A primitive property value; arrays must be homogeneous (JupiterOne rejects mixed arrays). */
export type PropertyValue = string | number | boolean | null | string[] | number[] | boolean[];

export interface RawDataEntry {
  name: string;
  rawData: object | string;
}

export interface Entity {
  _key: string;
  _type: string;
  _class: string[];
  _rawData?: RawDataEntry[];
  [property: string]: PropertyValue | RawDataEntry[] | undefined;
}

export interface DirectRelationship {
  _key: string;
  _type: string;
  _class: string;
  _fromEntityKey: string;
  _toEntityKey: string;
  displayName: string;
  [property: string]: string | number | boolean | null | undefined;
}

export interface MappedRelationshipMapping {
  relationshipDirection: 'FORWARD' | 'REVERSE';
  sourceEntityKey: string;
  targetFilterKeys: string[][];
  targetEntity: Record<string, string | number | boolean | null>;
  skipTargetCreation?: boolean;
}

export interface MappedRelationship {
  _key: string;
  _type: string;
  _class: string;
  displayName: string;
  _mapping: MappedRelationshipMapping;
  [property: string]: string | number | boolean | null | undefined | MappedRelationshipMapping;
}

export type Relationship = DirectRelationship | MappedRelationship;

/** Any graph object: what files, uploads and the canonical text handle alike. */
export type GraphObject = Entity | Relationship;

export function isMappedRelationship(r: Relationship): r is MappedRelationship {
  return (r as MappedRelationship)._mapping !== undefined;
}
