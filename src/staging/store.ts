/**
 * The staging store: where activities leave data for each other (the claim-check pattern).
 *
 * No record ever travels through Temporal. A fetch activity writes the raw Duo records of one
 * resource as numbered NDJSON parts plus a manifest; buildGraph reads those parts as a stream and
 * writes graph parts; delivery reads the graph parts. Activities only pass dataset names and
 * counts through workflow history, so history size does not grow with the tenant.
 *
 * The interface is small on purpose so that a shared object store can implement it later; the
 * only implementation today is the local directory in `local-directory-store.ts`.
 */

import { createHash } from 'node:crypto';

/** One numbered part of a dataset. Writing the same index again replaces it (never duplicates). */
export interface PartInfo {
  index: number;
  records: number;
  bytes: number;
  /**
   * SHA-256 of the part's bytes (`partChecksum`), for parts whose readers must be able to prove
   * they read exactly what was written: the raw Duo records, which a resumed fetch may find left
   * by an earlier attempt and the build reads long after they were written.
   */
  sha256?: string;
}

/**
 * The checksum of a part's bytes. Computed from bytes a writer or reader holds anyway (SHA-256 runs
 * at well over 1 GB/s with the CPU's SHA instructions): never a read made only to check.
 */
export function partChecksum(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Written last, after every part of a dataset: its presence means the dataset is complete. */
export interface DatasetManifest {
  dataset: string;
  records: number;
  bytes: number;
  parts: PartInfo[];
  /** Free-form, small, non-secret facts the producer wants to pass on (e.g. Duo's total count). */
  meta?: Record<string, string | number | boolean>;
}

export interface StagedRun {
  /** The run's key, as given to `StagingStore.openRun`. */
  readonly key: string;
  /** Atomically writes (or replaces) part `index` of `dataset`; the answer carries the part's checksum. */
  writePart(dataset: string, index: number, records: readonly unknown[]): Promise<PartInfo>;
  /**
   * Like `writePart`, for records already serialised: `lines` holds the UTF-8 JSON text of
   * `records` records, each followed by a line break (JSON.stringify never writes one inside).
   */
  writeJsonLinesPart(dataset: string, index: number, lines: Uint8Array, records: number): Promise<PartInfo>;
  /**
   * The bytes of part `index` as it is now (NDJSON), with its version: a token that changes
   * whenever the part is written again. Throws `StagedInputMissingError` when the part is missing.
   */
  readPart(dataset: string, index: number): Promise<{ bytes: Buffer; version: string }>;
  /** The version of part `index` as `readPart` reports it, or undefined when the part is missing. */
  partVersion(dataset: string, index: number): Promise<string | undefined>;
  /**
   * Keeps a file of the run's that is not a part (derived data kept beside the datasets, such as
   * staged records converted ahead of the build, or a dataset's part log), replacing it atomically.
   * `name` is a relative path like a dataset name; inside a dataset's folder it goes with the
   * dataset (`removeDataset`).
   */
  writeFile(name: string, bytes: Uint8Array): Promise<void>;
  /** A file kept by `writeFile`, or undefined when there is none. */
  readFile(name: string): Promise<Buffer | undefined>;
  /** Parts currently on disk for a dataset, in index order (complete or not). */
  listParts(dataset: string): Promise<PartInfo[]>;
  /**
   * Marks a dataset complete. `written`, when given, lists every part of the dataset, from part 0 in
   * order (what `writePart` answered, or parts the caller verified): the store checks their sizes
   * rather than reading them to count their records, and removes any other part file. Without it,
   * the parts on disk from 0 up to the first gap make the dataset.
   */
  commitManifest(
    dataset: string,
    meta?: DatasetManifest['meta'],
    written?: readonly PartInfo[],
  ): Promise<DatasetManifest>;
  /** The manifest of a complete dataset, or undefined when the dataset is missing or incomplete. */
  readManifest(dataset: string): Promise<DatasetManifest | undefined>;
  /**
   * Streams the records of a complete dataset in part order. Throws `StagedInputMissingError`
   * when the dataset has no manifest or a part has disappeared.
   */
  read<T = unknown>(dataset: string): AsyncIterable<T>;
  /**
   * Like `read`, but each record's JSON text unparsed, a batch of records at a time (a few thousand,
   * in order): for consumers that pass records on as JSON, parsing and serialising again would be
   * wasted work, and with hundreds of thousands of records one awaited step per record costs
   * measurable time.
   */
  readJsonTextBatches(dataset: string): AsyncIterable<string[]>;
  /**
   * Like `readJsonTextBatches`, each record's UTF-8 bytes rather than a string (views into the chunk
   * read; copy what must outlive the next batch): for consumers that pass most records on unread.
   */
  readJsonLineBatches(dataset: string): AsyncIterable<Uint8Array[]>;
  /** Names of the datasets below `prefix` that have a manifest. */
  listDatasets(prefix?: string): Promise<string[]>;
  /** Removes one dataset (used when a resource is fetched again from scratch). */
  removeDataset(dataset: string): Promise<void>;
  /** True while the run's folder exists. */
  exists(): Promise<boolean>;
  /** Removes everything the run staged. */
  remove(): Promise<void>;
}

export interface StagingStore {
  /**
   * Stable id of this store, kept with the store itself (on disk for the local store). A worker
   * restarted on the same host with the same data folder has the same id, which is what lets it
   * pick up the runs whose staged files it holds (see the worker-specific task queue).
   */
  readonly id: string;
  openRun(runKey: string): StagedRun;
  /** Keys of the runs that have staged data. */
  listRuns(): Promise<string[]>;
  /**
   * Removes the staged data of every run for which `isRunAlive` answers false; returns their keys.
   * Workers call it at start to clean up after runs that died with their worker.
   */
  sweep(isRunAlive: (runKey: string) => Promise<boolean>): Promise<string[]>;
}

/**
 * A staged input that a step needs is gone or is not what its manifest says (the worker's disk was
 * wiped, the run was reset and its staging removed, a part was replaced, ...). The workflow answers
 * by starting the pipeline again from fetch.
 */
export class StagedInputMissingError extends Error {
  constructor(
    readonly runKey: string,
    readonly dataset: string,
    detail: string,
  ) {
    super(`Staged dataset "${dataset}" of run "${runKey}" is missing: ${detail}`);
    this.name = 'StagedInputMissingError';
  }
}
