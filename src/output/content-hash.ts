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
import { jsonLines } from '../staging/json-lines';
import { jsonStringBytesAtMost, writeJsonString } from '../util/json-text-bytes';
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
 * The `_key → content hash` pairs of one `_type` of an output version and, while a delivery writes
 * that type, which keys it has delivered: those of the previous output it replaces and new ones, so
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
    const entry = this.keys.entryOf(key);
    if (entry === -1) {
      this.keys.set(key, hashValue);
      this.pairs += 1;
      return this;
    }
    const value = this.keys.valueAt(entry);
    const delivered = value % 2;
    if (value < 2) {
      this.pairs += 1;
      this.deliveredWithHash += delivered;
    }
    this.keys.setValueAt(entry, hashValue + delivered);
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
    const number = this.hashCount;
    if (number === this.hashEnds.length) {
      const ends = new Uint32Array(number * 2);
      ends.set(this.hashEnds);
      this.hashEnds = ends;
    }
    const start = number === 0 ? 0 : this.hashEnds[number - 1];
    const needed = start + Buffer.byteLength(hash, 'utf8');
    if (needed > this.hashBytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(needed, this.hashBytes.length * 2));
      this.hashBytes.copy(bigger, 0, 0, start);
      this.hashBytes = bigger;
    }
    this.hashEnds[number] = start + this.hashBytes.write(hash, start, 'utf8');
    this.hashCount += 1;
    return number;
  }
}

/** The stored `_key → hash` pairs of one `_type` of a version; undefined when none were stored. */
export async function readContentHashes(
  versionDir: string,
  kind: GraphObjectKind,
  type: string,
): Promise<KeyHashes | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(hashesFile(versionDir, kind, type));
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return undefined;
    throw error;
  }
  const hashes = new KeyHashes();
  // Line by line from the bytes: the file as one string would be megabytes of it for a large type.
  for (const line of jsonLines(bytes)) {
    const [key, hash] = JSON.parse(line.toString('utf8')) as [string, string];
    hashes.set(key, hash);
  }
  return hashes;
}

/** Bytes of pairs written at a time: a few thousand pairs. */
const BLOCK_BYTES = 256 * 1024;

const OPENING_BRACKET = 0x5b;
const COMMA = 0x2c;
const CLOSING_BRACKET = 0x5d;
const NEWLINE = 0x0a;

/**
 * Appends the `_key → hash` pairs of one `_type` to its file, a block of a few thousand at a time.
 * Pairs go straight into the block's bytes: a line string per pair, held until its block was
 * written, outlived the young generation and was a large delivery's most numerous garbage.
 * Blocks are taken as soon as they are full and written one after the other: a caller may go on
 * adding (and fill further blocks) before the first write, or the file's creation, has finished.
 */
export class ContentHashWriter {
  private block = Buffer.allocUnsafe(BLOCK_BYTES);
  private length = 0;
  private handle: FileHandle | undefined;
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
    return this.length >= BLOCK_BYTES - 4096 ? this.flush() : written;
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
      this.block = Buffer.allocUnsafe(BLOCK_BYTES);
      this.length = 0;
      this.writing = this.writing.then(() => this.write(bytes));
    }
    return this.writing;
  }

  private async write(bytes: Uint8Array): Promise<void> {
    if (!this.handle) {
      const file = hashesFile(this.versionDir, this.kind, this.type);
      await makePrivateDir(path.dirname(file));
      this.handle = await open(file, 'wx', PRIVATE_FILE_MODE);
    }
    for (let offset = 0; offset < bytes.length;) {
      offset += (await this.handle.write(bytes, offset)).bytesWritten;
    }
  }
}
