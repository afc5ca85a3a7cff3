/**
 * The stateless half of the build: Duo records in, converted, validated and serialised graph
 * objects out. Nothing here depends on other records (no key sets, no de-duplication, no counts,
 * not even the account), so each page of records is converted as the fetch reads it
 * (page-conversion.ts); `build-graph.ts` applies the results in record order, which is where the
 * graph's rules about duplicates, missing ends and drops live, and where the account's edges are
 * made.
 *
 * A record's edges are prepared here too, as candidates: for each link its resource declares in the
 * resource table (src/resources/table.ts), the relationship to each entity the record names,
 * serialised, with the key of the entity that must exist for it to be written. Which candidates
 * are written is decided when the record is applied. So are the entities a record carries inside
 * it (a user's U2F tokens) and its mapped relationship.
 *
 * This is most of a run's CPU time (converting, validating, serialising and hashing every object),
 * done while the fetch waits for Duo's next page. Each record is serialised once: its JSON text is
 * the `_rawData` its entity's text embeds.
 */
import {
  RESOURCE_TABLE,
  type EmbeddedConverterName,
  type EmbeddedRecords,
  type ResourceDeclaration,
  type ResourceName,
  type ResourceRecords,
} from '../resources/table';
import { ENTITY_KEYS, RELATIONSHIP_KINDS, type MappedRelationshipKindId, type RelationshipKind } from './data-model';
import {
  UnconvertibleRecordError,
  convertAccount,
  convertAdmin,
  convertBypassCode,
  convertEndpoint,
  convertAdminUnit,
  convertGroup,
  convertIntegration,
  convertPhone,
  convertPolicy,
  convertToken,
  convertU2fToken,
  convertUser,
  convertWebAuthnCredential,
  type GraphInstanceContext,
} from './converters';
import { withPhoneNumberRule } from './phone-numbers';
import {
  adminEmployeeMapping,
  directRelationshipJson,
  directRelationshipKey,
  employeeMapping,
  endpointDeviceMapping,
} from './relationships';
import {
  asciiOnly,
  graphIndexEntryJson,
  graphObjectHashOfBytes,
  graphObjectJsonWithAnyCharacters,
  type RawRecordText,
} from './serialization';
import type { Entity, MappedRelationship, Relationship } from './types';
import { directRelationshipError, isValidEmail, relationshipError, validateEntity } from './validation';
import { text } from './values';

/**
 * The serialised objects of a converted batch: their canonical texts and index entries, UTF-8, back
 * to back. Object `id`'s text ends at `textEnds[id]` and starts where object `id - 1`'s ends (at 0
 * for the first); the same for entries. Bytes rather than strings: a staged part holds them as four
 * buffers (converted-part.ts), which the build copies into its datasets without decoding them.
 */
export interface SerializedObjects {
  texts: Uint8Array;
  textEnds: Uint32Array;
  entries: Uint8Array;
  entryEnds: Uint32Array;
}

export interface ConvertedBatch {
  records: ConvertedRecord[];
  objects: SerializedObjects;
}

/** An entity converted and validated: its serialised object when valid, why not otherwise. */
export interface ConvertedEntity {
  key: string;
  type: string;
  /** The entity's id among the batch's serialised objects; absent when the data model rejects it. */
  object?: number;
  /** Why the data model rejects the entity (when `staged` is absent). */
  error?: string;
  /** Properties left out because the data model rejected their value (they stay in `_rawData`). */
  valuesLeftOut: string[];
}

/** A record no entity can be made from (it has no id to key it by): the converter's reason. */
export interface UnconvertibleRecord {
  unconvertible: string;
}

/** A relationship serialised and checked: its serialised object when valid, why not otherwise. */
export interface ConvertedRelationship {
  key: string;
  type: string;
  /** Its id among the batch's serialised objects; absent when it fails the check. */
  object?: number;
  error?: string;
}

/** A direct relationship a record names, written only if the entity at its other end exists. */
export interface CandidateRelationship extends ConvertedRelationship {
  /** `_key` of the entity the record points at (the relationship's other end). */
  end: string;
}

/** An entity a record carries inside it, with the edge to it (none when it cannot be converted). */
export interface EmbeddedEntity {
  entity: ConvertedEntity | UnconvertibleRecord;
  edge?: CandidateRelationship;
}

