/**
 * The one conversion seam: how a page of records the fetch has just read becomes its staged form
 * (converted-part.ts), converted once, from what the fetch holds in hand.
 *
 * Small lists, and the account, are converted on the calling thread: starting a thread (loading the
 * converters and the data model's schemas) costs more than it saves there. Large lists go to a few
 * threads of this worker's (conversion-thread.ts) as the bytes of Duo's answer — the fetch has them
 * already, so nothing is serialised to be sent, and the thread parses them once — while the fetch
 * goes on reading the next pages. Either way the staged part holds the same converted records (a
 * test holds both ways to it), so the graph is the same. The threads run at a lower priority than the main thread, start with the first large
 * list, and stop when nothing has used them for a moment.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { ResourceName } from '../resources/table';
import { partChecksum } from '../staging/store';
import { ThreadJobError, ThreadPool, ownedBytes } from '../util/thread-pool';
import { encodeConvertedPart } from './converted-part';
import type { GraphInstanceContext } from './converters';
import { convertRecords } from './record-conversion';

/** A page of a resource's records as the fetch holds it. */
export interface PageToConvert {
  /** The records, parsed (and their secret fields removed) by the Duo client. */
  records: readonly object[];
  /** The bytes of Duo's answer the records were parsed from (list pages). Handed over: not to be used after. */
  body?: Uint8Array;
  /** Duo's count of the whole list, when it gave one: large lists are converted on threads. */
  totalObjects?: number;
}

/** A page converted: its staged bytes, their SHA-256 and the records they hold. */
export interface ConvertedPage {
  bytes: Uint8Array;
  sha256: string;
  records: number;
}

/** What a conversion thread is sent. */
export interface PageConversionJob {
  resource: ResourceName;
  /** Duo's answer to a list request, as received. */
  body: Uint8Array;
  /** The instance's context (a worker's threads serve every instance it runs). */
  context: GraphInstanceContext;
}

/** Lists of this many records or more (Duo's count) are converted on threads. */
export const CONVERSION_THREADS_FROM = 5_000;

/** How long the threads stay up with nothing to convert before they stop (their memory is released). */
const IDLE_MS = 2_000;

/**
 * A thread holds a page or two and the data model's compiled schemas; a bounded heap makes V8
 * collect garbage as it goes instead of growing the process's memory.
 */
const THREAD_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 };

/** Converts a page on the calling thread. */
export function convertPage(
  resource: ResourceName,
  records: readonly object[],
  context: GraphInstanceContext,
): ConvertedPage {
  const bytes = encodeConvertedPart(convertRecords(resource, records, context));
  return { bytes, sha256: partChecksum(bytes), records: records.length };
}

export interface PageConversionOptions {
  /** Lists from this many records go to threads (default `CONVERSION_THREADS_FROM`). */
  threadsFrom?: number;
  /** Threads (default one per core, at most four). */
  threads?: number;
}

/** Converts pages inline or on threads (see the module comment); one per worker process. */
export class PageConversion {
  private pool: ThreadPool<PageConversionJob, ConvertedPage> | undefined;
  private converting = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PageConversionOptions = {}) {}

  async convert(resource: ResourceName, page: PageToConvert, context: GraphInstanceContext): Promise<ConvertedPage> {
    const listSize = page.totalObjects ?? page.records.length;
    if (!page.body || listSize < (this.options.threadsFrom ?? CONVERSION_THREADS_FROM)) {
      return convertPage(resource, page.records, context);
    }
    // Handed over rather than copied, unless the bytes share their memory with others.
    const body = ownedBytes(page.body);
    this.converting += 1;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    try {
      const converted = await this.threads().run({ resource, body, context }, [body.buffer]);
      if (converted.records !== page.records.length) {
        throw new Error(
          `A ${resource} page converted to ${converted.records} records where the Duo client read ${page.records.length}.`,
        );
      }
      return converted;
    } catch (error) {
      if (error instanceof ThreadJobError) {
        throw new Error(`Converting a page of ${resource} failed: ${error.failure.stack}`, { cause: error });
      }
      throw error;
    } finally {
      this.converting -= 1;
      if (this.converting === 0) this.stopWhenIdle();
    }
  }

  /** Stops the threads now (a worker shutting down); conversions still running are rejected. */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  private threads(): ThreadPool<PageConversionJob, ConvertedPage> {
    this.pool ??= new ThreadPool({
      module: path.join(__dirname, 'conversion-thread'),
      threads: this.options.threads ?? Math.min(availableParallelism(), 4),
      resourceLimits: THREAD_RESOURCE_LIMITS,
      name: 'conversion',
    });
    return this.pool;
  }

  private stopWhenIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.converting === 0) void this.close();
    }, IDLE_MS);
    this.idleTimer.unref();
  }
}
