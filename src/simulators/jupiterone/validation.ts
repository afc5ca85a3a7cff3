/**
 * Graph-object rules the simulated persister enforces on upload (reference §2.1–2.3): required
 * `_key` (≥10 characters), `_type` (≥3), `_class` (≥2, or a non-empty array of such); property
 * values primitive or homogeneous primitive arrays; no nested objects except `_rawData`;
 * relationship properties primitive only; a relationship either names both endpoints or carries a
 * `_mapping`. The simulator is stricter than JupiterOne where JupiterOne silently ignores data
 * (unknown `_` properties), because a silently dropped property is a bug the product should see.
 *
 * Each function answers `undefined` for a valid object or a sentence saying what is wrong.
 */

const ENTITY_RESERVED = new Set(['_key', '_type', '_class', '_rawData']);
const RELATIONSHIP_RESERVED = new Set([
  '_key',
  '_type',
  '_class',
  '_rawData',
  '_fromEntityKey',
  '_toEntityKey',
  '_mapping',
]);
const MAPPING_FIELDS = new Set([
  'relationshipDirection',
  'sourceEntityKey',
  'targetFilterKeys',
  'targetEntity',
  'skipTargetCreation',
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrimitive(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function checkIdentity(object: Record<string, unknown>, classMayBeArray: boolean): string | undefined {
  if (typeof object._key !== 'string' || object._key.length < 10) {
    return '_key must be a string of at least 10 characters';
  }
  if (typeof object._type !== 'string' || object._type.length < 3) {
    return '_type must be a string of at least 3 characters';
  }
  const classes = object._class;
  if (typeof classes === 'string') {
    if (classes.length < 2) return '_class must have at least 2 characters';
    return undefined;
  }
  if (!classMayBeArray) return '_class must be a string';
  if (!Array.isArray(classes) || classes.length === 0) return '_class must be a string or a non-empty array of strings';
  if (!classes.every((value) => typeof value === 'string' && value.length >= 2)) {
    return '_class entries must be strings of at least 2 characters';
  }
  return undefined;
}

/** `_rawData`: `[{ name, rawData: object | string }]` with unique names. */
export function checkRawData(rawData: unknown): string | undefined {
  if (!Array.isArray(rawData)) return '_rawData must be an array of { name, rawData }';
  const names = new Set<string>();
  for (const entry of rawData) {
    if (!isPlainObject(entry) || typeof entry.name !== 'string' || entry.name === '') {
      return '_rawData entries need a non-empty string name';
    }
    if (!(typeof entry.rawData === 'string' || isPlainObject(entry.rawData) || Array.isArray(entry.rawData))) {
      return `_rawData entry "${entry.name}" must hold an object or a string`;
    }
    if (names.has(entry.name)) return `_rawData entry name "${entry.name}" is used twice`;
    names.add(entry.name);
  }
  return undefined;
}

/** A property value: primitive, or a homogeneous array of strings, numbers or booleans. */
export function checkEntityPropertyValue(name: string, value: unknown): string | undefined {
  if (isPrimitive(value)) return undefined;
  if (typeof value === 'number') return `property "${name}" must be a finite number`;
  if (!Array.isArray(value))
    return `property "${name}" is ${describeValue(value)}; only primitives and arrays of them are allowed`;
  const kinds = new Set<string>();
  for (const element of value) {
    if (!(typeof element === 'string' || typeof element === 'boolean' || typeof element === 'number')) {
      return `property "${name}" holds ${describeValue(element)} in its array; arrays may hold only strings, numbers or booleans`;
    }
    if (typeof element === 'number' && !Number.isFinite(element)) return `property "${name}" holds a non-finite number`;
    kinds.add(typeof element);
  }
  if (kinds.size > 1) return `property "${name}" mixes ${[...kinds].sort().join(' and ')} in one array`;
  return undefined;
}

export function validateEntity(value: unknown): string | undefined {
  if (!isPlainObject(value)) return `an entity must be an object, got ${describeValue(value)}`;
  const identity = checkIdentity(value, true);
  if (identity) return identity;
  for (const [name, property] of Object.entries(value)) {
    if (name === '_rawData') {
      const problem = checkRawData(property);
      if (problem) return problem;
      continue;
    }
    if (ENTITY_RESERVED.has(name)) continue;
    if (name.startsWith('_')) return `property "${name}" is reserved: names starting with "_" are JupiterOne metadata`;
    const problem = checkEntityPropertyValue(name, property);
    if (problem) return problem;
  }
  return undefined;
}

function checkMapping(mapping: unknown): string | undefined {
  if (!isPlainObject(mapping)) return '_mapping must be an object';
  for (const field of Object.keys(mapping)) {
    if (!MAPPING_FIELDS.has(field)) return `_mapping has an unknown field "${field}"`;
  }
  if (mapping.relationshipDirection !== 'FORWARD' && mapping.relationshipDirection !== 'REVERSE') {
    return '_mapping.relationshipDirection must be FORWARD or REVERSE';
  }
  if (typeof mapping.sourceEntityKey !== 'string' || mapping.sourceEntityKey === '') {
    return '_mapping.sourceEntityKey must be a non-empty string';
  }
  const groups = mapping.targetFilterKeys;
  if (!Array.isArray(groups) || groups.length === 0) {
    return '_mapping.targetFilterKeys must be a non-empty array of key groups, e.g. [["_type","email"]]';
  }
  if (!isPlainObject(mapping.targetEntity)) return '_mapping.targetEntity must be an object';
  const target = mapping.targetEntity;
  for (const [name, property] of Object.entries(target)) {
    if (!isPrimitive(property) && !(name === '_class' && Array.isArray(property))) {
      return `_mapping.targetEntity.${name} must be a primitive value`;
    }
  }
  for (const group of groups) {
    // A flat list of keys means "any one of them" to JupiterOne, which is almost never meant.
    if (!Array.isArray(group) || group.length === 0 || !group.every((key) => typeof key === 'string')) {
      return '_mapping.targetFilterKeys must hold non-empty arrays of property names, e.g. [["_type","email"]]';
    }
    for (const key of group as string[]) {
      if (!(key in target))
        return `_mapping.targetFilterKeys names "${key}", which _mapping.targetEntity does not have`;
    }
  }
  if (mapping.skipTargetCreation !== undefined && typeof mapping.skipTargetCreation !== 'boolean') {
    return '_mapping.skipTargetCreation must be a boolean';
  }
  return undefined;
}

export function validateRelationship(value: unknown): string | undefined {
  if (!isPlainObject(value)) return `a relationship must be an object, got ${describeValue(value)}`;
  const identity = checkIdentity(value, false);
  if (identity) return identity;
  const hasEndpoints = value._fromEntityKey !== undefined || value._toEntityKey !== undefined;
  if (value._mapping !== undefined) {
    if (hasEndpoints) return 'a mapped relationship must not have _fromEntityKey or _toEntityKey';
    const problem = checkMapping(value._mapping);
    if (problem) return problem;
  } else {
    for (const endpoint of ['_fromEntityKey', '_toEntityKey'] as const) {
      if (typeof value[endpoint] !== 'string' || value[endpoint] === '') {
        return `${endpoint} must be a non-empty string (or give a _mapping instead)`;
      }
    }
  }
  for (const [name, property] of Object.entries(value)) {
    if (name === '_rawData') {
      const problem = checkRawData(property);
      if (problem) return problem;
      continue;
    }
    if (RELATIONSHIP_RESERVED.has(name)) continue;
    if (name.startsWith('_')) return `property "${name}" is reserved: names starting with "_" are JupiterOne metadata`;
    if (!isPrimitive(property)) {
      return `relationship property "${name}" is ${describeValue(property)}; relationship properties must be primitive`;
    }
  }
  return undefined;
}
