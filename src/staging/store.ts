/**
 * The staging store: where activities leave data for each other (the claim-check pattern).
 *
 * No record ever travels through Temporal. A fetch activity writes the converted records of one
 * resource as numbered parts plus a manifest; buildGraph reads those parts and writes graph parts
 * (NDJSON); delivery reads the graph parts. Activities only pass dataset names and counts through
 * workflow history, so history size does not grow with the tenant.
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
   * SHA-256 of the part's bytes (`partChecksum`), for parts whose readers must prove they read
   * exactly what was written: a resumed fetch the parts an earlier attempt left, the build the
   * fetched parts written minutes before. The writer computes it from the bytes it holds, so the
   * store never hashes what nobody checks.
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

/**
 * One run's staged data: datasets of numbered parts, each committed by a manifest, plus a few small
 * files kept beside them. Deliberately small — whole parts written and read by name, no listing of
 * parts, no appends, no file versions — so that an object store can implement it as well as a
 * local directory. Reading a dataset's records is built on it (json-lines.ts).
 */
export interface StagedRun {
  /** The run's key, as given to `StagingStore.openRun`. */
  readonly key: string;
  /**
   * Atomically writes (or replaces) part `index` of `dataset`: `bytes` holding `records` records,
   * with their checksum when the writer has one (kept in the answer, for the manifest). The store
   * must not keep `bytes` once the returned promise settles: writers fill the same buffer again.
   */
  writePart(dataset: string, index: number, bytes: Uint8Array, records: number, sha256?: string): Promise<PartInfo>;
  /**
   * The bytes of part `index` as they are now. Throws `StagedInputMissingError` when the part is
   * gone. With `into`, a buffer the caller is done with, the bytes may be read into it (the answer
   * is then a view of its start) rather than into a new buffer: a reader of many parts, one after
   * another, uses the same few buffers instead of leaving one per part to the collector.
   */
  readPart(dataset: string, index: number, into?: Buffer): Promise<Buffer>;
  /**
   * Marks a dataset complete. `parts` lists every part of it, from part 0 in order (what `writePart`
   * answered, or parts the caller verified): the store checks their sizes, and removes any other
   * part a retried writer left.
   */
  commitManifest(dataset: string, parts: readonly PartInfo[], meta?: DatasetManifest['meta']): Promise<DatasetManifest>;
  /** The manifest of a complete dataset, or undefined when the dataset is missing or incomplete. */
  readManifest(dataset: string): Promise<DatasetManifest | undefined>;
  /**
   * Keeps a small file of the run's that is not a part (a dataset's part log), replacing it
   * atomically. `name` is a relative path like a dataset name; inside a dataset's folder it goes
   * with the dataset (`removeDataset`).
   */
  writeFile(name: string, bytes: Uint8Array): Promise<void>;
  /** A file kept by `writeFile`, or undefined when there is none. */
  readFile(name: string): Promise<Buffer | undefined>;
  /** Names of the datasets below `prefix` that have a manifest. */
  listDatasets(prefix?: string): Promise<string[]>;
  /** Removes one dataset (used when a resource is fetched again from scratch). */
  removeDataset(dataset: string): Promise<void>;
  /**
   * Removes everything the run staged: once it resolves, nothing of it can be read or listed. The
   * files themselves may still be being deleted (the local store deletes them in the background).
   */
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
