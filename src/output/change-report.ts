/**
 * The change report of a local delivery: what was created, updated and deleted per `_type` against
 * the previous complete output, with the objects' keys.
 *
 * Definitions (by `_key`, within one `_type`):
 *   created   the key is in the new output and was not in the previous one;
 *   updated   the key is in both and the canonical forms differ (see content-hash.ts: property order
 *             and `_rawData` entry order do not count, every other difference does);
 *   unchanged the key is in both with equal canonical forms;
 *   deleted   the key was in the previous output and is not in the new one — never the case for a
 *             partial type, whose previous objects are kept (`carriedOver`), as JupiterOne keeps
 *             them when a type is listed in `partialDatasets`.
 *
 * `changes.json` holds every key. The report returned to callers (and carried in workflow results)
 * holds the full counts but at most `keyListLimit` keys per list, so it stays small for any tenant.
 */
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { JSON_BYTE, jsonStringBytesAtMost, writeJsonString } from '../util/json-text-bytes';
import type { DeliveredPairs } from './content-hash';
import { CHANGES_FILE, type GraphObjectKind } from './paths';
import { PRIVATE_FILE_MODE, readJsonFileIfPresent } from './private-files';

export interface TypeChanges {
  type: string;
  kind: GraphObjectKind;
  partial: boolean;
  /** Why the type is partial, when the caller said. */
  partialReason?: string;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** Objects of a partial type not delivered this time and kept from the previous output. */
  carriedOver: number;
  createdKeys: string[];
  updatedKeys: string[];
  deletedKeys: string[];
}

export interface ChangeTotals {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  carriedOver: number;
}

export interface ChangeReport {
  instanceId: string;
  generatedAt: string;
  /** False for the first output of an instance: everything is then "created". */
  comparedWithPreviousOutput: boolean;
  /** `null` when the key lists are complete (changes.json); otherwise the most keys each list holds. */
  keyListLimit: number | null;
  totals: ChangeTotals;
  types: TypeChanges[];
}

export function emptyTotals(): ChangeTotals {
  return { created: 0, updated: 0, deleted: 0, unchanged: 0, carriedOver: 0 };
}

/** What an object delivered is against the previous output (see the definitions above). */
export type DeliveredChange = 'created' | 'updated' | 'unchanged';

const KEY_LISTS = ['createdKeys', 'updatedKeys', 'deletedKeys'] as const;
type KeyListName = (typeof KEY_LISTS)[number];

/** Bytes per piece of a key list: about a thousand keys. */
const KEY_LIST_PIECE_BYTES = 64 * 1024;

/**
 * How `indentedJson` lays out a key list of a type's section — what comes before each key, and what
 * closes the list — read off its own output, so the pieces follow it rather than restate it.
 */
const KEY_LIST_LAYOUT = (() => {
  const sample = indentedJson({ list: [0] }, 4);
  const opening = sample.indexOf('[');
  const key = sample.indexOf('0', opening);
  return { beforeKey: sample.slice(opening + 1, key), closing: sample.slice(key + 1, sample.indexOf(']', key) + 1) };
})();

const QUOTE = JSON_BYTE.quote;

/** What goes before each key in a list's bytes: the list's first key has its comma replaced by `[`. */
const KEY_SEPARATOR = Buffer.from(`,${KEY_LIST_LAYOUT.beforeKey}`);

/**
 * One key list of a type's changes: every key as the text changes.json holds it, in pieces of bytes,
 * and the first `keysKept` as strings (for the report a delivery returns). A first output lists
 * every key of every type as created: held as strings, a type of 100,000 keys was that many heap
 * objects until its section was written (see CompactKeyMap for why that weighs).
 */
class KeyList {
  readonly first: string[] = [];
  private readonly pieces: Buffer[] = [];
  private piece: Buffer | undefined;
  private length = 0;

  constructor(private readonly keysKept: number) {}

  add(key: string): void {
    if (this.first.length < this.keysKept) this.first.push(key);
    const at = this.roomFor(jsonStringBytesAtMost(key.length));
    this.length = writeJsonString(this.piece!, at, key);
  }

