/**
 * The one JSON text of a graph object: how the build stages it, how the local graph directory
 * writes it and hashes it for the change report, and what the JupiterOne upload sends.
 *
 * The text is canonical — the same properties and values always give the same text, whatever order
 * a converter set them in:
 *   - properties sorted by name, except `_rawData`, which comes last;
 *   - ASCII only: other characters are written as `\uXXXX` escapes (see asciiOnly);
 *   - `_rawData` entries sorted by their `name` (JupiterOne keeps them as a set keyed by name);
 *   - properties holding `undefined` left out (they do not exist on the wire).
 * Values nested inside a property (a `_rawData` record, a `_mapping`) are written as they are: they
 * come from Duo's responses and our own code, which both keep their field order, and sorting every
 * nested object would triple the cost for a 100,000-user tenant.
 *
 * Why `_rawData` last: the raw Duo record is most of an entity's bytes (a user's record is about 2 kB,
 * its graph properties about 400 bytes). With the record at the end,
 *   - conversion splices in the record's JSON text, made once, instead of serialising the record
 *     again inside the entity (`RawRecordText`), and
 *   - a reader that needs only the graph properties (the change report, the picture) parses the
 *     text before `,"_rawData":` instead of the whole object (`parseGraphObjectProperties`).
 */
import { hash } from 'node:crypto';
import type { GraphObject, RawDataEntry } from './types';

/** The record a `_rawData` entry holds, with its JSON text (`JSON.stringify` of it, made once). */
export interface RawRecordText {
  record: object;
  text: string;
}

const RAW_DATA = '_rawData';
/** Where `_rawData` starts in a canonical text that has other properties before it. */
const RAW_DATA_MARKER = `,"${RAW_DATA}":`;

