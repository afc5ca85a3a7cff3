import type { DatasetManifest, PartInfo, StagedRun } from './store';

export interface DatasetWriterOptions {
  /** Records per part; default 5,000. */
  recordsPerPart?: number;
}

const NEWLINE = 0x0a;
/** A part's buffer starts this large and doubles as needed. */
const INITIAL_PART_BYTES = 256 * 1024;
const DEFAULT_RECORDS_PER_PART = 5000;

/**
 * Buffers serialised records (JSON texts, one per line) and writes them to a staged dataset in parts
 * of `recordsPerPart`, so a producer (the graph build) can add records one by one while memory stays
 * bounded.
 *
 * Records go straight into the part's bytes: no array of texts to join and encode again when the
 * part is written, and a record given as bytes (`addBytes`, a range of a larger buffer) is copied,
 * so the writer never keeps its producer's buffers alive.
 */
export class DatasetWriter {
  private bytes = Buffer.allocUnsafe(INITIAL_PART_BYTES);
  private length = 0;
  private records = 0;
  private nextIndex = 0;
  /** The part being written while the next one fills (at most one write in flight). */
  private inFlight: Promise<unknown> | undefined;
  /** What the store answered for each part written, by index. */
  private readonly partsDone: PartInfo[] = [];

  constructor(
    private readonly run: StagedRun,
    readonly dataset: string,
    private readonly options: DatasetWriterOptions = {},
  ) {}

  /**
   * Adds a record's JSON text (without a line break); returns a promise only when the record
   * completed a part that is being written. Not an async function on purpose: it is called once
   * per graph object (hundreds of thousands per run), and a promise per call costs measurable time
   * when async hooks are active (they are inside Temporal activities).
   */
  addText(text: string): Promise<void> | undefined {
    // At most three UTF-8 bytes per UTF-16 unit, plus the line break.
    this.reserve(text.length * 3 + 1);
    this.length += this.bytes.write(text, this.length, 'utf8');
    return this.endRecord();
  }

  /**
   * Adds a record already serialised: bytes `start` to `end` of `source` (copied). Saves the view
   * object a `Buffer` per record would need, for producers holding many records in one buffer.
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
    if (this.records >= (this.options.recordsPerPart ?? DEFAULT_RECORDS_PER_PART)) return this.startPart();
    return undefined;
  }

  /** Writes what is left and commits the manifest: the dataset is complete after this. */
  async close(meta?: DatasetManifest['meta']): Promise<DatasetManifest> {
    await this.startPart();
    await this.inFlight;
    return this.run.commitManifest(this.dataset, this.partsDone, meta);
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
    const writing = this.run.writePart(this.dataset, this.nextIndex, part, records).then((info) => {
      this.partsDone[info.index] = info;
    });
    // A failure surfaces where the write is awaited (the next part, or close); until then it
    // must not count as unhandled.
    writing.catch(() => undefined);
    this.inFlight = writing;
    this.nextIndex += 1;
    await previous;
  }
}
