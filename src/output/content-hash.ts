/**
 * Content identity of a graph object, for the change report.
 *
 * Two versions of an object (same `_key`) are the same — "unchanged" — exactly when their canonical
 * JSON texts (`graphObjectJson`, src/graph/serialization.ts) are equal; otherwise the object is
 * "updated". The canonical text ignores the order properties were set in, the order of `_rawData`
 * entries and properties holding `undefined`; everything else counts: an added, removed or changed
 * property, the order of elements in an array value, and any change inside a `_rawData` record or a
 * `_mapping`. The build stages every object as that text, so delivery hashes the staged text as it
 * is, without parsing and serialising the object again.
 *
 * Only `_key → hash` pairs are kept, never objects. Each version of the output stores the hashes of
 * its objects beside the graph (`.content-hashes-v2/<kind>/<_type>.ndjson`), so the next delivery
 * compares against them without reading and hashing the previous graph files again. The folder's
 * name carries the version of the canonical text: hashes of another version are not comparable,
 * so an output with only those is hashed again from its graph files.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { graphObjectHash, graphObjectJson } from '../graph/serialization';
import { CompactKeyMap } from '../util/compact-key-map';
import type { DeliveredChange } from './change-report';
import { jsonLines } from '../staging/json-lines';
import { JSON_BYTE, jsonStringBytesAtMost, plainJsonStringEnd, writeJsonString } from '../util/json-text-bytes';
import { assertPathSegment, type GraphObjectKind } from './paths';
import { PRIVATE_FILE_MODE, isErrnoException, makePrivateDir } from './private-files';

export const CONTENT_HASHES_FOLDER = '.content-hashes-v2';

/** The content hash of a graph object: the hash of its canonical text. */
export function contentHash(graphObject: object): string {
  return graphObjectHash(graphObjectJson(graphObject));
}

function hashesFile(versionDir: string, kind: GraphObjectKind, type: string): string {
  assertPathSegment(type, 'Graph object _type');
  return path.join(versionDir, CONTENT_HASHES_FOLDER, kind, `${type}.ndjson`);
}

/** What `KeyHashes.deliver` answers for a key this delivery has delivered already. */
export const ALREADY_DELIVERED: unique symbol = Symbol('already delivered');

/**
 * The `_key → content hash` pairs of one `_type` of an output version and, while a delivery
 * finishes that type, which keys it delivered: those of the previous output it replaces and new ones, so
 * a key delivered twice is caught. Held compactly (`CompactKeyMap`, the hashes as bytes): a delivery
 * holds one of these per `_type` of 100,000 keys and more (see CompactKeyMap for why not a `Map`).
 */
export class KeyHashes {
  /** Per key: (its hash's number + 1) × 2, plus 1 once delivered; hash number -1 for a key with no hash. */
  private readonly keys = new CompactKeyMap();
  private hashBytes = Buffer.allocUnsafe(16 * 1024);
  private hashEnds = new Uint32Array(512);
  private hashCount = 0;
  private pairs = 0;
  private deliveredWithHash = 0;

  /** Pairs held (keys delivered without one not counted). */
  get size(): number {
    return this.pairs;
  }

  /** Pairs `key` with `hash` (a pair of the previous output), replacing any hash it had. */
  set(key: string, hash: string): this {
    const hashValue = (this.addHash(hash) + 1) * 2;
    return this.paired(this.keys.entryOrAdd(key, hashValue), hashValue);
  }

  /**
   * `set` for a pair given as UTF-8 bytes, the key `bytes[keyStart, keyEnd)` and its hash
   * `bytes[hashStart, hashEnd)`: a pair read from a file, kept without a string for either.
   */
  setBytes(bytes: Buffer, keyStart: number, keyEnd: number, hashStart: number, hashEnd: number): this {
    const hashValue = (this.addHashBytes(bytes, hashStart, hashEnd) + 1) * 2;
    return this.paired(this.keys.entryOrAddBytes(bytes, keyStart, keyEnd, hashValue), hashValue);
  }

  /** Gives an entry (`entryOrAdd`'s answer) the hash `hashValue`, keeping whether it was delivered. */
  private paired(entryOrAdded: number, hashValue: number): this {
    if (entryOrAdded < 0) {
      this.pairs += 1;
      return this;
    }
    const value = this.keys.valueAt(entryOrAdded);
    const delivered = value % 2;
    if (value < 2) {
      this.pairs += 1;
      this.deliveredWithHash += delivered;
    }
    this.keys.setValueAt(entryOrAdded, hashValue + delivered);
    return this;
  }

  /** The hash paired with `key`; undefined when it has none. */
  get(key: string): string | undefined {
    const entry = this.keys.entryOf(key);
    return entry === -1 ? undefined : this.hashOfValue(this.keys.valueAt(entry));
  }