  /**
   * `add` for a key given as its JSON string's content, `bytes[start, end)`, which must hold no
   * escape (`plainJsonStringEnd`): the key's UTF-8 bytes, copied as they are.
   */
  addPlain(bytes: Buffer, start: number, end: number): void {
    if (this.first.length < this.keysKept) this.first.push(bytes.toString('utf8', start, end));
    let at = this.roomFor(end - start + 2);
    // The piece after `roomFor`, which may have begun a new one.
    const piece = this.piece!;
    piece[at++] = QUOTE;
    for (let index = start; index < end; index += 1) piece[at++] = bytes[index];
    piece[at++] = QUOTE;
    this.length = at;
  }

  /** Starts a key of at most `keyBytes` bytes (its quotes included): writes its separator, answers where the key goes. */
  private roomFor(keyBytes: number): number {
    const room = KEY_SEPARATOR.length + keyBytes;
    if (!this.piece || this.length + room > this.piece.length) {
      if (this.piece) this.pieces.push(this.piece.subarray(0, this.length));
      this.piece = Buffer.allocUnsafe(Math.max(KEY_LIST_PIECE_BYTES, room));
      this.length = 0;
    }
    const piece = this.piece;
    let at = this.length;
    for (let index = 0; index < KEY_SEPARATOR.length; index += 1) piece[at++] = KEY_SEPARATOR[index];
    return at;
  }

  /** The list's JSON as a type's section holds it, in pieces: `[]`, or `[` the keys one per line `]`. */
  *json(): Generator<string | Uint8Array> {
    const pieces = this.piece ? [...this.pieces, this.piece.subarray(0, this.length)] : this.pieces;
    if (pieces.length === 0) {
      yield '[]';
      return;
    }
    // The first key's separator opens the list instead.
    yield '[';
    yield pieces[0].subarray(1);
    yield* pieces.slice(1);
    yield KEY_LIST_LAYOUT.closing;
  }
}

/** Collects the changes of one `_type` while its objects stream past. */
export class TypeChangeTracker implements DeliveredPairs {
  private counts: Omit<TypeChanges, KeyListName>;
  private readonly lists: Record<KeyListName, KeyList>;

  /**
   * `keysKept`: keys per list kept as strings, in `changes` (default: all of them); changes.json's
   * section (`sectionPieces`) has all of them whatever this is.
   */
  constructor(
    type: string,
    kind: GraphObjectKind,
    partial: { partial: boolean; reason?: string },
    keysKept = Infinity,
  ) {
    this.counts = {
      type,
      kind,
      partial: partial.partial,
      ...(partial.reason ? { partialReason: partial.reason } : {}),
      created: 0,
      updated: 0,
      deleted: 0,
      unchanged: 0,
      carriedOver: 0,
    };
    this.lists = {
      createdKeys: new KeyList(keysKept),
      updatedKeys: new KeyList(keysKept),
      deletedKeys: new KeyList(keysKept),
    };
  }

  /** The changes so far, each key list holding its first `keysKept` keys. */
  get changes(): TypeChanges {
    return {
      ...this.counts,
      createdKeys: [...this.lists.createdKeys.first],
      updatedKeys: [...this.lists.updatedKeys.first],
      deletedKeys: [...this.lists.deletedKeys.first],
    };
  }

  /** Records a delivered object; `previousHash` is undefined when the previous output lacked its key. */
  delivered(key: string, previousHash: string | undefined, hash: string): void {
    const change = previousHash === undefined ? 'created' : previousHash === hash ? 'unchanged' : 'updated';
    const list = this.counted(change);
    list?.add(key);
  }

  /**
   * `delivered` for an object whose change is known, and whose key is given as its JSON string's
   * content, `bytes[start, end)`, holding no escape (content-hash.ts, `deliverStoredPairs`).
   */
  deliveredPlain(change: DeliveredChange, bytes: Buffer, start: number, end: number): void {
    this.counted(change)?.addPlain(bytes, start, end);
  }

  /** Counts a delivered object; answers the list its key goes in (none for an unchanged one). */
  private counted(change: DeliveredChange): KeyList | undefined {
    this.counts[change] += 1;
    return change === 'created' ? this.lists.createdKeys : change === 'updated' ? this.lists.updatedKeys : undefined;
  }

  /** Records a previous object that was not delivered this time and is dropped from the output. */
  deleted(key: string): void {
    this.counts.deleted += 1;
    this.lists.deletedKeys.add(key);
  }