export interface ConvertedRecord {
  entity: ConvertedEntity | UnconvertibleRecord;
  /**
   * Per link the resource declares, in order: the edges the record names (repeats included). Also
   * for an entity the data model rejects: its edges are then counted as skipped.
   */
  links?: CandidateRelationship[][];
  /** Per embedded list the resource declares, in order: each entity the record carries. */
  embedded?: EmbeddedEntity[][];
  /** The resource's mapped relationship, when the record makes one. */
  mapping?: ConvertedRelationship;
  /** The record's email, lower-cased, when its resource declares an `emailField` and it is valid (links by email). */
  email?: string;
}

export function isUnconvertible(result: ConvertedEntity | UnconvertibleRecord): result is UnconvertibleRecord {
  return (result as UnconvertibleRecord).unconvertible !== undefined;
}

type Converter<R> = (record: R, context: GraphInstanceContext) => Entity;

/** One converter per resource of the table: a resource without one does not compile. */
const CONVERTERS: { readonly [R in ResourceName]: Converter<ResourceRecords[R]> } = {
  account: convertAccount,
  admins: convertAdmin,
  groups: convertGroup,
  integrations: convertIntegration,
  phones: convertPhone,
  tokens: convertToken,
  webauthn: convertWebAuthnCredential,
  users: convertUser,
  bypassCodes: convertBypassCode,
  endpoints: convertEndpoint,
  policies: convertPolicy,
  adminUnits: convertAdminUnit,
};

/** The converters of the records resources carry inside theirs. */
const EMBEDDED_CONVERTERS: { readonly [E in EmbeddedConverterName]: Converter<EmbeddedRecords[E]> } = {
  u2fToken: convertU2fToken,
};

/** The builders of the mapped relationships resources declare: from a record and its entity's key. */
const MAPPINGS: {
  readonly [M in MappedRelationshipKindId]: (record: never, entityKey: string) => MappedRelationship | undefined;
} = {
  userIsEmployee: employeeMapping,
  adminIsEmployee: adminEmployeeMapping,
  endpointIsDevice: endpointDeviceMapping,
};

/**
 * Serialises the objects of a batch as they are converted, and encodes them once at the end: the
 * canonical texts are made ASCII-only, hashed and indexed there, from the one UTF-8 measure and
 * copy of each text that encoding needs anyway.
 */
class ObjectCollector {
  /** Canonical texts before their ASCII-only step (`graphObjectJsonWithAnyCharacters`). */
  private readonly texts: string[] = [];
  /** Per object: its `_key`, and a direct relationship's ends (undefined for other objects). */
  private readonly keys: string[] = [];
  private readonly froms: (string | undefined)[] = [];
  private readonly tos: (string | undefined)[] = [];

  /** Serialises a graph object; returns its id. */
  add(graphObject: Entity | Relationship, raw?: RawRecordText): number {
    const { _fromEntityKey: from, _toEntityKey: to } = graphObject as {
      _fromEntityKey?: unknown;
      _toEntityKey?: unknown;
    };
    // The ends as `graphIndexEntry` takes them: both strings, or the entry has none.
    const direct = typeof from === 'string' && typeof to === 'string';
    return this.push(
      graphObjectJsonWithAnyCharacters(graphObject, raw),
      graphObject._key,
      direct ? from : undefined,
      direct ? to : undefined,
    );
  }

  /** Adds `directRelationship(kind, fromKey, toKey)`, whose key is `key`, from its strings alone; returns its id. */
  addDirect(kind: RelationshipKind, fromKey: string, key: string, toKey: string): number {
    return this.push(directRelationshipJson(kind, fromKey, key, toKey), key, fromKey, toKey);
  }

  private push(text: string, key: string, from: string | undefined, to: string | undefined): number {
    this.texts.push(text);
    this.keys.push(key);
    this.froms.push(from);
    this.tos.push(to);
    return this.texts.length - 1;
  }

