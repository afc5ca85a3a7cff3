/**
 * The one conversion seam: how a page of records the fetch has just read becomes its staged form
 * (converted-part.ts). Conversion is a pure function of the records and the instance's context, so
 * a page converted here or on a thread is the same bytes.
 *
 * Unthrottled, a fetch is bound by the thread that parses, converts, validates, serialises and
 * hashes every page, while the host's second core waits. `PageConverter` keeps both busy: while the
 * fetch's thread is busy more than half the time, a page goes to the worker's one conversion thread
 * (conversion-thread.ts) if that thread holds fewer than two pages (the one it converts and the
 * next, so it never waits for the fetch's thread to hand it one), and is converted inline otherwise
 * — so neither thread waits while pages do, and a thread that cannot keep up never becomes the
 * bound (as one fed every page did: docs/benchmarks.md). At Duo's rate limits the fetch's thread
 * mostly waits for Duo and converts its pages itself; the conversion thread takes pages at most
 * around the opening burst of answers.
 *
 * What crosses to the thread is the bytes of Duo's answer, handed over rather than copied: the
 * client had to parse them to follow the list anyway, and posting the parsed records would cost the
 * fetch's thread a structured clone of each page (1.4–2.5 ms for a page of 300 users, against
 * nothing for a transfer), the very thread that is short of time. The thread parses them again and
 * takes the records out exactly as the client does (`listPageRecords`). Only answers without secret
 * fields are kept by the client, so no secret of Duo's reaches the thread; the context it is sent
 * holds what converting needs, the phone-number hash key among it, and never goes into a log or an
 * error.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ResourceLimits } from 'node:worker_threads';
import type { ResourceName } from '../resources/table';
import { partChecksum } from '../staging/store';
import { ThreadJobError, ThreadPool, ownedBytes } from '../util/thread-pool';
import { encodeConvertedPart } from './converted-part';
import type { GraphInstanceContext } from './converters';
import { conversionThreadOn } from './conversion-thread-setting';
import { convertRecords } from './record-conversion';

/** A page converted: its staged bytes, their SHA-256 and the records they hold. */
export interface ConvertedPage {
  bytes: Uint8Array;
  sha256: string;
  records: number;
}

/** Converts a page of one resource's records (parsed, their secret fields removed by the Duo client). */
export function convertPage(
  resource: ResourceName,
  records: readonly object[],
  context: GraphInstanceContext,
): ConvertedPage {
  const bytes = encodeConvertedPart(convertRecords(resource, records, context));
  return { bytes, sha256: partChecksum(bytes), records: records.length };
}

/** A page as the fetch holds it. */
export interface PageToConvert {
  /** The records, as the Duo client hands them on (and joined, if the resource joins any). */
  records: readonly object[];
  /**
   * The bytes of Duo's answer the records were parsed from, when the thread may convert them
   * instead; absent for records that are not Duo's answer as sent (joined ones). Handed over: not
   * to be used after.
   */
  body?: Uint8Array;
}

/** What the conversion thread is sent. */
export interface PageConversionJob {
  resource: ResourceName;
  /** Duo's answer to a list request, as received. */
  body: Uint8Array<ArrayBuffer>;
  /** The instance's context: a worker's thread serves every instance it runs. */
  context: GraphInstanceContext;
}

/**
 * Pages of fewer records are converted inline: handing them over costs about what it saves, and a
 * lone small list (groups, tokens) would start the thread for nothing.
 */
const SMALLEST_PAGE_FOR_THREAD = 100;

/**
 * Pages the thread holds at most: the one it converts and the next, waiting for it. With one, the
 * thread idled between pages until the fetch's thread came back from converting one inline; more
 * would only hold more pages in memory.
 */
const PAGES_ON_THREAD = 2;

/**
 * Pages of one resource a fetch has converting at once: as many as the thread may hold. One more
 * would keep both threads busy while the users are read alone, but every page read and not yet
 * staged is read again after a crash, and the resume test allows two (test/durable-fetch.test.ts).
 */
export const PAGES_CONVERTING_PER_RESOURCE = PAGES_ON_THREAD;