  /**
   * Marks the type partial, for a tracker made before that was known (a delivery that follows the
   * build learns the partial types at its end). Its section then reads as if made so.
   */
  markPartial(reason?: string): void {
    const { type, kind, partial: _partial, partialReason: _reason, ...counts } = this.counts;
    this.counts = { type, kind, partial: true, ...(reason ? { partialReason: reason } : {}), ...counts };
  }

  /** Records a previous object of a partial type kept in the output. */
  carriedOver(): void {
    this.counts.carriedOver += 1;
  }

  /**
   * The type's section of changes.json — the changes with every key, as `JSON.stringify(…, null, 2)`
   * writes them, indented to their place — in pieces, which joined are that text. Made as one
   * string (and once more to indent it), a section of 100,000 keys was megabytes in V8's
   * large-object space, where a large delivery's sections added up to some 50 MB of its peak heap.
   */
  *sectionPieces(): Generator<string | Uint8Array> {
    // The section without its keys, each list as a marker to put the list's pieces in place of.
    const head = indentedJson({ ...this.counts, createdKeys: 0, updatedKeys: 1, deletedKeys: 2 }, 4);
    let at = 0;
    for (const [index, name] of KEY_LISTS.entries()) {
      // A property name: inside a string value a quote would be escaped.
      const marker = `"${name}": ${index}`;
      const markerAt = head.indexOf(marker, at);
      yield `${head.slice(at, markerAt)}"${name}": `;
      yield* this.lists[name].json();
      at = markerAt + marker.length;
    }
    yield head.slice(at);
  }
}

/** A copy of `changes` whose key lists hold at most `limit` keys (counts unchanged). */
export function limitKeyLists(changes: TypeChanges, limit: number): TypeChanges {
  return {
    ...changes,
    createdKeys: changes.createdKeys.slice(0, limit),
    updatedKeys: changes.updatedKeys.slice(0, limit),
    deletedKeys: changes.deletedKeys.slice(0, limit),
  };
}

function addToTotals(totals: ChangeTotals, changes: TypeChanges): void {
  totals.created += changes.created;
  totals.updated += changes.updated;
  totals.deleted += changes.deleted;
  totals.unchanged += changes.unchanged;
  totals.carriedOver += changes.carriedOver;
}

/** Pretty JSON of `value`, every line after the first indented by `indent` spaces. */
function indentedJson(value: unknown, indent: number): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, `\n${' '.repeat(indent)}`);
}

/**
 * Writes `changes.json` type by type, so the full key lists of only one `_type` are in memory at a
 * time: each type's section goes to a side file as soon as it is complete, and `finish` writes the
 * header (with totals, known only at the end) followed by the sections.
 */
export class ChangeReportWriter {
  private readonly totals = emptyTotals();
  private readonly limitedTypes: TypeChanges[] = [];
  private sections: FileHandle | undefined;
  private sectionCount = 0;
  private readonly sectionsFile: string;

  constructor(
    private readonly file: string,
    private readonly header: Pick<ChangeReport, 'instanceId' | 'generatedAt' | 'comparedWithPreviousOutput'>,
    private readonly keyListLimit: number,
  ) {
    this.sectionsFile = `${file}.sections`;
  }

  /** A tracker for a type of this report: it keeps as many keys as strings as the returned report lists. */
  tracker(type: string, kind: GraphObjectKind, partial: { partial: boolean; reason?: string }): TypeChangeTracker {
    return new TypeChangeTracker(type, kind, partial, this.keyListLimit);
  }

