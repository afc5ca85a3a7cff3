/**
 * Validation of graph objects against `@jupiterone/data-model` (its bundled `IntegrationSchema`),
 * the same schemas JupiterOne's SDK validates with.
 *
 * The schemas want some properties in shapes older integrations never used and reject values Duo
 * happily stores (a malformed email, say). Rather than lose a whole user over one bad value, a
 * property the schema rejects is left out (set to null when the schema requires it and allows null);
 * the original value stays in `_rawData`. Only an entity that still fails is dropped.
 */
// The schema instance alone: the package's index also loads its TypeBox copies of every class
// schema (some 340 modules, 12 MB or more of memory in each thread that validates), which nothing
// here uses. The package declares no `exports` map, so this path is as public as its index.
import { IntegrationSchema } from '@jupiterone/data-model/dist/IntegrationSchema';
import type { RelationshipKind } from './data-model';
import { isMappedRelationship, type DirectRelationship, type Entity, type MappedRelationship } from './types';

// Ajv's types, taken from the data model's own instance so no undeclared package is imported.
type ValidateFunction = ReturnType<typeof IntegrationSchema.compile>;
type ErrorObject = NonNullable<ValidateFunction['errors']>[number];

/** Properties an entity cannot do without: a failure on one of them drops the entity. */
const ESSENTIAL_PROPERTIES = new Set(['_key', '_type', '_class', '_rawData', 'name', 'displayName']);

// Ajv compiles a schema on first use and caches it on the instance; resolving the validators once
// here keeps that lookup out of the per-entity path.
const validatorsByClass = new Map<string, ValidateFunction>();

function validatorFor(schemaId: string): ValidateFunction {
  let validate = validatorsByClass.get(schemaId);
  if (!validate) {
    validate = IntegrationSchema.getSchema(`#${schemaId}`) as ValidateFunction | undefined;
    if (!validate)
      throw new Error(
        `@jupiterone/data-model has no schema "${schemaId}"; the data model declaration names an unknown class.`,
      );
    validatorsByClass.set(schemaId, validate);
  }
  return validate;
}

const emailFormat = IntegrationSchema.compile({ type: 'string', format: 'email' });

/** True when the data model's email format (the one User and Person validate with) accepts the value. */
export function isValidEmail(value: string): boolean {
  return emailFormat(value) === true;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? '' : `${error.instancePath} `;
  const detail =
    error.keyword === 'required'
      ? ` (${String((error.params as { missingProperty?: string }).missingProperty)})`
      : error.keyword === 'propertyNames'
        ? ` (${String((error.params as { propertyName?: string }).propertyName)})`
        : '';
  return `${where}${error.message ?? error.keyword}${detail}`;
}

/** The top-level property an error is about, if any. */
function propertyOf(error: ErrorObject): string | undefined {
  if (error.keyword === 'propertyNames') return (error.params as { propertyName?: string }).propertyName;
  if (error.instancePath === '') return undefined;
  const first = error.instancePath.split('/')[1];
  return first?.replace(/~1/g, '/').replace(/~0/g, '~');
}

export type EntityValidation =
  { valid: true; entity: Entity; removedProperties: string[] } | { valid: false; error: string };

/**
 * Validates an entity against the schema of each of its classes. Rejected non-essential properties
 * are removed (or nulled when required) from a copy; the input is never modified.
 */
export function validateEntity(entity: Entity): EntityValidation {
  let current = entity;
  const removed: string[] = [];
  const maxRepairs = Object.keys(entity).length + 1;
  for (let attempt = 0; attempt <= maxRepairs; attempt += 1) {
    let firstError: ErrorObject | undefined;
    for (const cls of current._class) {
      const validate = validatorFor(cls);
      if (!validate(current)) {
        firstError = validate.errors?.[0];
        if (!firstError) return { valid: false, error: `fails the ${cls} schema` };
        break;
      }
    }
    if (!firstError) return { valid: true, entity: current, removedProperties: removed };

    if (firstError.keyword === 'required' && firstError.instancePath === '') {
      const missing = (firstError.params as { missingProperty?: string }).missingProperty;
      // Only a property this function removed may come back as null; a converter that forgot a
      // required property has a bug worth seeing.
      if (missing && removed.includes(missing) && current[missing] === undefined) {
        current = { ...current, [missing]: null };
        continue;
      }
      return { valid: false, error: describe(firstError) };
    }
    const property = propertyOf(firstError);
    if (!property || ESSENTIAL_PROPERTIES.has(property) || !(property in current)) {
      return { valid: false, error: describe(firstError) };
    }
    if (removed.includes(property) && current[property] === null) {
      return { valid: false, error: describe(firstError) };
    }
    const copy = { ...current };
    delete copy[property];
    current = copy;
    if (!removed.includes(property)) removed.push(property);
  }
  return { valid: false, error: 'could not be repaired to pass the data model schema' };
}

