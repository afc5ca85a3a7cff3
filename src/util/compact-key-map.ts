/**
 * A map from string keys to numbers that holds no JavaScript object per key: the keys are kept as
 * their UTF-8 bytes, back to back in one buffer, and found through an open-addressing table of typed
 * arrays. Entries are numbered in the order they were added (0, 1, 2, …), and never removed.
 *
 * Why not a `Map`: a delivery keeps a set of keys per `_type` (the previous output's hashes, and
 * the keys delivered so far) and, for the picture, one for every entity. As `Map`s those were a
 * string and a table entry per key — hundreds of thousands of heap objects that outlived the young
 * generation and, once their type was written, were garbage the old generation let pile up: they
 * were most of a 100,000-user delivery's peak heap (docs/benchmarks.md, "A delivery's keys without
 * a string each"). Here a key costs its bytes and four numbers, outside the collector's work, and a
 * lookup's transient strings die young. Written here because that is the whole point: a map from a
 * library, like any JavaScript map, keeps its keys as strings on the heap.
 */

/** Entries the table starts with room for (it doubles as needed). */
const INITIAL_ENTRIES = 1024;

/** The first byte of a key kept as UTF-16 (a byte that never occurs in UTF-8). */
const NOT_UTF8 = 0xff;

/** `String.prototype.isWellFormed` (Node.js 20; newer than the ES2022 library the project compiles against). */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** FNV-1a, 32 bits, over a key's bytes: cheap, and spreads the similar keys of one `_type` well enough for probing. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class CompactKeyMap {
  /** The keys' UTF-8 bytes, back to back; entry `i`'s end at `ends[i]`, its start at the end before it. */
  private bytes = Buffer.allocUnsafe(INITIAL_ENTRIES * 64);
  private ends = new Uint32Array(INITIAL_ENTRIES);
  private hashes = new Uint32Array(INITIAL_ENTRIES);
  private values = new Float64Array(INITIAL_ENTRIES);
  /** Open addressing, linear probing: entry number + 1 per slot, 0 for an empty one. Power-of-two length. */
  private slots = new Int32Array(INITIAL_ENTRIES * 2);
  private count = 0;
  /** The key looked up or added last, encoded. */
  private scratch = Buffer.allocUnsafe(256);
  private scratchLength = 0;
  /** Where `find` stopped and the hash it computed: where and how `add` puts the key it missed. */
  private probeSlot = 0;
  private probeHash = 0;

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    return this.find(key) !== -1;
  }

  /** The value of `key`; undefined when it has none. */
  get(key: string): number | undefined {
    const entry = this.find(key);
    return entry === -1 ? undefined : this.values[entry];
  }

  /** Sets the value of `key`, adding the key if new. */
  set(key: string, value: number): this {
    const found = this.find(key);
    // The entry first: adding one may replace the arrays.
    const entry = found === -1 ? this.add() : found;
    this.values[entry] = value;
    return this;
  }

  /**
   * The entry of `key`, added with `value` when absent — one lookup where `has` and `set` take two.
   * Answers the entry number when the key was there, and `-1 - entry` when this added it.
   */
  entryOrAdd(key: string, value: number): number {
    const found = this.find(key);
    if (found !== -1) return found;
    const entry = this.add();
    this.values[entry] = value;
    return -1 - entry;
  }

  /** The entry number of `key` (its place in the order of addition); -1 when absent. */
  entryOf(key: string): number {
    return this.find(key);
  }

  /**
   * `entryOrAdd` for a key given as UTF-8 bytes, `source[start, end)`: the same key as the string
   * those bytes decode to (so a key read from a file needs no string). The bytes must be
   * well-formed UTF-8, which text that was a JavaScript string without lone surrogates encodes to.
   */
  entryOrAddBytes(source: Uint8Array, start: number, end: number, value: number): number {
    const found = this.findBytes(source, start, end);
    if (found !== -1) return found;
    const entry = this.add();
    this.values[entry] = value;
    return -1 - entry;
  }

  /** The value of entry `entry` (from `entryOf`). */
  valueAt(entry: number): number {
    return this.values[entry];
  }

  setValueAt(entry: number, value: number): void {
    this.values[entry] = value;
  }

  /** The key of entry `entry`, decoded. */
  keyAt(entry: number): string {
    const start = entry === 0 ? 0 : this.ends[entry - 1];
    const end = this.ends[entry];
    return this.bytes[start] === NOT_UTF8 && end > start
      ? this.bytes.toString('utf16le', start + 1, end)
      : this.bytes.toString('utf8', start, end);
  }

  /** Keys and values, in the order the keys were added. */
  *entries(): IterableIterator<[string, number]> {
    for (let entry = 0; entry < this.count; entry += 1) yield [this.keyAt(entry), this.values[entry]];
  }

  *keys(): IterableIterator<string> {
    for (let entry = 0; entry < this.count; entry += 1) yield this.keyAt(entry);
  }

  /** Encodes `key` into the scratch buffer and finds its entry; -1 when absent (see `probeSlot`). */
  private find(key: string): number {
    // At most three UTF-8 bytes per UTF-16 unit.
    if (key.length * 3 + 1 > this.scratch.length) this.scratch = Buffer.allocUnsafe(key.length * 3 + 1);
    const scratch = this.scratch;
    // Nearly every key is ASCII: copied and hashed here in one pass, without a call into the runtime.
    let hash = FNV_OFFSET;
    let length = 0;
    for (; length < key.length; length += 1) {
      const code = key.charCodeAt(length);
      if (code > 0x7f) break;
      scratch[length] = code;
      hash = Math.imul(hash ^ code, FNV_PRIME);
    }
    if (length < key.length) {
      if (isWellFormed(key)) {
        length = scratch.write(key, 0, 'utf8');
      } else {
        // UTF-8 has no lone surrogates (they would become U+FFFD, one key for many): such a key is
        // kept as its UTF-16 units, after a byte no UTF-8 text holds.
        scratch[0] = NOT_UTF8;
        length = 1 + scratch.write(key, 1, 'utf16le');
      }
      hash = FNV_OFFSET;
      for (let index = 0; index < length; index += 1) hash = Math.imul(hash ^ scratch[index], FNV_PRIME);
    }
    this.scratchLength = length;
    return this.probe(hash >>> 0);
  }

  /** Like `find`, for a key given as its UTF-8 bytes (`source[start, end)`), which no string need hold. */
  private findBytes(source: Uint8Array, start: number, end: number): number {
    const length = end - start;
    if (length > this.scratch.length) this.scratch = Buffer.allocUnsafe(length);
    const scratch = this.scratch;
    let hash = FNV_OFFSET;
    for (let index = 0; index < length; index += 1) {
      const byte = source[start + index];
      scratch[index] = byte;
      hash = Math.imul(hash ^ byte, FNV_PRIME);
    }
    this.scratchLength = length;
    return this.probe(hash >>> 0);
  }

  /** The entry of the key in the scratch buffer, whose hash is `hash`; -1 when absent (see `probeSlot`). */
  private probe(hash: number): number {
    this.probeHash = hash;
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const occupant = this.slots[slot];
      if (occupant === 0) {
        this.probeSlot = slot;
        return -1;
      }
      const entry = occupant - 1;
      if (this.hashes[entry] === hash && this.holdsScratch(entry)) return entry;
    }
  }

  private holdsScratch(entry: number): boolean {
    const start = entry === 0 ? 0 : this.ends[entry - 1];
    const length = this.scratchLength;
    if (this.ends[entry] - start !== length) return false;
    for (let index = 0; index < length; index += 1) {
      if (this.bytes[start + index] !== this.scratch[index]) return false;
    }
    return true;
  }

  /** Adds the key `find` just missed; returns its entry. */
  private add(): number {
    const entry = this.count;
    if (entry === this.ends.length) this.growEntries();
    const start = entry === 0 ? 0 : this.ends[entry - 1];
    const end = start + this.scratchLength;
    if (end > 0xffffffff) throw new RangeError('A compact key map holds at most 4 GiB of keys.');
    if (end > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(end, this.bytes.length * 2));
      this.bytes.copy(bigger, 0, 0, start);
      this.bytes = bigger;
    }
    // By hand: `Buffer.copy` costs more per call than the few dozen bytes of a key take to copy.
    const bytes = this.bytes;
    const scratch = this.scratch;
    for (let index = 0; index < this.scratchLength; index += 1) bytes[start + index] = scratch[index];
    this.ends[entry] = end;
    this.hashes[entry] = this.probeHash;
    this.slots[this.probeSlot] = entry + 1;
    this.count += 1;
    // At most half full, so probes stay short.
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return entry;
  }

  private growEntries(): void {
    const size = this.ends.length * 2;
    const ends = new Uint32Array(size);
    ends.set(this.ends);
    this.ends = ends;
    const hashes = new Uint32Array(size);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const values = new Float64Array(size);
    values.set(this.values);
    this.values = values;
  }

  private rehash(size: number): void {
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let entry = 0; entry < this.count; entry += 1) {
      let slot = this.hashes[entry] & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}