  /**
   * Records `key` as delivered: answers the hash it was paired with (undefined when none), or
   * `ALREADY_DELIVERED` when it was delivered before.
   */
  deliver(key: string): string | undefined | typeof ALREADY_DELIVERED {
    // A key new to this type is added as delivered, without a hash.
    const entry = this.keys.entryOrAdd(key, 1);
    if (entry < 0) return undefined;
    const value = this.keys.valueAt(entry);
    if (value % 2 === 1) return ALREADY_DELIVERED;
    this.keys.setValueAt(entry, value + 1);
    this.deliveredWithHash += 1;
    return this.hashOfValue(value);
  }

  /**
   * `deliver` for a pair given as UTF-8 bytes, the key `bytes[keyStart, keyEnd)` and its hash
   * `bytes[hashStart, hashEnd)` (a pair read back from a file): answers what the pair is against
   * the hash the key was paired with, compared as bytes, or `ALREADY_DELIVERED`.
   */
  deliverBytes(
    bytes: Buffer,
    keyStart: number,
    keyEnd: number,
    hashStart: number,
    hashEnd: number,
  ): DeliveredChange | typeof ALREADY_DELIVERED {
    const entry = this.keys.entryOrAddBytes(bytes, keyStart, keyEnd, 1);
    if (entry < 0) return 'created';
    const value = this.keys.valueAt(entry);
    if (value % 2 === 1) return ALREADY_DELIVERED;
    this.keys.setValueAt(entry, value + 1);
    this.deliveredWithHash += 1;
    const number = Math.floor(value / 2) - 1;
    if (number < 0) return 'created';
    const start = number === 0 ? 0 : this.hashEnds[number - 1];
    const length = this.hashEnds[number] - start;
    if (length !== hashEnd - hashStart) return 'updated';
    // By hand, as in `addHashBytes`: a hash is some 22 bytes.
    const hashBytes = this.hashBytes;
    for (let index = 0; index < length; index += 1) {
      if (hashBytes[start + index] !== bytes[hashStart + index]) return 'updated';
    }
    return 'unchanged';
  }

  /** Pairs whose key has not been delivered. */
  get undeliveredCount(): number {
    return this.pairs - this.deliveredWithHash;
  }

  /** The pairs whose key has not been delivered, in the order they were added. */
  *undelivered(): IterableIterator<[key: string, hash: string]> {
    for (let entry = 0; entry < this.keys.size; entry += 1) {
      const value = this.keys.valueAt(entry);
      const hash = value % 2 === 0 ? this.hashOfValue(value) : undefined;
      if (hash !== undefined) yield [this.keys.keyAt(entry), hash];
    }
  }

  private hashOfValue(value: number): string | undefined {
    const number = Math.floor(value / 2) - 1;
    if (number < 0) return undefined;
    return this.hashBytes.toString('utf8', number === 0 ? 0 : this.hashEnds[number - 1], this.hashEnds[number]);
  }

  private addHash(hash: string): number {
    const start = this.roomForHash(Buffer.byteLength(hash, 'utf8'));
    return this.hashAdded(start + this.hashBytes.write(hash, start, 'utf8'));
  }

  private addHashBytes(bytes: Buffer, start: number, end: number): number {
    const at = this.roomForHash(end - start);
    // By hand: `Buffer.copy` costs more per call than a hash's 22 bytes take to copy.
    const hashBytes = this.hashBytes;
    for (let index = start; index < end; index += 1) hashBytes[at + index - start] = bytes[index];
    return this.hashAdded(at + end - start);
  }

  /** Where the next hash's bytes go, with room made for `byteLength` of them. */
  private roomForHash(byteLength: number): number {
    if (this.hashCount === this.hashEnds.length) {
      const ends = new Uint32Array(this.hashCount * 2);
      ends.set(this.hashEnds);
      this.hashEnds = ends;
    }
    const start = this.hashCount === 0 ? 0 : this.hashEnds[this.hashCount - 1];
    const needed = start + byteLength;
    if (needed > this.hashBytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(needed, this.hashBytes.length * 2));
      this.hashBytes.copy(bigger, 0, 0, start);
      this.hashBytes = bigger;
    }
    return start;
  }

  /** Numbers the hash whose bytes were just written up to `end`. */
  private hashAdded(end: number): number {
    this.hashEnds[this.hashCount] = end;
    this.hashCount += 1;
    return this.hashCount - 1;
  }
}

/** The bytes of a stored pair's line, `["<key>","<hash>"]` and its line break. */
const { openingBracket: OPENING_BRACKET, quote: QUOTE, comma: COMMA, closingBracket: CLOSING_BRACKET } = JSON_BYTE;
const NEWLINE = JSON_BYTE.lineBreak;

