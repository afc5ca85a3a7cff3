/**
 * Reading an upload body: parsed and validated whole (a refused body changes nothing), then each
 * graph object is described by where its JSON text lies in the body instead of being kept as a
 * parsed object.
 *
 * A 100,000-user account uploads about half a gigabyte of JSON. Held as parsed objects it becomes
 * a heap of several gigabytes that the garbage collector walks again and again; held as the bytes
 * it arrived as (outside the JavaScript heap), the parsed body is garbage as soon as it has been
 * validated and costs the collector almost nothing. Finalize needs only keys, types and
 * relationship ends, which are read here; the rest is parsed again only when someone looks at the
 * held graph.
 *
 * Pure: no state of the simulator, so it can run on any thread.
 */
import { isAscii } from 'node:buffer';
import type { MappedRelationshipMapping } from '../../graph/types';
import { validateEntity, validateRelationship } from './validation';

export type UploadKind = 'entities' | 'relationships';

/**
 * The graph objects of one kind in an upload body, column by column: identities, where each
 * object's text lies in the body, and relationship ends. Columns rather than an object per graph
 * object, because they cross from a reader thread several times faster.
 */
export interface UploadedObjects {
  keys: string[];
  /** The distinct `_type`s, and each object's index into them. */
  types: string[];
  typeIndexes: Uint32Array;
  /** Byte offsets of each object's JSON text in the (decompressed) body: start, end, start, … */
  offsets: Uint32Array;
  /** Relationships only, one per object: the direct ends (`''` for a mapped relationship)… */
  fromEntityKeys: string[];
  toEntityKeys: string[];
  /** …and the mapping (`null` for a direct relationship). */
  mappings: (MappedRelationshipMapping | null)[];
}

export type UploadBody = Partial<Record<UploadKind, UploadedObjects>>;

/** The buffers of an UploadBody that can be handed to another thread instead of copied. */
export function transferablesOf(body: UploadBody): ArrayBuffer[] {
  return Object.values(body).flatMap((objects) => [
    objects.typeIndexes.buffer,
    objects.offsets.buffer,
  ]) as ArrayBuffer[];
}