  finish(): SerializedObjects {
    const [texts, textEnds] = encodeAsciiOnly(this.texts);
    const entryTexts: string[] = [];
    let start = 0;
    for (let id = 0; id < this.keys.length; id += 1) {
      const end = textEnds[id];
      // The content hash of the canonical text, from its bytes: the same hash as of the text.
      const objectHash = graphObjectHashOfBytes(texts.subarray(start, end));
      entryTexts.push(graphIndexEntryJson(this.keys[id], objectHash, this.froms[id], this.tos[id]));
      start = end;
    }
    const [entries, entryEnds] = encode(entryTexts);
    return { texts, textEnds, entries, entryEnds };
  }
}

/** UTF-8 bytes of strings back to back, with each one's end offset. */
function encode(strings: readonly string[]): [Uint8Array, Uint32Array] {
  const ends = new Uint32Array(strings.length);
  let length = 0;
  for (let index = 0; index < strings.length; index += 1) {
    length += Buffer.byteLength(strings[index], 'utf8');
    ends[index] = length;
  }
  const bytes = Buffer.allocUnsafe(length);
  let at = 0;
  for (const text of strings) at += bytes.write(text, at, 'utf8');
  return [bytes, ends];
}

/**
 * Canonical texts made ASCII-only (`asciiOnly`, serialization.ts) and encoded back to back, with
 * each one's end offset. The UTF-8 length measured to size the bytes is the one that tells whether
 * a text is ASCII already; once it is, its bytes are its characters.
 */
function encodeAsciiOnly(texts: string[]): [Buffer, Uint32Array] {
  const ends = new Uint32Array(texts.length);
  let length = 0;
  for (let index = 0; index < texts.length; index += 1) {
    const text = asciiOnly(texts[index], Buffer.byteLength(texts[index], 'utf8'));
    texts[index] = text;
    length += text.length;
    ends[index] = length;
  }
  const bytes = Buffer.allocUnsafe(length);
  let at = 0;
  for (const text of texts) at += bytes.write(text, at, 'latin1');
  return [bytes, ends];
}

/** Checks and serialises a relationship. */
function convertRelationship(relationship: Relationship, objects: ObjectCollector): ConvertedRelationship {
  const error = relationshipError(relationship);
  return error
    ? { key: relationship._key, type: relationship._type, error }
    : { key: relationship._key, type: relationship._type, object: objects.add(relationship) };
}

/** The direct relationship `from → to` of a kind, checked and serialised, as a candidate whose other end is `end`. */
function candidate(
  kind: RelationshipKind,
  fromKey: string,
  toKey: string,
  end: string,
  objects: ObjectCollector,
): CandidateRelationship {
  const key = directRelationshipKey(kind, fromKey, toKey);
  const error = directRelationshipError(kind, fromKey, key, toKey);
  return error
    ? { key, type: kind._type, error, end }
    : { key, type: kind._type, object: objects.addDirect(kind, fromKey, key, toKey), end };
}

/** Validates and serialises an entity; `raw` is the staged record its `_rawData` holds. */
function convertedEntity(entity: Entity, raw: RawRecordText | undefined, objects: ObjectCollector): ConvertedEntity {
  const validation = validateEntity(entity);
  if (!validation.valid) {
    return { key: entity._key, type: entity._type, error: validation.error, valuesLeftOut: [] };
  }
  return {
    key: entity._key,
    type: entity._type,
    object: objects.add(validation.entity, raw),
    valuesLeftOut: validation.removedProperties,
  };
}