/** The bytes of the stored `_key → hash` pairs of one `_type` of a version; undefined when none were stored. */
async function storedPairBytes(versionDir: string, kind: GraphObjectKind, type: string): Promise<Buffer | undefined> {
  try {
    return await readFile(hashesFile(versionDir, kind, type));
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** The stored `_key → hash` pairs of one `_type` of a version; undefined when none were stored. */
export async function readContentHashes(
  versionDir: string,
  kind: GraphObjectKind,
  type: string,
): Promise<KeyHashes | undefined> {
  const bytes = await storedPairBytes(versionDir, kind, type);
  if (!bytes) return undefined;
  const hashes = new KeyHashes();
  // Line by line from the bytes: the file as one string would be megabytes of it for a large type.
  for (const line of jsonLines(bytes)) {
    const keyEnd = plainPairKeyEnd(line);
    if (keyEnd === -1) {
      const [key, hash] = JSON.parse(line.toString('utf8')) as [string, string];
      hashes.set(key, hash);
    } else hashes.setBytes(line, 2, keyEnd, keyEnd + 3, line.length - 2);
  }
  return hashes;
}

/** What is told of each pair `deliverStoredPairs` delivers: a `TypeChangeTracker`. */
export interface DeliveredPairs {
  /** A pair read as a string, with the hash its key was paired with (undefined when none). */
  delivered(key: string, previousHash: string | undefined, hash: string): void;
  /** A pair read as bytes: the key's JSON string content is `bytes[keyStart, keyEnd)`, nothing escaped. */
  deliveredPlain(change: DeliveredChange, bytes: Buffer, keyStart: number, keyEnd: number): void;
}

/**
 * Delivers the stored pairs of `lines` to `hashes` (`KeyHashes.deliver`), in order, and tells
 * `pairs` what each one is. A plain line (nearly all of them) is read as bytes, without a string
 * for its key or hash: a type's pairs are read back when it is finished (`pairsAdded`), 670,000
 * of them at 100,000 users. Answers the first key delivered twice, and stops there; undefined
 * when there was none.
 */
export function deliverStoredPairs(
  lines: readonly Buffer[],
  hashes: KeyHashes,
  pairs: DeliveredPairs,
): string | undefined {
  for (const line of lines) {
    const keyEnd = plainPairKeyEnd(line);
    if (keyEnd === -1) {
      const [key, hash] = JSON.parse(line.toString('utf8')) as [string, string];
      const previousHash = hashes.deliver(key);
      if (previousHash === ALREADY_DELIVERED) return key;
      pairs.delivered(key, previousHash, hash);
    } else {
      const change = hashes.deliverBytes(line, 2, keyEnd, keyEnd + 3, line.length - 2);
      if (change === ALREADY_DELIVERED) return line.toString('utf8', 2, keyEnd);
      pairs.deliveredPlain(change, line, 2, keyEnd);
    }
  }
  return undefined;
}

/**
 * Where the key of `line` ends, when the line is a plain `["<key>","<hash>"]`
 * (`ContentHashWriter`'s line for a key and hash with nothing escaped): the bytes between the
 * quotes are then the key's (`[2, keyEnd)`) and the hash's (`[keyEnd + 3, length - 2)`) UTF-8
 * bytes as they are. -1 for any other line (an escape in the key, another writer's spacing),
 * which is then parsed as JSON. Why by hand: a JSON parse per line made an array and two strings
 * for each of a 100,000-user output's 670,000 pairs, 1.1–1.5 s of every delivery after the first
 * (0.4–0.6 s this way; docs/benchmarks.md, "A schedule's second run").
 */
function plainPairKeyEnd(line: Buffer): number {
  if (line[0] !== OPENING_BRACKET || line[1] !== QUOTE) return -1;
  const keyEnd = plainJsonStringEnd(line, 2, line.length);
  if (keyEnd === -1 || line[keyEnd + 1] !== COMMA || line[keyEnd + 2] !== QUOTE) return -1;
  const hashEnd = plainJsonStringEnd(line, keyEnd + 3, line.length);
  if (hashEnd === -1 || hashEnd + 2 !== line.length || line[hashEnd + 1] !== CLOSING_BRACKET) return -1;
  return keyEnd;
}

/** Bytes of pairs written at a time, at most: a few thousand pairs. */
const BLOCK_BYTES = 256 * 1024;

/**
 * A type's first block: each next one is twice the last, up to `BLOCK_BYTES`. A draft of the
 * output keeps a writer open for every declared type from the start of a run, most of which hold
 * a few pairs or none: at full size their blocks were 11.5 MB of it.
 */
const FIRST_BLOCK_BYTES = 16 * 1024;

/** Bytes of the file read back at a time (`pairsAdded`): thousands of pairs. */
const READ_BACK_BYTES = 1024 * 1024;

/**
 * Appends the `_key → hash` pairs of one `_type` to its file, a block of a few thousand at a time.
 * Pairs go straight into the block's bytes: a line string per pair, held until its block was
 * written, outlived the young generation and was a large delivery's most numerous garbage.
 * Blocks are taken as soon as they are full and written one after the other: a caller may go on
 * adding (and fill further blocks) before the first write, or the file's creation, has finished.
 */
export class ContentHashWriter {
  private block = Buffer.allocUnsafe(FIRST_BLOCK_BYTES);
  private length = 0;
  private handle: FileHandle | undefined;
  private bytesWritten = 0;
  /** The blocks taken so far, written in order. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly versionDir: string,
    private readonly kind: GraphObjectKind,
    private readonly type: string,
  ) {}

  /** Adds a pair; returns a promise only when it filled a block being written (see GraphTypeFileWriter.add). */
  add(key: string, hash: string): Promise<void> | undefined {
    // The line `JSON.stringify([key, hash])` writes: `[`, the key, `,`, the hash, `]` and a line break.
    const room = jsonStringBytesAtMost(key.length) + jsonStringBytesAtMost(hash.length) + 3;
    let written: Promise<void> | undefined;
    if (this.length + room > this.block.length) {
      written = this.flush();
      if (room > this.block.length) this.block = Buffer.allocUnsafe(room);
    }
    const block = this.block;
    block[this.length] = OPENING_BRACKET;
    let at = writeJsonString(block, this.length + 1, key);
    block[at] = COMMA;
    at = writeJsonString(block, at + 1, hash);
    block[at] = CLOSING_BRACKET;
    block[at + 1] = NEWLINE;
    this.length = at + 2;
    // A second block taken is written after the first: its promise stands for both.
    return this.length >= this.block.length - 4096 ? this.flush() : written;
  }

  /**
   * The pairs added so far, in the order added (a key added twice comes twice), read back through
   * the file's own handle once they are written: their lines (`deliverStoredPairs`), a piece of the
   * file at a time, each piece's lines valid until the next is asked for. Adding may go on
   * afterwards. A type is compared with the previous output from here when it is finished, rather
   * than from keys held while it takes objects.
   */
  async *pairsAdded(): AsyncGenerator<Buffer[]> {
    await this.flush();
    const { handle } = this;
    const end = this.bytesWritten;
    if (!handle) return;
    let piece = Buffer.allocUnsafe(READ_BACK_BYTES);
    // Bytes at the piece's start not yet given: a line cut off at the end of the read before.
    let filled = 0;
    for (let position = 0; position < end;) {
      if (filled === piece.length) {
        // A line longer than the piece (a key of over a megabyte): read on into a bigger one.
        const bigger = Buffer.allocUnsafe(piece.length * 2);
        piece.copy(bigger, 0, 0, filled);
        piece = bigger;
      }
      const length = Math.min(piece.length - filled, end - position);
      const { bytesRead } = await handle.read(piece, filled, length, position);
      if (bytesRead === 0) throw new Error(`The content hashes of "${this.type}" ended before their last pair.`);
      position += bytesRead;
      filled += bytesRead;
      // The file ends with a line break: every line of the last read is whole.
      const lastBreak = position < end ? piece.lastIndexOf(NEWLINE, filled - 1) : filled - 1;
      if (lastBreak === -1) continue;
      // Views of the piece, which is filled again once the caller has read them.
      yield jsonLines(piece.subarray(0, lastBreak + 1));
      piece.copy(piece, 0, lastBreak + 1, filled);
      filled -= lastBreak + 1;
    }
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle?.close();
      this.handle = undefined;
    }
  }

  private flush(): Promise<void> {
    if (this.length > 0) {
      const bytes = this.block.subarray(0, this.length);
      this.block = Buffer.allocUnsafe(Math.min(BLOCK_BYTES, this.block.length * 2));
      this.length = 0;
      this.writing = this.writing.then(() => this.write(bytes));
    }
    return this.writing;
  }

  private async write(bytes: Uint8Array): Promise<void> {
    if (!this.handle) {
      const file = hashesFile(this.versionDir, this.kind, this.type);
      await makePrivateDir(path.dirname(file));
      // Readable too: `pairsAdded` reads back what this handle wrote.
      this.handle = await open(file, 'wx+', PRIVATE_FILE_MODE);
    }
    for (let offset = 0; offset < bytes.length;) {
      offset += (await this.handle.write(bytes, offset)).bytesWritten;
    }
    this.bytesWritten += bytes.length;
  }
}
