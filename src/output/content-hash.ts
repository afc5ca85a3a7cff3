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

/** The stored `_key → hash` pairs of one `_type` of a version; undefined when none were stored. */
export async function readContentHashes(
  versionDir: string,
  kind: GraphObjectKind,
  type: string,
): Promise<Map<string, string> | undefined> {
  let text: string;
  try {
    text = await readFile(hashesFile(versionDir, kind, type), 'utf8');
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return undefined;
    throw error;
  }
  const hashes = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [key, hash] = JSON.parse(line) as [string, string];
    hashes.set(key, hash);
  }
  return hashes;
}

/**
 * Appends the `_key → hash` pairs of one `_type` to its file, a few thousand lines at a time.
 * Blocks are taken as soon as they are full and written one after the other: a caller may go on
 * adding (and fill further blocks) before the first write, or the file's creation, has finished.
 */
export class ContentHashWriter {
  private lines: string[] = [];
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
    this.lines.push(JSON.stringify([key, hash]));
    return this.lines.length >= 5_000 ? this.flush() : undefined;
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
    if (this.lines.length > 0) {
      const text = `${this.lines.join('\n')}\n`;
      this.lines = [];
      this.writing = this.writing.then(() => this.write(text));
    }
    return this.writing;
  }

  private async write(text: string): Promise<void> {
    if (!this.handle) {
      const file = hashesFile(this.versionDir, this.kind, this.type);
      await makePrivateDir(path.dirname(file));
      this.handle = await open(file, 'wx', PRIVATE_FILE_MODE);
    }
    await this.handle.write(text);
  }
}
