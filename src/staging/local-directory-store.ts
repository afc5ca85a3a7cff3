/**
 * The staging store on a local directory.
 *
 * Layout under `root`:
 *   store-id                                  this store's stable id (created once)
 *   runs/<run key, url-encoded>/<dataset>/part-000000.ndjson … manifest.json
 *
 * Files are 0600 and folders 0700: staged records hold personal data. Every part and manifest is
 * written to a temporary name and renamed into place, so a crash never leaves a torn file under
 * a final name, and writing part N again (a retried activity) replaces it instead of appending.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  StagedInputMissingError,
  partChecksum,
  type DatasetManifest,
  type PartInfo,
  type StagedRun,
  type StagingStore,
} from './store';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const MANIFEST = 'manifest.json';
const PART_PATTERN = /^part-(\d{6})\.ndjson$/;

function partName(index: number): string {
  return `part-${String(index).padStart(6, '0')}.ndjson`;
}

/** Dataset names are relative paths of `[A-Za-z0-9_.-]` segments, e.g. `raw/users`. */
function assertDatasetName(dataset: string): void {
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(dataset) || dataset.split('/').includes('..')) {
    throw new Error(`Invalid staging dataset name "${dataset}"`);
  }
}

async function writeFileAtomically(target: string, content: string | Uint8Array): Promise<void> {
  const temporary = `${target}.tmp-${randomUUID()}`;
  await writeFile(temporary, content, { mode: FILE_MODE });
  await rename(temporary, target);
}

async function pathExists(target: string): Promise<boolean> {
  try {
    await stat(target);
    return true;
  } catch {
    return false;
  }
}

export class LocalDirectoryStagingStore implements StagingStore {
  private constructor(
    readonly root: string,
    readonly id: string,
  ) {}

  /** Opens (creating when needed) the store in `root` and reads or creates its id. */
  static async open(root: string): Promise<LocalDirectoryStagingStore> {
    const absoluteRoot = path.resolve(root);
    await mkdir(path.join(absoluteRoot, 'runs'), { recursive: true, mode: DIR_MODE });
    const idFile = path.join(absoluteRoot, 'store-id');
    let id: string;
    try {
      id = (await readFile(idFile, 'utf8')).trim();
    } catch {
      id = randomUUID().slice(0, 13).replace('-', '');
      await writeFileAtomically(idFile, `${id}\n`);
    }
    if (!/^[a-z0-9-]{4,64}$/.test(id)) {
      throw new Error(`The staging store id in ${idFile} is malformed; delete the file to create a new one.`);
    }
    return new LocalDirectoryStagingStore(absoluteRoot, id);
  }

  openRun(runKey: string): StagedRun {
    return new LocalStagedRun(runKey, path.join(this.root, 'runs', encodeURIComponent(runKey)));
  }

  async listRuns(): Promise<string[]> {
    const entries = await readdir(path.join(this.root, 'runs'), { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => decodeURIComponent(e.name));
  }

  async sweep(isRunAlive: (runKey: string) => Promise<boolean>): Promise<string[]> {
    const removed: string[] = [];
    for (const runKey of await this.listRuns()) {
      if (!(await isRunAlive(runKey))) {
        await this.openRun(runKey).remove();
        removed.push(runKey);
      }
    }
    return removed;
  }
}

class LocalStagedRun implements StagedRun {
  constructor(
    readonly key: string,
    private readonly folder: string,
  ) {}

  private datasetFolder(dataset: string): string {
    assertDatasetName(dataset);
    return path.join(this.folder, ...dataset.split('/'));
  }

  async writePart(dataset: string, index: number, records: readonly unknown[]): Promise<PartInfo> {
    const text = records.map((record) => `${JSON.stringify(record)}\n`).join('');
    const bytes = Buffer.from(text, 'utf8');
    const written = await this.writeJsonLinesPart(dataset, index, bytes, records.length);
    return { ...written, sha256: partChecksum(bytes) };
  }

  async writeJsonLinesPart(dataset: string, index: number, lines: Uint8Array, records: number): Promise<PartInfo> {
    if (!Number.isInteger(index) || index < 0 || index > 999_999) {
      throw new Error(`Invalid part index ${index} for dataset "${dataset}"`);
    }
    const folder = this.datasetFolder(dataset);
    await mkdir(folder, { recursive: true, mode: DIR_MODE });
    await writeFileAtomically(path.join(folder, partName(index)), lines);
    return { index, records, bytes: lines.length };
  }