function byName(left: RawDataEntry, right: RawDataEntry): number {
  const a = typeof left?.name === 'string' ? left.name : '';
  const b = typeof right?.name === 'string' ? right.name : '';
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One `_rawData` entry, with the staged text in place of its record when it is that record. */
function rawDataEntryJson(entry: RawDataEntry, raw: RawRecordText | undefined): string {
  if (raw && entry !== null && typeof entry === 'object' && entry.rawData === raw.record) {
    const keys = Object.keys(entry);
    // Exactly what JSON.stringify writes for `{ name, rawData }`, so the text is the same either way.
    if (keys.length === 2 && keys[0] === 'name' && keys[1] === 'rawData' && typeof entry.name === 'string') {
      return `{"name":${JSON.stringify(entry.name)},"rawData":${raw.text}}`;
    }
  }
  return JSON.stringify(entry) ?? 'null';
}

/**
 * The canonical JSON text of a graph object (see the module comment). `raw`, when given, is the
 * record one of the `_rawData` entries holds and its JSON text: the text is used as it is.
 * It must be that record's JSON (`JSON.stringify` of it).
 */
export function graphObjectJson(graphObject: object, raw?: RawRecordText): string {
  return asciiOnly(graphObjectJsonWithAnyCharacters(graphObject, raw));
}

/**
 * The canonical text before its last step: non-ASCII characters still as they are.
 * `graphObjectJson(o)` is `asciiOnly` of it. For a caller that measures the text's UTF-8 length
 * anyway (to encode a batch of texts): that length tells whether the text is ASCII already.
 */
export function graphObjectJsonWithAnyCharacters(graphObject: object, raw?: RawRecordText): string {
  const properties = graphObject as Record<string, unknown>;
  const names = Object.keys(properties);
  const rawData = properties[RAW_DATA];
  const text = inCanonicalOrder(names) ? stringifiedWithoutRawData(properties, rawData) : undefined;
  return withRawData(text ?? stringifiedInCanonicalOrder(properties, names), rawData, raw);
}

const NON_ASCII_CHARACTERS = /[\u0080-\uffff]/g;

/**
 * The text with every non-ASCII character written as a JSON `\uXXXX` escape (the same JSON value).
 * Pure-ASCII texts make every later step cheaper: a reader can decode the bytes as Latin-1 (a copy)
 * instead of validating UTF-8, which for a body of megabytes takes longer than parsing it.
 */
export function asciiOnly(text: string, utf8Length = Buffer.byteLength(text, 'utf8')): string {
  // A text is ASCII exactly when its UTF-8 is as long as it is: a native count, several times
  // faster than testing the text with a regular expression.
  if (utf8Length === text.length) return text;
  return text.replace(
    NON_ASCII_CHARACTERS,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** True when the names are sorted with `_rawData` (if present) last: the object serialises canonically as it is. */
function inCanonicalOrder(names: readonly string[]): boolean {
  for (let index = 1; index < names.length; index += 1) {
    const previous = names[index - 1];
    const name = names[index];
    if (previous === RAW_DATA) return false;
    if (name === RAW_DATA) continue;
    if (!(previous < name)) return false;
  }
  return true;
}

/**
 * The object's JSON without `_rawData`, for an object already in canonical order: `_rawData` is
 * set to undefined for the one native JSON.stringify (which leaves such properties out) and put
 * back. Converters build entities in canonical order (converters.ts), so this is the path nearly
 * every object takes; copying an entity of 40 properties into a new object first would cost as
 * much as serialising it. Undefined when the property cannot be written (a frozen object).
 */
function stringifiedWithoutRawData(properties: Record<string, unknown>, rawData: unknown): string | undefined {
  if (rawData === undefined) return JSON.stringify(properties);
  if (Object.isFrozen(properties)) return undefined;
  try {
    properties[RAW_DATA] = undefined;
  } catch {
    return undefined;
  }
  try {
    return JSON.stringify(properties);
  } finally {
    properties[RAW_DATA] = rawData;
  }
}

/** The object's JSON without `_rawData`, its properties copied in canonical order first. */
function stringifiedInCanonicalOrder(properties: Record<string, unknown>, names: string[]): string {
  const ordered: Record<string, unknown> = {};
  for (const name of [...names].sort()) if (name !== RAW_DATA) ordered[name] = properties[name];
  return JSON.stringify(ordered);
}

/** Appends `_rawData` (entries sorted by name, the staged record's text spliced in) to an object's JSON. */
function withRawData(text: string, rawData: unknown, raw: RawRecordText | undefined): string {
  if (rawData === undefined) return text;
  let rawJson: string;
  if (Array.isArray(rawData)) {
    const entries = rawData.length > 1 ? [...(rawData as RawDataEntry[])].sort(byName) : (rawData as RawDataEntry[]);
    rawJson = `[${entries.map((entry) => rawDataEntryJson(entry, raw)).join(',')}]`;
  } else {
    rawJson = JSON.stringify(rawData) ?? 'null';
  }
  return `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}"${RAW_DATA}":${rawJson}}`;
}

/**
 * The graph properties of a canonical text: the whole object but `_rawData`, parsing only the text
 * before it. The cut is safe: in JSON text a quote inside a string is always escaped, so the first
 * `,"_rawData":` is a property name, and one at a deeper level (inside a `_mapping`, say) would leave
 * brackets open and fail to parse — then the whole text is parsed instead.
 */
export function parseGraphObjectProperties<T extends GraphObject = GraphObject>(text: string): T {
  const cut = text.indexOf(RAW_DATA_MARKER);
  if (cut !== -1) {
    try {
      return JSON.parse(`${text.slice(0, cut)}}`) as T;
    } catch {
      // Not a cut at the top level; fall through.
    }
  }
  const whole = JSON.parse(text) as T & { _rawData?: unknown };
  delete whole._rawData;
  return whole;
}

const COMMA = Buffer.from(',');
const CLOSING = Buffer.from(']}');

/**
 * `{"<name>":[t₁,t₂,…]}` as the byte pieces that make it, in order, from objects' JSON texts
 * (strings or UTF-8 bytes) taken as they are: a graph file's content. The texts given as bytes are
 * not copied; a file is written from the pieces in one vectored write (`writeNewPrivateFilePieces`),
 * so the objects' bytes are copied once, by the kernel, rather than first into a buffer of the whole
 * file.
 */
export function objectListPieces(name: string, objectTexts: readonly (string | Uint8Array)[]): Uint8Array[] {
  const pieces: Uint8Array[] = [Buffer.from(`{${JSON.stringify(name)}:[`)];
  objectTexts.forEach((text, index) => {
    if (index > 0) pieces.push(COMMA);
    pieces.push(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  });
  pieces.push(CLOSING);
  return pieces;
}

/** A JSON text given as a string or as UTF-8 bytes, as a string. */
export function jsonTextOf(text: string | Uint8Array): string {
  return typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');
}

/**
 * The content hash of a canonical text: equal hashes ⇔ equal texts ⇔ an unchanged object (the
 * change report's test). A SHA-256 prefix of 22 base64url characters (132 bits).
 */
export function graphObjectHash(canonicalText: string): string {
  // One-shot hashing: no Hash object per graph object (hundreds of thousands per build).
  return hash('sha256', canonicalText, 'base64url').slice(0, 22);
}

/**
 * `graphObjectHash` of the canonical text whose UTF-8 bytes these are: the same bytes give the same
 * hash, and a batch already encoded is hashed without converting each text to bytes once more.
 */
export function graphObjectHashOfBytes(canonicalBytes: Uint8Array): string {
  return hash('sha256', canonicalBytes, 'base64url').slice(0, 22);
}

/**
 * One entry of a staged graph dataset's index (`graph-index/<kind>/<_type>`, one per object, in the
 * dataset's order): what a delivery needs of each object without parsing it — its `_key`, its
 * content hash and, for a direct relationship, its two ends.
 */
export type GraphIndexEntry = [key: string, hash: string] | [key: string, hash: string, from: string, to: string];

/** An object as the build stages it: its `_key`, canonical text and index entry (as JSON text). */
export interface StagedGraphObject {
  key: string;
  text: string;
  indexEntry: string;
}

/** The index entry of a graph object whose canonical text has the content hash `objectHash`. */
export function graphIndexEntry(graphObject: GraphObject, objectHash: string): GraphIndexEntry {
  const { _fromEntityKey: from, _toEntityKey: to } = graphObject as {
    _fromEntityKey?: unknown;
    _toEntityKey?: unknown;
  };
  return typeof from === 'string' && typeof to === 'string'
    ? [graphObject._key, objectHash, from, to]
    : [graphObject._key, objectHash];
}

/**
 * The JSON text of an index entry (`JSON.stringify(graphIndexEntry(…))`) from its parts: `from` and
 * `to` are a direct relationship's ends, both or neither. Written out so a converted batch makes no
 * array per object only to serialise it; the hash is base64url, which JSON writes as it is.
 */
export function graphIndexEntryJson(key: string, objectHash: string, from?: string, to?: string): string {
  const ends = from === undefined || to === undefined ? '' : `,${JSON.stringify(from)},${JSON.stringify(to)}`;
  return `[${JSON.stringify(key)},"${objectHash}"${ends}]`;
}

/** Serialises a graph object for staging: canonical text, content hash and index entry at once. */
export function stagedGraphObject(graphObject: GraphObject, raw?: RawRecordText): StagedGraphObject {
  const text = graphObjectJson(graphObject, raw);
  const entry = graphIndexEntry(graphObject, graphObjectHash(text));
  return { key: graphObject._key, text, indexEntry: JSON.stringify(entry) };
}