/** Converts and validates one record; a record that cannot be keyed gives the converter's reason. */
function convertOne<T>(
  record: T,
  convert: (record: T, context: GraphInstanceContext) => Entity,
  context: GraphInstanceContext,
  raw: RawRecordText | undefined,
  objects: ObjectCollector,
): ConvertedEntity | UnconvertibleRecord {
  let entity: Entity;
  try {
    entity = convert(record, context);
  } catch (error) {
    if (error instanceof UnconvertibleRecordError) return { unconvertible: error.message };
    throw error;
  }
  return convertedEntity(entity, raw, objects);
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * What a link's field names: a list, or one linked object (an administrator's `hardtoken`) or one
 * id (an integration's `policy_key`), or nothing.
 */
function linkedItems(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

/** A valid email, lower-cased, for matching; undefined otherwise. */
function matchableEmail(value: unknown): string | undefined {
  const email = text(value)?.toLowerCase();
  return email !== undefined && isValidEmail(email) ? email : undefined;
}

/**
 * The ids a record's field names: each linked object's `idField`, or the ids themselves when the
 * link has no `idField`; the link's `defaultId` when it names none.
 */
function idsOf(value: unknown, link: { idField?: string; defaultId?: string }): string[] {
  const ids: string[] = [];
  for (const item of linkedItems(value)) {
    const id =
      link.idField === undefined
        ? text(item)
        : item && typeof item === 'object'
          ? text((item as Record<string, unknown>)[link.idField])
          : undefined;
    if (id) ids.push(id);
  }
  if (ids.length === 0 && link.defaultId !== undefined) ids.push(link.defaultId);
  return ids;
}

/**
 * The edges of each declared link: one per id the record names, from the record's entity to the
 * linked one, or from the linked one to it when the relationship's target is the record's kind.
 */
function linksOf(
  declaration: ResourceDeclaration,
  record: Record<string, unknown>,
  entityKey: string,
  objects: ObjectCollector,
): CandidateRelationship[][] {
  return (declaration.links ?? []).map((link) => {
    const kind = RELATIONSHIP_KINDS[link.relationship];
    const outgoing = kind.source === declaration.entity;
    const keyOf = ENTITY_KEYS[outgoing ? kind.target : kind.source] as (id: string) => string;
    return idsOf(record[link.field], link).map((id) => {
      const end = keyOf(id);
      return outgoing ? candidate(kind, entityKey, end, end, objects) : candidate(kind, end, entityKey, end, objects);
    });
  });
}

/** The entities of each declared embedded list, converted, with the edge to each. */
function embeddedOf(
  declaration: ResourceDeclaration,
  record: Record<string, unknown>,
  entityKey: string,
  context: GraphInstanceContext,
  objects: ObjectCollector,
): EmbeddedEntity[][] {
  return (declaration.embedded ?? []).map((inside) => {
    const convert = EMBEDDED_CONVERTERS[inside.converter] as Converter<unknown>;
    return listOf(record[inside.field]).map((item): EmbeddedEntity => {
      const entity = convertOne(item, convert, context, undefined, objects);
      if (isUnconvertible(entity)) return { entity };
      const kind = RELATIONSHIP_KINDS[inside.relationship];
      return { entity, edge: candidate(kind, entityKey, entity.key, entity.key, objects) };
    });
  });
}

/**
 * The account entity's key from the converted account record (its fetch stages exactly one): its
 * entity's key when the data model accepts it, else none (no account edges then).
 */
export function accountKeyOf(account: ConvertedBatch): string | undefined {
  const entity = account.records[0]?.entity;
  return entity && !isUnconvertible(entity) && entity.object !== undefined ? entity.key : undefined;
}

/** Converts a page of one resource's records, in order. */
export function convertRecords(
  resource: ResourceName,
  records: readonly object[],
  context: GraphInstanceContext,
): ConvertedBatch {
  const objects = new ObjectCollector();
  const declaration = RESOURCE_TABLE[resource];
  const convert = CONVERTERS[resource] as Converter<object>;
  const converted = records.map((value): ConvertedRecord => {
    // Phone numbers are hashed or left out before anything else sees the record (its `_rawData` included).
    const record = withPhoneNumberRule(
      value as Record<string, unknown>,
      declaration.phoneNumberFields ?? [],
      context.phoneNumbers,
    );
    // The record's one serialisation: its entity's `_rawData` is this very text.
    const raw = { record, text: JSON.stringify(record) };
    const entity = convertOne(record, convert, context, raw, objects);
    const result: ConvertedRecord = { entity };
    if (isUnconvertible(entity)) return result;
    const email = declaration.emailField === undefined ? undefined : matchableEmail(record[declaration.emailField]);
    if (email !== undefined) result.email = email;
    if (declaration.links) result.links = linksOf(declaration, record, entity.key, objects);
    if (declaration.embedded) result.embedded = embeddedOf(declaration, record, entity.key, context, objects);
    if (declaration.mapping) {
      const mapping = MAPPINGS[declaration.mapping](record as never, entity.key);
      if (mapping) result.mapping = convertRelationship(mapping, objects);
    }
    return result;
  });
  return { records: converted, objects: objects.finish() };
}