/**
 * Above this share of its time busy, the fetch's thread is what the fetch waits on, and pages go to
 * the conversion thread. Below it (Duo's rate limit sets the pace, as in every run against the real
 * Duo at its limits), converting on the fetch's thread costs no time, and the conversion thread
 * would cost its memory and a second parse of every page for nothing. At 200 list requests a minute
 * per endpoint the fetch's thread is about a third busy converting, now and then half; unthrottled,
 * 85–95 %.
 */
const BUSY_ABOVE = 0.5;

/** How often the fetch's thread's busy share is measured (Node's event loop utilisation). */
const BUSY_WINDOW_MS = 250;

/** How long a busy window counts while the conversion thread is at work (see `fetchThreadBusyOfLate`). */
const BUSY_MEMORY_MS = 1_000;

/**
 * How long the thread stays up with no page to convert: long enough to span the gaps between the
 * pages of a fetch that keeps it busy (milliseconds: it only takes pages while the fetch's thread
 * is busy), short enough that its heap is given back before the build and delivery need theirs.
 */
const IDLE_MS = 1_000;

/**
 * The thread holds a page or two and the data model's compiled schemas; a bounded heap makes V8
 * collect as it goes instead of growing the process's memory. A page that needs more than this
 * kills the thread and is converted inline.
 */
const THREAD_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 32 };

/**
 * A thread that died is started again for a later page, but not without end: a thread that cannot
 * live (its heap too small for the pages of this tenant, say) would otherwise cost a start per page.
 * Only deaths count: a thread stopped because it was idle is started again for the next burst of
 * pages (the next run of a worker that lives through many), however often that happens.
 */
const THREAD_DEATHS = 3;

export interface PageConverterOptions {
  /** Use the conversion thread at all (default: unless `DUO_J1_CONVERSION_THREAD=off` in `env`). */
  thread?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Pages with fewer records are converted inline (default 100). */
  smallestPageForThread?: number;
  /** Pages the thread holds at most, converting and waiting (default 2). */
  pagesOnThread?: number;
  /**
   * The share of its time the fetch's thread must have been busy for a page to go to the thread
   * (default 0.5; 0: whenever the thread has room).
   */
  busyAbove?: number;
  /** The thread stops after this long without a page (default 1 s). */
  idleMs?: number;
  resourceLimits?: ResourceLimits;
  /** Told when the thread fails a page and when it stops (never with a page or a context). */
  log?: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
}

/** Converts pages inline or on the worker's conversion thread (see the module comment); one per worker process. */
export class PageConverter {
  /** Pages the thread converted; pages converted inline; times the thread failed a page. Read by tests and figures. */
  readonly counts = { onThread: 0, inline: 0, threadFailures: 0 };
  private readonly useThread: boolean;
  private pool: ThreadPool<PageConversionJob, ConvertedPage> | undefined;
  private threadDeaths = 0;
  private onThread = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private busySample = performance.eventLoopUtilization();
  private busy = false;
  private busySeenAt = -Infinity;

  constructor(private readonly options: PageConverterOptions = {}) {
    this.useThread = options.thread ?? conversionThreadOn(options.env);
  }

  /**
   * Converts `page`: on the thread if it holds fewer than `pagesOnThread`, may take the page, and
   * this thread has been busy of late (`fetchThreadBusyOfLate`); else here, at once. A page the
   * thread fails (it died, ran out of heap, or the conversion threw there) is converted here
   * instead, so it is converted, or fails, exactly as inline. `signal` ends the wait for the
   * thread; what the thread was doing is dropped when it answers.
   */
  async convert(
    resource: ResourceName,
    page: PageToConvert,
    context: GraphInstanceContext,
    signal?: AbortSignal,
  ): Promise<ConvertedPage> {
    const pool =
      page.body &&
      this.onThread < (this.options.pagesOnThread ?? PAGES_ON_THREAD) &&
      this.mayTake(page) &&
      this.fetchThreadBusyOfLate()
        ? this.thread()
        : undefined;
    if (!pool || !page.body) return this.inline(resource, page, context);
    const body = ownedBytes(page.body);
    this.onThread += 1;
    clearTimeout(this.idleTimer);
    try {
      const converted = await untilAborted(pool.run({ resource, body, context }, [body.buffer]), signal);
      if (converted.records === page.records.length) {
        this.counts.onThread += 1;
        return converted;
      }
      this.threadFailed(pool, `it converted ${converted.records} records of a page of ${page.records.length}`);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      // The conversion threw there: the thread is sound, and the page converted here fails the
      // same way, with the error's own class (which does not cross threads).
      if (error instanceof ThreadJobError) this.counts.threadFailures += 1;
      // The thread died (out of heap, terminated): replaced for a later page, this one done here.
      else this.threadFailed(pool, (error as Error).message);
    } finally {
      this.onThread -= 1;
      if (this.onThread === 0) this.stopWhenIdle();
    }
    return this.inline(resource, page, context);
  }