  /** Adds a type's section, from a tracker `tracker` made. */
  async add(tracker: TypeChangeTracker): Promise<void> {
    this.sections ??= await open(this.sectionsFile, 'wx', PRIVATE_FILE_MODE);
    await this.sections.write(this.sectionCount === 0 ? '    ' : ',\n    ');
    for (const piece of tracker.sectionPieces()) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
      for (let offset = 0; offset < bytes.length;) offset += (await this.sections.write(bytes, offset)).bytesWritten;
    }
    const changes = tracker.changes;
    this.sectionCount += 1;
    addToTotals(this.totals, changes);
    this.limitedTypes.push(limitKeyLists(changes, this.keyListLimit));
  }

  /** Writes the complete `changes.json`; returns the report with limited key lists. */
  async finish(): Promise<ChangeReport> {
    await this.sections?.close();
    this.sections = undefined;
    const output = await open(this.file, 'wx', PRIVATE_FILE_MODE);
    try {
      const head: Omit<ChangeReport, 'types'> = { ...this.header, keyListLimit: null, totals: this.totals };
      const headJson = JSON.stringify(head, null, 2);
      await output.write(`${headJson.slice(0, -2)},\n  "types": [\n`);
      if (this.sectionCount > 0) {
        for await (const chunk of createReadStream(this.sectionsFile) as AsyncIterable<Buffer>) {
          await output.write(chunk);
        }
        await output.write('\n');
      }
      await output.write('  ]\n}\n');
    } finally {
      await output.close();
    }
    await rm(this.sectionsFile, { force: true });
    return { ...this.header, keyListLimit: this.keyListLimit, totals: { ...this.totals }, types: this.limitedTypes };
  }

  /** Closes and removes the side file (after a failed write). */
  async discard(): Promise<void> {
    await this.sections?.close();
    this.sections = undefined;
    await rm(this.sectionsFile, { force: true });
  }
}

/** Reads the complete change report of an output folder; undefined when the folder has none. */
export async function readChangeReport(outputDir: string): Promise<ChangeReport | undefined> {
  return readJsonFileIfPresent<ChangeReport>(path.join(outputDir, CHANGES_FILE));
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

function keyLine(label: string, keys: string[], count: number, maxKeys: number): string | undefined {
  if (count === 0 || maxKeys <= 0) return undefined;
  const shown = keys.slice(0, maxKeys);
  const more = count - shown.length;
  return `    ${label}: ${shown.join(', ')}${more > 0 ? ` … and ${more.toLocaleString('en-US')} more` : ''}`;
}

/**
 * The change report as text for a run summary: totals, then one line per `_type` that changed (or
 * that is partial), each followed by its first `maxKeysPerList` keys per list. The first output of
 * an instance is summarised by counts only, since every key would be listed as created.
 */
export function formatChangeReport(report: ChangeReport, options: { maxKeysPerList?: number } = {}): string {
  const maxKeys = options.maxKeysPerList ?? 5;
  const { totals } = report;
  const lines: string[] = [];
  if (!report.comparedWithPreviousOutput) {
    lines.push(`No previous output to compare with: ${plural(totals.created, 'object')} created.`);
  } else {
    lines.push(
      `Changes since the previous output: ${totals.created.toLocaleString('en-US')} created, ` +
        `${totals.updated.toLocaleString('en-US')} updated, ${totals.deleted.toLocaleString('en-US')} deleted, ` +
        `${totals.unchanged.toLocaleString('en-US')} unchanged` +
        (totals.carriedOver > 0 ? `, ${totals.carriedOver.toLocaleString('en-US')} kept for partial types.` : '.'),
    );
  }
  for (const changes of report.types) {
    const changed = changes.created + changes.updated + changes.deleted;
    if (changed === 0 && !changes.partial) continue;
    const counts: string[] = [];
    if (changes.created > 0) counts.push(`${changes.created.toLocaleString('en-US')} created`);
    if (changes.updated > 0) counts.push(`${changes.updated.toLocaleString('en-US')} updated`);
    if (changes.deleted > 0) counts.push(`${changes.deleted.toLocaleString('en-US')} deleted`);
    if (changes.carriedOver > 0)
      counts.push(`${changes.carriedOver.toLocaleString('en-US')} kept from the previous output`);
    if (counts.length === 0) counts.push('no changes');
    const partial = changes.partial
      ? ` (partial${changes.partialReason ? `: ${changes.partialReason}` : ''}; previous objects are kept)`
      : '';
    lines.push(`  ${changes.type}${partial}: ${counts.join(', ')}`);
    if (!report.comparedWithPreviousOutput) continue;
    for (const line of [
      keyLine('created', changes.createdKeys, changes.created, maxKeys),
      keyLine('updated', changes.updatedKeys, changes.updated, maxKeys),
      keyLine('deleted', changes.deletedKeys, changes.deleted, maxKeys),
    ]) {
      if (line) lines.push(line);
    }
  }
  return lines.join('\n');
}
