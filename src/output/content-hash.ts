/**
 * Content identity of a graph object, for the change report.
 *
 * Two versions of an object (same `_key`) are the same — "unchanged" — exactly when their canonical
 * texts are equal; otherwise the object is "updated". The canonical text is the object's JSON with:
 *   - its properties sorted by name (the order a converter sets properties in means nothing);
 *   - its `_rawData` entries sorted by their `name` (JupiterOne keeps them as a set keyed by name);
 *   - properties holding `undefined` left out (they do not exist on the wire).
 * Everything else counts: an added, removed or changed property, the order of elements in an array
 * value, and any change to the JSON text inside a `_rawData` entry or `_mapping` (nested values are
 * compared as written: they come from Duo's responses and our own code, both of which keep their
 * field order, and sorting every nested object would triple the cost for 100,000-user tenants).
 *
 * Only `_key → hash` pairs are kept, never objects. Each version of the output stores the hashes of
 * its objects beside the graph (`.content-hashes/<kind>/<_type>.ndjson`), so the next delivery
 * compares against them without reading and hashing the previous graph files again.
 */
import { hash } from 'node:crypto';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { assertPathSegment, type GraphObjectKind } from './paths';
import { PRIVATE_FILE_MODE, isErrnoException, makePrivateDir } from './private-files';

export const CONTENT_HASHES_FOLDER = '.content-hashes';

function rawDataName(entry: unknown): string {
  const name = entry !== null && typeof entry === 'object' ? (entry as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : '';
}

/** The canonical JSON text of a graph object (see the module comment for what it ignores). */
export function canonicalJson(graphObject: object): string {
  const properties = graphObject as Record<string, unknown>;
  let text = '{';
  for (const name of Object.keys(properties).sort()) {
    let value = properties[name];
    if (value === undefined) continue;
    if (name === '_rawData' && Array.isArray(value) && value.length > 1) {
      value = [...value].sort((a, b) => {
        const left = rawDataName(a);
        const right = rawDataName(b);
        return left < right ? -1 : left > right ? 1 : 0;
      });
    }
    const json = JSON.stringify(value);
    if (json === undefined) continue;
    text += `${text.length > 1 ? ',' : ''}${JSON.stringify(name)}:${json}`;
  }
  return `${text}}`;
}

/** A short, stable hash of the canonical text: equal hashes ⇔ unchanged object. */
export function contentHash(graphObject: object): string {
  // One-shot hashing: no Hash object per graph object (hundreds of thousands per delivery).
  return hash('sha256', canonicalJson(graphObject), 'base64url').slice(0, 22);
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

/** Appends the `_key → hash` pairs of one `_type` to its file, a few thousand lines at a time. */
export class ContentHashWriter {
  private lines: string[] = [];
  private handle: FileHandle | undefined;

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

  private async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    if (!this.handle) {
      const file = hashesFile(this.versionDir, this.kind, this.type);
      await makePrivateDir(path.dirname(file));
      this.handle = await open(file, 'wx', PRIVATE_FILE_MODE);
    }
    const text = `${this.lines.join('\n')}\n`;
    this.lines = [];
    await this.handle.write(text);
  }
}
