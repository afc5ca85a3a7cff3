import type { DatasetManifest, StagedRun } from './store';

/**
 * Buffers records and writes them to a staged dataset in parts of `recordsPerPart`, so producers
 * (fetch pages, graph building) can add records one by one while memory stays bounded.
 */
export class DatasetWriter<T = unknown> {
  private buffer: T[] = [];
  private nextIndex: number;
  private written = 0;
  /** The part being written while the next one fills (at most one write in flight). */
  private inFlight: Promise<unknown> | undefined;

  constructor(
    private readonly run: StagedRun,
    readonly dataset: string,
    private readonly options: { recordsPerPart?: number; startIndex?: number } = {},
  ) {
    this.nextIndex = options.startIndex ?? 0;
  }

  /** Number of parts started so far (also the index the next part will get). */
  get partsWritten(): number {
    return this.nextIndex;
  }

  /** Records handed to `add` so far, flushed or not. */
  get recordsAdded(): number {
    return this.written + this.buffer.length;
  }

  /**
   * Adds a record; returns a promise only when the record completed a part that is being written.
   * Not an async function on purpose: it is called once per graph object (hundreds of thousands
   * per run), and a promise per call costs measurable time when async hooks are active (they are
   * inside Temporal activities). `await writer.add(record)` works either way.
   */
  add(record: T): Promise<void> | undefined {
    this.buffer.push(record);
    if (this.buffer.length >= (this.options.recordsPerPart ?? 5000)) return this.startPart();
    return undefined;
  }

  /** Writes every buffered record; resolves once all parts are on disk. */
  async flush(): Promise<void> {
    await this.startPart();
    await this.inFlight;
  }

  /** Flushes what is left and commits the manifest: the dataset is complete after this. */
  async close(meta?: DatasetManifest['meta']): Promise<DatasetManifest> {
    await this.flush();
    return this.run.commitManifest(this.dataset, meta);
  }

  /**
   * Starts writing the buffered records as the next part, after waiting for the previous part:
   * the producer goes on filling the next part while the file system writes this one (a
   * 100,000-user build otherwise spends seconds idle, waiting for its own writes).
   */
  private async startPart(): Promise<void> {
    if (this.buffer.length === 0) return;
    const records = this.buffer;
    this.buffer = [];
    const previous = this.inFlight;
    const writing = this.run.writePart(this.dataset, this.nextIndex, records);
    // A failure surfaces where the write is awaited (the next part, or close); until then it
    // must not count as unhandled.
    writing.catch(() => undefined);
    this.inFlight = writing;
    this.nextIndex += 1;
    this.written += records.length;
    await previous;
  }
}