  async readPart(dataset: string, index: number): Promise<{ bytes: Buffer; version: string }> {
    const file = path.join(this.datasetFolder(dataset), partName(index));
    let handle;
    try {
      handle = await open(file, 'r');
    } catch {
      throw new StagedInputMissingError(this.key, dataset, `part ${index} is gone`);
    }
    try {
      // The version of the very file read: a part written again is a new file (renamed into place).
      const [bytes, stats] = await Promise.all([handle.readFile(), handle.stat({ bigint: true })]);
      return { bytes, version: fileVersion(stats) };
    } finally {
      await handle.close();
    }
  }

  async partVersion(dataset: string, index: number): Promise<string | undefined> {
    const stats = await stat(path.join(this.datasetFolder(dataset), partName(index)), { bigint: true }).catch(
      () => undefined,
    );
    return stats ? fileVersion(stats) : undefined;
  }

  async writeFile(name: string, bytes: Uint8Array): Promise<void> {
    const file = this.datasetFolder(name);
    await mkdir(path.dirname(file), { recursive: true, mode: DIR_MODE });
    await writeFileAtomically(file, bytes);
  }

  async readFile(name: string): Promise<Buffer | undefined> {
    return readFile(this.datasetFolder(name)).catch(() => undefined);
  }

  async listParts(dataset: string): Promise<PartInfo[]> {
    const folder = this.datasetFolder(dataset);
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return [];
    }
    const parts: PartInfo[] = [];
    for (const name of names.sort()) {
      const match = PART_PATTERN.exec(name);
      if (!match) continue;
      const content = await readFile(path.join(folder, name));
      parts.push({ index: Number(match[1]), records: countLines(content), bytes: content.length });
    }
    return parts;
  }

  async commitManifest(
    dataset: string,
    meta?: DatasetManifest['meta'],
    written?: readonly PartInfo[],
  ): Promise<DatasetManifest> {
    const folder = this.datasetFolder(dataset);
    await mkdir(folder, { recursive: true, mode: DIR_MODE });
    const parts = written ? await this.checkWrittenParts(dataset, written) : contiguous(await this.listParts(dataset));
    // Any other part file is left over from an earlier attempt and belongs to no one.
    for (const name of await readdir(folder)) {
      const match = PART_PATTERN.exec(name);
      if (match && Number(match[1]) >= parts.length) await rm(path.join(folder, name), { force: true });
    }
    const manifest: DatasetManifest = {
      dataset,
      records: parts.reduce((sum, p) => sum + p.records, 0),
      bytes: parts.reduce((sum, p) => sum + p.bytes, 0),
      parts,
      ...(meta ? { meta } : {}),
    };
    await writeFileAtomically(path.join(folder, MANIFEST), JSON.stringify(manifest));
    return manifest;
  }

  /**
   * The parts a writer says make the dataset, checked against the files' sizes (no need to read
   * hundreds of megabytes to count lines it knows): numbered 0, 1, 2 … and each still the size
   * written.
   */
  private async checkWrittenParts(dataset: string, written: readonly PartInfo[]): Promise<PartInfo[]> {
    const folder = this.datasetFolder(dataset);
    for (const [position, part] of written.entries()) {
      if (part?.index !== position) {
        throw new Error(
          `The parts of staged dataset "${dataset}" are not numbered 0, 1, 2 …: part ${position} is missing.`,
        );
      }
      const size = await stat(path.join(folder, partName(part.index))).then(
        (stats) => stats.size,
        () => undefined,
      );
      if (size !== part.bytes) {
        throw new Error(
          `Part ${part.index} of staged dataset "${dataset}" is not what was written (${size ?? 'missing'} bytes, ` +
            `${part.bytes} written); another writer is using the same staging folder.`,
        );
      }
    }
    return [...written];
  }