function isPrimitive(value: unknown): boolean {
  const type = typeof value;
  return value === null || type === 'string' || type === 'number' || type === 'boolean';
}

/** The GraphObject schema's rule for property names. */
const PROPERTY_NAME = /^(_|tag\.)?[A-Za-z0-9. -]+$/;

/** Names the rule has accepted: relationships repeat a few names, and a set answers faster than the pattern. */
const allowedPropertyNames = new Set<string>();
/** More names than the builders use; the set stays small whatever a relationship carries. */
const MAX_REMEMBERED_NAMES = 256;

function isAllowedPropertyName(name: string): boolean {
  if (allowedPropertyNames.has(name)) return true;
  if (!PROPERTY_NAME.test(name)) return false;
  if (allowedPropertyNames.size < MAX_REMEMBERED_NAMES) allowedPropertyNames.add(name);
  return true;
}

const KEY_ERROR = '/_key must be a string of at least 10 characters';
const TYPE_ERROR = '/_type must be a string of at least 3 characters';
const CLASS_ERROR = '/_class must be a string of at least 2 characters';
const ENDS_ERROR = '/_fromEntityKey and /_toEntityKey must not be empty';

/**
 * Checks a relationship against the GraphObject schema's constraints (`_key` of 10 characters or
 * more, `_type` of 3 or more, `_class` of 2 or more, property names) and the upload rules
 * JupiterOne applies (primitive property values; `_mapping` only on mapped relationships). Returns
 * the error, or undefined when valid.
 *
 * Written out rather than run through Ajv: a large tenant has several relationships per user,
 * their shape is fixed by the builders in relationships.ts, and this check is a fraction of the
 * cost. The graph tests run the GraphObject schema itself over every relationship they build.
 */
export function relationshipError(relationship: DirectRelationship | MappedRelationship): string | undefined {
  const { _key, _type, _class } = relationship;
  if (typeof _key !== 'string' || _key.length < 10) return KEY_ERROR;
  if (typeof _type !== 'string' || _type.length < 3) return TYPE_ERROR;
  if (typeof _class !== 'string' || _class.length < 2) return CLASS_ERROR;
  for (const name in relationship) {
    if (!isAllowedPropertyName(name)) return `property name "${name}" is not allowed`;
    const value = relationship[name];
    if (name === '_mapping' || value === undefined) continue;
    if (!isPrimitive(value)) return `/${name} must be a string, number, boolean or null`;
  }
  if (isMappedRelationship(relationship)) {
    const mapping = relationship._mapping;
    if (!mapping.sourceEntityKey) return '/_mapping/sourceEntityKey must not be empty';
    for (const name in mapping.targetEntity) {
      if (!isPrimitive(mapping.targetEntity[name])) return `/_mapping/targetEntity/${name} must be primitive`;
    }
  } else if (!relationship._fromEntityKey || !relationship._toEntityKey) {
    return ENDS_ERROR;
  }
  return undefined;
}

/**
 * `relationshipError` of `directRelationship(kind, fromKey, toKey)` (relationships.ts) whose key is
 * `key`, without making the object: the same checks in the same order, less those its fixed shape
 * always passes (its six property names are allowed ones and its values are strings).
 */
export function directRelationshipError(
  kind: RelationshipKind,
  fromKey: string,
  key: string,
  toKey: string,
): string | undefined {
  if (key.length < 10) return KEY_ERROR;
  if (kind._type.length < 3) return TYPE_ERROR;
  if (kind._class.length < 2) return CLASS_ERROR;
  if (!fromKey || !toKey) return ENDS_ERROR;
  return undefined;
}

/** Validates any graph object against the GraphObject schema with Ajv (used by tests to check the fast path). */
export function graphObjectSchemaError(object: object): string | undefined {
  const validate = validatorFor('GraphObject');
  if (validate(object)) return undefined;
  const error = validate.errors?.[0];
  return error ? describe(error) : 'fails the GraphObject schema';
}