/** A body the persister refuses, with the error code JupiterOne answers. */
export class UploadBodyError extends Error {
  override readonly name = 'UploadBodyError';

  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** At most this many problems are listed in one INVALID_GRAPH_OBJECT answer. */
const MAX_PROBLEMS_LISTED = 5;

/** Parses a JSON object body; ASCII (all duo-j1 sends) decodes as Latin-1, a plain copy. */
export function parseJsonObjectBody(bytes: Buffer): Record<string, unknown> {
  if (bytes.length === 0) return {};
  let parsed: unknown;
  try {
    // Validating UTF-8 would take longer than parsing the JSON, and ASCII needs no validation.
    parsed = JSON.parse(bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8'));
  } catch {
    throw new UploadBodyError('INVALID_JSON', 'The body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UploadBodyError('INVALID_BODY', 'The body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Reads the body of an upload route that accepts `kinds` (`upload` takes both, in one body).
 * Throws UploadBodyError for anything JupiterOne refuses: bad JSON, a missing or non-array
 * member, deletes (DIFF jobs cannot delete by `_id`), invalid graph objects.
 */
export function readUploadBody(bytes: Buffer, kinds: readonly UploadKind[]): UploadBody {
  const body = parseJsonObjectBody(bytes);
  if (body.deleteEntities !== undefined || body.deleteRelationships !== undefined) {
    throw new UploadBodyError(
      'UNSUPPORTED_OPERATION',
      'Deleting by _id is not supported by DIFF jobs in the simulator.',
    );
  }
  const present = kinds.filter((kind) => kinds.length === 1 || body[kind] !== undefined);
  if (present.length === 0) {
    throw new UploadBodyError('NOTHING_TO_UPLOAD', 'The body must carry "entities" and/or "relationships" arrays.');
  }
  for (const kind of present) checkObjects(kind, body[kind]);

  const ranges = memberArrayElementRanges(bytes);
  const read: UploadBody = {};
  for (const kind of present) {
    const objects = body[kind] as Record<string, unknown>[];
    const offsets = ranges.get(kind) ?? [];
    // JSON.parse keeps the last of two members with the same name; so does the scan.
    if (offsets.length !== objects.length * 2) {
      throw new UploadBodyError('INVALID_BODY', `"${kind}" could not be read object by object.`);
    }
    read[kind] = columnsOf(kind, objects, offsets);
  }
  return read;
}

function checkObjects(kind: UploadKind, objects: unknown): void {
  if (!Array.isArray(objects)) {
    throw new UploadBodyError(
      kind === 'entities' ? 'ENTITY_IS_NOT_ARRAY' : 'RELATIONSHIP_IS_NOT_ARRAY',
      `"${kind}" should be an array`,
    );
  }
  const validate = kind === 'entities' ? validateEntity : validateRelationship;
  const problems: string[] = [];
  for (let index = 0; index < objects.length && problems.length < MAX_PROBLEMS_LISTED; index += 1) {
    const object: unknown = objects[index];
    const problem = validate(object);
    if (!problem) continue;
    const key = (object as { _key?: unknown } | null)?._key;
    problems.push(`${kind}[${index}]${typeof key === 'string' ? ` (_key ${JSON.stringify(key)})` : ''}: ${problem}`);
  }
  if (problems.length > 0) throw new UploadBodyError('INVALID_GRAPH_OBJECT', problems.join('; '));
}

function columnsOf(kind: UploadKind, objects: Record<string, unknown>[], offsets: number[]): UploadedObjects {
  const columns: UploadedObjects = {
    keys: new Array<string>(objects.length),
    types: [],
    typeIndexes: new Uint32Array(objects.length),
    offsets: Uint32Array.from(offsets),
    fromEntityKeys: [],
    toEntityKeys: [],
    mappings: [],
  };
  const typeIndex = new Map<string, number>();
  objects.forEach((object, index) => {
    columns.keys[index] = object._key as string;
    const type = object._type as string;
    let known = typeIndex.get(type);
    if (known === undefined) {
      known = columns.types.push(type) - 1;
      typeIndex.set(type, known);
    }
    columns.typeIndexes[index] = known;
    if (kind === 'relationships') {
      columns.fromEntityKeys.push(typeof object._fromEntityKey === 'string' ? object._fromEntityKey : '');
      columns.toEntityKeys.push(typeof object._toEntityKey === 'string' ? object._toEntityKey : '');
      columns.mappings.push((object._mapping as MappedRelationshipMapping | undefined) ?? null);
    }
  });
  return columns;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Index of the quote that closes the string opened at `open`. */
function closingQuote(bytes: Buffer, open: number): number {
  let close = bytes.indexOf(QUOTE, open + 1);
  for (;;) {
    if (close < 0) throw new UploadBodyError('INVALID_JSON', 'The body is not valid JSON.');
    let backslashes = 0;
    while (bytes[close - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return close;
    close = bytes.indexOf(QUOTE, close + 1);
  }
}

/**
 * For each member of the top-level object whose value is an array of objects, the byte ranges of
 * those objects, flat: `[start0, end0, start1, end1, …]`. The body has already been parsed, so
 * the scan trusts it to be valid JSON.
 *
 * Written by hand because no JSON parser reports where values lie in the text: a byte scan that
 * skips strings with `indexOf` (a native search) reads half a gigabyte in about a second, far less
 * than serialising every parsed object again would take.
 */
export function memberArrayElementRanges(bytes: Buffer): Map<string, number[]> {
  const ranges = new Map<string, number[]>();
  let depth = 0;
  let expectingKey = false;
  let memberName: string | undefined;
  let elements: number[] | undefined;
  let elementStart = -1;
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index];
    if (byte === QUOTE) {
      const close = closingQuote(bytes, index);
      if (depth === 1 && expectingKey) {
        memberName = JSON.parse(bytes.toString('utf8', index, close + 1)) as string;
        expectingKey = false;
      }
      index = close;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth += 1;
      if (depth === 1) expectingKey = true;
      else if (depth === 2 && byte === OPEN_BRACKET && memberName !== undefined) {
        elements = [];
        ranges.set(memberName, elements);
      } else if (depth === 3 && elements !== undefined && byte === OPEN_BRACE) elementStart = index;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      if (depth === 3 && elements !== undefined && elementStart >= 0 && byte === CLOSE_BRACE) {
        elements.push(elementStart, index + 1);
        elementStart = -1;
      } else if (depth === 2) elements = undefined;
      depth -= 1;
    } else if (byte === COMMA && depth === 1) {
      expectingKey = true;
    } else if (byte === COLON && depth === 1) {
      expectingKey = false;
    }
  }
  return ranges;
}
