import type { DatasetManifest, PartInfo, StagedRun } from './store';

export interface DatasetWriterOptions<T> {
  /** Records per part; default 5,000. */
  recordsPerPart?: number;
  /** Index of the first part written; default 0. */
  startIndex?: number;
  /** A record's JSON text, without a line break; default `JSON.stringify`. */
  serialize?: (record: T) => string;
}

const NEWLINE = 0x0a;
/** A part's buffer starts this large and doubles as needed. */
const INITIAL_PART_BYTES = 256 * 1024;

/**
 * Buffers records and writes them to a staged dataset in parts of `recordsPerPart`, so producers
 * (fetch pages, graph building) can add records one by one while memory stays bounded.
 *
 * Records are serialised as they are added, straight into the part's bytes: no array of texts to
 * join and encode again when the part is written, and a record given as bytes (`addBytes`, a range
 * of a larger buffer) is copied, so the writer never keeps its producer's buffers alive.
 */
export class DatasetWriter<T = unknown> {
  private bytes = Buffer.allocUnsafe(INITIAL_PART_BYTES);
  private length = 0;
  private records = 0;
  private nextIndex: number;
  private written = 0;
  /** The part being written while the next one fills (at most one write in flight). */
  private inFlight: Promise<unknown> | undefined;
  private readonly serialize: (record: T) => string;
  /** What the store answered for each part written, by index. */
  private readonly partsDone: PartInfo[] = [];

  constructor(
    private readonly run: StagedRun,
    readonly dataset: string,
    private readonly options: DatasetWriterOptions<T> = {},
  ) {
    this.nextIndex = options.startIndex ?? 0;
    this.serialize = options.serialize ?? ((record) => JSON.stringify(record));
  }

  /** Number of parts started so far (also the index the next part will get). */
  get partsWritten(): number {
    return this.nextIndex;
  }

  /** Records handed to `add` so far, flushed or not. */
  get recordsAdded(): number {
    return this.written + this.records;
  }

  /**
   * Adds a record; returns a promise only when the record completed a part that is being written.
   * Not an async function on purpose: it is called once per graph object (hundreds of thousands
   * per run), and a promise per call costs measurable time when async hooks are active (they are
   * inside Temporal activities). `await writer.add(record)` works either way.
   */
  add(record: T): Promise<void> | undefined {
    const text = this.serialize(record);
    // At most three UTF-8 bytes per UTF-16 unit, plus the line break.
    this.reserve(text.length * 3 + 1);
    this.length += this.bytes.write(text, this.length, 'utf8');
    return this.endRecord();
  }

  /**
   * Adds a record already serialised: bytes `start` to `end` of `source` (copied). Saves the view
   * object `add` would need, for producers holding many records in one buffer.
   */
  addBytes(source: Buffer, start: number, end: number): Promise<void> | undefined {
    this.reserve(end - start + 1);
    this.length += source.copy(this.bytes, this.length, start, end);
    return this.endRecord();
  }

  private endRecord(): Promise<void> | undefined {
    this.bytes[this.length] = NEWLINE;
    this.length += 1;
    this.records += 1;
    if (this.records >= (this.options.recordsPerPart ?? 5000)) return this.startPart();
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
    // A writer that started at part 0 knows every part; one resuming later lets the store count.
    const knowsEveryPart = (this.options.startIndex ?? 0) === 0;
    return this.run.commitManifest(this.dataset, meta, knowsEveryPart ? this.partsDone : undefined);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.bytes.copy(bigger, 0, 0, this.length);
    this.bytes = bigger;
  }

  /**
   * Starts writing the buffered records as the next part, after waiting for the previous part:
   * the producer goes on filling the next part while the file system writes this one (a
   * 100,000-user build otherwise spends seconds idle, waiting for its own writes).
   */
  private async startPart(): Promise<void> {
    if (this.records === 0) return;
    const part = this.bytes.subarray(0, this.length);
    const records = this.records;
    // The next part gets a buffer of its own: this one is being written.
    this.bytes = Buffer.allocUnsafe(Math.max(INITIAL_PART_BYTES, Math.min(this.bytes.length, this.length * 2)));
    this.length = 0;
    this.records = 0;
    const previous = this.inFlight;
    const writing = this.run.writeJsonLinesPart(this.dataset, this.nextIndex, part, records).then((info) => {
      this.partsDone[info.index - (this.options.startIndex ?? 0)] = info;
    });
    // A failure surfaces where the write is awaited (the next part, or close); until then it
    // must not count as unhandled.
    writing.catch(() => undefined);
    this.inFlight = writing;
    this.nextIndex += 1;
    this.written += records;
    await previous;
  }
}