  async readManifest(dataset: string): Promise<DatasetManifest | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.datasetFolder(dataset), MANIFEST), 'utf8')) as DatasetManifest;
    } catch {
      return undefined;
    }
  }

  async *read<T = unknown>(dataset: string): AsyncIterable<T> {
    for await (const batch of this.readJsonTextBatches(dataset)) {
      for (const text of batch) yield JSON.parse(text) as T;
    }
  }

  async *readJsonTextBatches(dataset: string): AsyncIterable<string[]> {
    for await (const file of this.partFiles(dataset)) {
      for await (const lines of readLineBatches(file)) yield lines.map((line) => line.toString('utf8'));
    }
  }

  async *readJsonLineBatches(dataset: string): AsyncIterable<Uint8Array[]> {
    for await (const file of this.partFiles(dataset)) yield* readLineBatches(file);
  }

  /** The part files of a complete dataset, in order, each checked to exist just before it is read. */
  private async *partFiles(dataset: string): AsyncIterable<string> {
    const manifest = await this.readManifest(dataset);
    if (!manifest) throw new StagedInputMissingError(this.key, dataset, 'no manifest (never completed, or removed)');
    const folder = this.datasetFolder(dataset);
    for (const part of manifest.parts) {
      const file = path.join(folder, partName(part.index));
      if (!(await pathExists(file))) {
        throw new StagedInputMissingError(this.key, dataset, `part ${part.index} is gone`);
      }
      yield file;
    }
  }

  async listDatasets(prefix = ''): Promise<string[]> {
    const found: string[] = [];
    const walk = async (relative: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(path.join(this.folder, relative), { withFileTypes: true });
      } catch {
        return;
      }
      if (entries.some((e) => e.isFile() && e.name === MANIFEST)) found.push(relative.split(path.sep).join('/'));
      for (const entry of entries) {
        if (entry.isDirectory()) await walk(path.join(relative, entry.name));
      }
    };
    if (prefix) assertDatasetName(prefix);
    await walk(prefix ? path.join(...prefix.split('/')) : '');
    return found.filter((d) => d !== '').sort();
  }

  async removeDataset(dataset: string): Promise<void> {
    await rm(this.datasetFolder(dataset), { recursive: true, force: true });
  }

  async exists(): Promise<boolean> {
    return pathExists(this.folder);
  }

  async remove(): Promise<void> {
    await rm(this.folder, { recursive: true, force: true });
  }
}

/** Parts numbered from 0 without a gap; anything after a gap is left over from an earlier attempt. */
function contiguous(all: readonly PartInfo[]): PartInfo[] {
  const parts: PartInfo[] = [];
  for (const part of all) {
    if (part.index !== parts.length) break;
    parts.push(part);
  }
  return parts;
}

/**
 * Which file a path names and as what content: inode, modification time (ns) and size. Parts are
 * written to a new file and renamed into place, so writing one again always changes its inode.
 */
function fileVersion(stats: { ino: bigint; mtimeNs: bigint; size: bigint }): string {
  return `${stats.ino}:${stats.mtimeNs}:${stats.size}`;
}

/**
 * Newlines in `content`, i.e. records of an NDJSON part. `indexOf` scans natively; iterating the
 * bytes in JavaScript took seconds over the hundreds of megabytes a 100,000-user run stages.
 */
function countLines(content: Buffer): number {
  let lines = 0;
  for (let at = content.indexOf(0x0a); at !== -1; at = content.indexOf(0x0a, at + 1)) lines += 1;
  return lines;
}

/**
 * Streams the non-empty lines of an NDJSON file as views of the chunk read (1 MiB), one batch per
 * chunk. Written by hand rather than with `readline`: splitting raw buffers on `\n` is markedly
 * faster on the 100,000-record parts a large tenant produces, consumers that pass lines on need not
 * decode them, and a batch per chunk saves the promise per line an async iterator of lines costs.
 */
async function* readLineBatches(file: string): AsyncIterable<Buffer[]> {
  let remainder: Buffer | undefined;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buffer: Buffer = remainder ? Buffer.concat([remainder, chunk]) : chunk;
    const lines: Buffer[] = [];
    let start = 0;
    let newline = buffer.indexOf(0x0a, start);
    while (newline !== -1) {
      if (newline > start) lines.push(buffer.subarray(start, newline));
      start = newline + 1;
      newline = buffer.indexOf(0x0a, start);
    }
    remainder = start < buffer.length ? buffer.subarray(start) : undefined;
    if (lines.length > 0) yield lines;
  }
  if (remainder && remainder.length > 0) yield [remainder];
}
