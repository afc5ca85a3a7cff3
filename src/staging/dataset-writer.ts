import type { DatasetManifest, StagedRun } from './store';

/**
 * Buffers records and writes them to a staged dataset in parts of `recordsPerPart`, so producers
 * (fetch pages, graph building) can add records one by one while memory stays bounded.
 */
export class DatasetWriter<T = unknown> {
  private buffer: T[] = [];
  private nextIndex: number;
  private written = 0;

  constructor(
    private readonly run: StagedRun,
    readonly dataset: string,
    private readonly options: { recordsPerPart?: number; startIndex?: number } = {},
  ) {
    this.nextIndex = options.startIndex ?? 0;
  }

  /** Number of parts written so far (also the index the next part will get). */
  get partsWritten(): number {
    return this.nextIndex;
  }

  /** Records handed to `add` so far, flushed or not. */
  get recordsAdded(): number {
    return this.written + this.buffer.length;
  }

  async add(record: T): Promise<void> {
    this.buffer.push(record);
    if (this.buffer.length >= (this.options.recordsPerPart ?? 5000)) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const records = this.buffer;
    this.buffer = [];
    await this.run.writePart(this.dataset, this.nextIndex, records);
    this.nextIndex += 1;
    this.written += records.length;
  }

  /** Flushes what is left and commits the manifest: the dataset is complete after this. */
  async close(meta?: DatasetManifest['meta']): Promise<DatasetManifest> {
    await this.flush();
    return this.run.commitManifest(this.dataset, meta);
  }
}
