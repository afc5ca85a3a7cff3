/**
 * The part log of a dataset staged page by page (a Duo list): for every part written, what it holds
 * (records, bytes, checksum) and where the list stands after it (the offset its page was read at,
 * the `next_offset` Duo gave with it). It is rewritten, atomically, after every part, in the
 * dataset's own folder.
 *
 * It is what lets a retried fetch resume right where the last one stopped instead of where its last
 * heartbeat reached Temporal (seconds earlier) or from the start: every part the log lists is read
 * back and kept only when it is still exactly what was written — same size, same SHA-256 — and the
 * fetch goes on after the last part that is. A part missing or changed, and every part after it, is
 * read from Duo again. A log that disagrees with what Temporal recorded of the attempt is not
 * trusted at all, nor are parts made otherwise than the writer would make them now (`madeWith`:
 * another instance context, another staged form). The parts it vouches for go into the dataset's
 * manifest with their checksums, and the build checks the parts against those.
 */
import { partChecksum, type PartInfo, type StagedRun } from './store';

/** One logged part: the part as written, and where the list stands after it. */
export interface LoggedPart extends PartInfo {
  sha256: string;
  /** The list offset the part's page was read at. */
  offset: number;
  /** Where the list goes on after the part (Duo's `next_offset`); absent after the last page. */
  nextOffset?: number;
  /** Duo's `total_objects` on the part's page, when sent. */
  totalObjects?: number;
}

/** What a fetch reported to Temporal the last time a heartbeat of it got through. */
export interface RecordedProgress {
  partsWritten: number;
  records: number;
}

/** Where a fetch stands: the parts it can keep, and where to go on reading. */
export interface ResumePoint {
  parts: LoggedPart[];
  /** Records in `parts`. */
  records: number;
  /** Offset to read next; undefined when the kept parts already end the list. */
  nextOffset: number | undefined;
  /** Parts the log listed that were missing, changed, or not to be trusted (they are read again). */
  discarded: number;
}

/** The log's file: what its parts were made with, and the parts. */
interface PartLogFile {
  madeWith: string;
  parts: LoggedPart[];
}

export class PartLog {
  private parts: LoggedPart[] = [];

  /** `madeWith` names how the parts are made; parts logged as made otherwise are never kept. */
  constructor(
    private readonly run: StagedRun,
    private readonly dataset: string,
    private readonly madeWith: string,
  ) {}

  private get file(): string {
    return partLogFile(this.dataset);
  }

  /** The parts logged so far, in order. */
  get logged(): readonly LoggedPart[] {
    return this.parts;
  }

  /** Logs a part just written (replacing the entry of that index and every later one). */
  async add(part: LoggedPart): Promise<void> {
    this.parts.length = Math.min(this.parts.length, part.index);
    if (part.index !== this.parts.length) {
      throw new Error(`Part ${part.index} of "${this.dataset}" logged after ${this.parts.length} parts.`);
    }
    this.parts.push(part);
    await this.save();
  }

  /**
   * The parts a retried fetch can keep: the longest prefix of the logged parts that are still on
   * disk exactly as written. `recorded`, what Temporal last heard from the fetch, must agree with
   * the log over the parts it covers; otherwise nothing is kept. The log is cut to the result.
   */
  async resumePoint(recorded: RecordedProgress | undefined): Promise<ResumePoint> {
    const listed = await this.read();
    const kept: LoggedPart[] = [];
    for (const part of listed) {
      if (part.index !== kept.length || !(await this.isIntact(part))) break;
      kept.push(part);
    }
    const agrees =
      !recorded ||
      kept.length < recorded.partsWritten ||
      kept.slice(0, recorded.partsWritten).reduce((sum, part) => sum + part.records, 0) === recorded.records;
    this.parts = agrees ? kept : [];
    await this.save();
    const last = this.parts.at(-1);
    return {
      parts: [...this.parts],
      records: this.parts.reduce((sum, part) => sum + part.records, 0),
      nextOffset: last ? last.nextOffset : 0,
      discarded: listed.length - this.parts.length,
    };
  }

  private async isIntact(part: LoggedPart): Promise<boolean> {
    try {
      const bytes = await this.run.readPart(this.dataset, part.index);
      return bytes.length === part.bytes && partChecksum(bytes) === part.sha256;
    } catch {
      return false;
    }
  }

  private async read(): Promise<LoggedPart[]> {
    return (await readLoggedParts(this.run, this.dataset, this.madeWith)) ?? [];
  }

  private async save(): Promise<void> {
    const file: PartLogFile = { madeWith: this.madeWith, parts: this.parts };
    await this.run.writeFile(this.file, Buffer.from(JSON.stringify(file), 'utf8'));
  }
}

/** The log's file: in the dataset's folder, named so that no part pattern matches it. */
function partLogFile(dataset: string): string {
  return `${dataset}/part-log.json`;
}

/**
 * The parts a dataset's log lists as it is now, made with `madeWith` (none for a log made otherwise
 * or unreadable); undefined when there is no log, which a writer saves as soon as it starts
 * (`resumePoint`). A reader that follows a dataset while it is written (the build, while the fetch
 * stages: src/graph/converted-part.ts) learns its parts from here; a part listed is written
 * already, but a retried writer may still replace it, so the dataset's manifest has the last word.
 */
export async function readLoggedParts(
  run: StagedRun,
  dataset: string,
  madeWith: string,
): Promise<LoggedPart[] | undefined> {
  const text = await run.readFile(partLogFile(dataset));
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text.toString('utf8')) as Partial<PartLogFile> | null;
    if (parsed?.madeWith !== madeWith || !Array.isArray(parsed.parts)) return [];
    return parsed.parts.filter(isLoggedPart);
  } catch {
    return [];
  }
}

function isLoggedPart(value: unknown): value is LoggedPart {
  const part = value as Partial<LoggedPart> | null;
  const count = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;
  return (
    typeof part === 'object' &&
    part !== null &&
    count(part.index) &&
    count(part.records) &&
    count(part.bytes) &&
    count(part.offset) &&
    (part.nextOffset === undefined || count(part.nextOffset)) &&
    typeof part.sha256 === 'string'
  );
}