  /** Stops the thread now (a worker shutting down); a page it was converting is converted inline. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  /** Whether the thread is up (for tests: it starts with the first page it takes and stops when idle). */
  get threadRunning(): boolean {
    return this.pool !== undefined;
  }

  private mayTake(page: PageToConvert): boolean {
    return (
      this.useThread &&
      page.records.length >= (this.options.smallestPageForThread ?? SMALLEST_PAGE_FOR_THREAD) &&
      (this.pool !== undefined || this.threadDeaths < THREAD_DEATHS)
    );
  }

  /**
   * Whether this thread was busy more than `busyAbove` of the time over the last window of at
   * least `BUSY_WINDOW_MS` (the answer is kept until the next window is complete) — or, while the
   * conversion thread holds a page, over any window of the last `BUSY_MEMORY_MS`. Without that
   * memory, a window in which the fetch's thread, relieved by the conversion thread, was less than
   * half busy sent the next pages inline while the conversion thread idled (an unthrottled
   * 100,000-user fetch took about 2 s longer); with it for good, pages kept going to the thread at
   * Duo's rate limit once a burst of answers had started it.
   */
  private fetchThreadBusyOfLate(): boolean {
    const threshold = this.options.busyAbove ?? BUSY_ABOVE;
    if (threshold <= 0) return true;
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, this.busySample);
    const length = window.idle + window.active;
    if (length >= BUSY_WINDOW_MS) {
      // A window of several seconds says how busy the thread was then (starting up, say), not now.
      this.busy = length <= BUSY_MEMORY_MS && window.utilization > threshold;
      this.busySample = now;
      if (this.busy) this.busySeenAt = performance.now();
    }
    return this.busy || (this.onThread > 0 && performance.now() - this.busySeenAt < BUSY_MEMORY_MS);
  }

  private inline(resource: ResourceName, page: PageToConvert, context: GraphInstanceContext): ConvertedPage {
    this.counts.inline += 1;
    return convertPage(resource, page.records, context);
  }

  private thread(): ThreadPool<PageConversionJob, ConvertedPage> {
    if (!this.pool) {
      this.pool = new ThreadPool({
        module: path.join(__dirname, 'conversion-thread'),
        threads: 1,
        resourceLimits: this.options.resourceLimits ?? THREAD_RESOURCE_LIMITS,
        name: 'conversion',
      });
    }
    return this.pool;
  }

  /**
   * A thread that failed is stopped and replaced by a new one for a later page (up to
   * `THREAD_DEATHS`). The reason logged is the thread's, never the page or the context.
   */
  private threadFailed(pool: ThreadPool<PageConversionJob, ConvertedPage>, reason: string): void {
    this.counts.threadFailures += 1;
    // One death however many of its pages report it (two may be on the thread when it dies).
    if (this.pool === pool) {
      this.pool = undefined;
      this.threadDeaths += 1;
    }
    this.options.log?.('warn', 'The conversion thread failed a page; it is converted on the fetch’s thread', {
      reason,
      threadStartsLeft: THREAD_DEATHS - this.threadDeaths,
    });
    void pool.close().catch(() => undefined);
  }

  private stopWhenIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.onThread !== 0 || !this.pool) return;
      // What it did since the worker started: how the pages were shared between the two threads.
      this.options.log?.('info', 'The conversion thread stopped, idle', { ...this.counts });
      void this.close();
    }, this.options.idleMs ?? IDLE_MS);
    this.idleTimer.unref();
  }
}

/** `promise`, or `signal`'s reason as soon as it is aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}
