import { PartBuffers } from './part-buffers';
import type { DatasetManifest, PartInfo, StagedRun } from './store';

export interface DatasetWriterOptions {
  /** Records per part; default 5,000. */
  recordsPerPart?: number;
  /**
   * Bytes after which a part is written even with fewer records (the record that reaches it ends
   * the part); default none. What the writer holds is about twice a part (one filling, one being
   * written), so this bounds it for records of any size.
   */
  bytesPerPart?: number;
  /** Where the writer takes a buffer for its next part and gives back the last one's (default: its own, of one). */
  buffers?: PartBuffers;
}

const NEWLINE = 0x0a;
/** A part's buffer starts this large, once a first record comes, and doubles as needed. */
const INITIAL_PART_BYTES = 64 * 1024;
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
  /** The part filling; allocated with its first record (many datasets of a build get none). */
  private bytes: Buffer = Buffer.alloc(0);
  private length = 0;
  private records = 0;
  private nextIndex = 0;
  /** The part being written while the next one fills (at most one write in flight). */
  private inFlight: Promise<unknown> | undefined;
  /**
   * Where the buffer of a part written goes once its write is done, and the next part's comes from:
   * the same buffers again and again, instead of a new one per part, which a build of forty-odd
   * writers allocated (and left the collector to free) for every byte it staged, megabytes at a time.
   */
  private readonly buffers: PartBuffers;
  /** What the store answered for each part written, by index. */
  private readonly partsDone: PartInfo[] = [];

  constructor(
    private readonly run: StagedRun,
    readonly dataset: string,
    private readonly options: DatasetWriterOptions = {},
  ) {
    this.buffers = options.buffers ?? new PartBuffers(1);
  }

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
    if (this.length >= (this.options.bytesPerPart ?? Infinity)) return this.startPart();
    return undefined;
  }

  /** Writes what is left and commits the manifest: the dataset is complete after this. */
  async close(meta?: DatasetManifest['meta']): Promise<DatasetManifest> {
    await this.startPart();
    await this.inFlight;
    this.buffers.give(this.bytes);
    this.bytes = Buffer.alloc(0);
    return this.run.commitManifest(this.dataset, this.partsDone, meta);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const needed = this.length + extra;
    let size = Math.max(INITIAL_PART_BYTES, this.bytes.length * 2);
    while (size < needed) size *= 2;
    // No room a part bounded in bytes cannot use: it ends with the record that reaches the bound.
    const { bytesPerPart } = this.options;
    if (bytesPerPart !== undefined) size = Math.max(needed, Math.min(size, bytesPerPart + INITIAL_PART_BYTES));
    const bigger = this.buffers.take(size);
    this.bytes.copy(bigger, 0, 0, this.length);
    this.buffers.give(this.bytes);
    this.bytes = bigger;
  }

  /**
   * Starts writing the buffered records as the next part, after waiting for the previous part:
   * the producer goes on filling the next part while the file system writes this one (a
   * 100,000-user build otherwise spends seconds idle, waiting for its own writes).
   */
  private async startPart(): Promise<void> {
    if (this.records === 0) return;
    const buffer = this.bytes;
    const part = buffer.subarray(0, this.length);
    const records = this.records;
    // The next part fills another buffer (this one is being written), about as large.
    this.bytes = this.buffers.take(Math.max(INITIAL_PART_BYTES, Math.min(buffer.length, this.length * 2)));
    this.length = 0;
    this.records = 0;
    const previous = this.inFlight;
    const writing = this.run.writePart(this.dataset, this.nextIndex, part, records).then((info) => {
      this.partsDone[info.index] = info;
      // The store is done with the bytes once the write is (StagedRun.writePart).
      this.buffers.give(buffer);
    });
    // A failure surfaces where the write is awaited (the next part, or close); until then it
    // must not count as unhandled.
    writing.catch(() => undefined);
    this.inFlight = writing;
    this.nextIndex += 1;
    await previous;
  }
}
