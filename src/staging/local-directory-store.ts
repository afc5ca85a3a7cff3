/**
 * The staging store on a local directory.
 *
 * Layout under `root`:
 *   store-id                                  this store's stable id (created once)
 *   runs/<run key, url-encoded>/<dataset>/part-000000 … manifest.json
 *   removing/<run key, url-encoded>-<random>/  a removed run's files, being deleted
 *
 * Removing a run moves its folder into `removing/` (one rename) and deletes it from there without
 * making the caller wait: a 100,000-user run stages a couple of thousand files and about a
 * gigabyte, whose deletion took 0.3 s at the end of every run. Nothing reads `removing/`; what a
 * crash leaves there goes at the next `open` (a worker's start).
 *
 * Files are 0600 and folders 0700: staged records hold personal data. Every part and manifest is
 * written to a temporary name and renamed into place, so a crash never leaves a torn file under
 * a final name, and writing part N again (a retried activity) replaces it instead of appending.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { BackgroundDeletions } from '../util/background-deletions';
import {
  StagedInputMissingError,
  type DatasetManifest,
  type PartInfo,
  type StagedRun,
  type StagingStore,
} from './store';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const RUNS = 'runs';
const REMOVING = 'removing';
const MANIFEST = 'manifest.json';
const PART_PATTERN = /^part-(\d{6})$/;

function partName(index: number): string {
  return `part-${String(index).padStart(6, '0')}`;
}

/** Dataset names are relative paths of `[A-Za-z0-9_.-]` segments, e.g. `converted/users`. */
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

export class LocalDirectoryStagingStore implements StagingStore {
  /** Deletions of removed runs still under way, so that they can be awaited (`deletionsSettled`). */
  readonly #deletions = new BackgroundDeletions();

  private constructor(
    readonly root: string,
    readonly id: string,
  ) {}

  /**
   * Opens (creating when needed) the store in `root` and reads or creates its id. Deletes what
   * removed runs left in `removing/` when their worker stopped before it was done.
   */
  static async open(root: string): Promise<LocalDirectoryStagingStore> {
    const absoluteRoot = path.resolve(root);
    await mkdir(path.join(absoluteRoot, RUNS), { recursive: true, mode: DIR_MODE });
    await rm(path.join(absoluteRoot, REMOVING), { recursive: true, force: true });
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
    return new LocalStagedRun(runKey, path.join(this.root, RUNS, encodeURIComponent(runKey)), (folder) =>
      this.#remove(folder),
    );
  }

  /** Resolves once the files of every run removed so far are deleted (removal returns before). */
  async deletionsSettled(): Promise<void> {
    await this.#deletions.settled();
  }

  /** Moves a run's folder out of `runs/` and deletes it in the background. */
  async #remove(folder: string): Promise<void> {
    const removing = path.join(this.root, REMOVING);
    const doomed = path.join(removing, `${path.basename(folder)}-${randomUUID().slice(0, 8)}`);
    await mkdir(removing, { recursive: true, mode: DIR_MODE });
    try {
      await rename(folder, doomed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing staged, or removed already
      throw error;
    }
    this.#deletions.start(doomed);
  }

  async listRuns(): Promise<string[]> {
    const entries = await readdir(path.join(this.root, RUNS), { withFileTypes: true });
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
    private readonly removeFolder: (folder: string) => Promise<void>,
  ) {}

  private datasetFolder(dataset: string): string {
    assertDatasetName(dataset);
    return path.join(this.folder, ...dataset.split('/'));
  }

  async writePart(
    dataset: string,
    index: number,
    bytes: Uint8Array,
    records: number,
    sha256?: string,
  ): Promise<PartInfo> {
    if (!Number.isInteger(index) || index < 0 || index > 999_999) {
      throw new Error(`Invalid part index ${index} for dataset "${dataset}"`);
    }
    const folder = this.datasetFolder(dataset);
    await mkdir(folder, { recursive: true, mode: DIR_MODE });
    await writeFileAtomically(path.join(folder, partName(index)), bytes);
    return { index, records, bytes: bytes.length, ...(sha256 === undefined ? {} : { sha256 }) };
  }

  async readPart(dataset: string, index: number, into?: Buffer): Promise<Buffer> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(path.join(this.datasetFolder(dataset), partName(index)), 'r');
      // A part is replaced by renaming a whole new file over it, never rewritten in place: the
      // file open here keeps the size it has now.
      const { size } = await handle.stat();
      const bytes = into && into.length >= size ? into : Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      // Short only if the file was cut under the reader: the caller's size check refuses it.
      return bytes.subarray(0, filled);
    } catch {
      throw new StagedInputMissingError(this.key, dataset, `part ${index} is gone`);
    } finally {
      await handle?.close();
    }
  }

  async writeFile(name: string, bytes: Uint8Array): Promise<void> {
    const file = this.datasetFolder(name);
    await mkdir(path.dirname(file), { recursive: true, mode: DIR_MODE });
    await writeFileAtomically(file, bytes);
  }

  async readFile(name: string): Promise<Buffer | undefined> {
    return readFile(this.datasetFolder(name)).catch(() => undefined);
  }

  async commitManifest(
    dataset: string,
    parts: readonly PartInfo[],
    meta?: DatasetManifest['meta'],
  ): Promise<DatasetManifest> {
    const folder = this.datasetFolder(dataset);
    await mkdir(folder, { recursive: true, mode: DIR_MODE });
    await this.checkWrittenParts(dataset, parts);
    // Any other part file is left over from an earlier attempt and belongs to no one.
    for (const name of await readdir(folder)) {
      const match = PART_PATTERN.exec(name);
      if (match && Number(match[1]) >= parts.length) await rm(path.join(folder, name), { force: true });
    }
    const manifest: DatasetManifest = {
      dataset,
      records: parts.reduce((sum, p) => sum + p.records, 0),
      bytes: parts.reduce((sum, p) => sum + p.bytes, 0),
      parts: [...parts],
      ...(meta ? { meta } : {}),
    };
    await writeFileAtomically(path.join(folder, MANIFEST), JSON.stringify(manifest));
    return manifest;
  }

  /**
   * The parts a writer says make the dataset, checked against the files' sizes (no need to read
   * hundreds of megabytes it knows): numbered 0, 1, 2 … and each still the size written.
   */
  private async checkWrittenParts(dataset: string, parts: readonly PartInfo[]): Promise<void> {
    const folder = this.datasetFolder(dataset);
    for (const [position, part] of parts.entries()) {
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
  }

  async readManifest(dataset: string): Promise<DatasetManifest | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.datasetFolder(dataset), MANIFEST), 'utf8')) as DatasetManifest;
    } catch {
      return undefined;
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

  async remove(): Promise<void> {
    await this.removeFolder(this.folder);
  }
}
