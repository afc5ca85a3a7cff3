/**
 * Where the build converts staged records: on worker threads for large tenants, inline otherwise.
 *
 * Converting (parsing, converting, validating, serialising) is most of a build's CPU time and is
 * stateless (record-conversion.ts), so batches of records go to a few threads while the build's
 * own thread applies the results in order and writes them. On a machine with two cores a
 * 100,000-user build then uses both instead of one. Small tenants convert inline: starting a
 * thread (loading the converters and the data model's schemas) costs more than it saves there.
 *
 * The threads are a ThreadPool (util/thread-pool.ts) running conversion-worker.ts.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { jsonLineTexts } from '../staging/json-lines';
import { ThreadJobError, ThreadPool, ownedBytes } from '../util/thread-pool';
import type { GraphInstanceContext } from './converters';
import type { ResourceName } from '../resources/table';
import { convertRecordTexts, type ConvertedBatch } from './record-conversion';

/** One staged part of one resource, sent to a thread. */
export interface ConversionJob {
  resource: ResourceName;
  /** The part's NDJSON bytes (handed over, not copied). */
  lines: Uint8Array;
  /** The instance's context (a worker's threads serve every instance it runs). */
  context: GraphInstanceContext;
  /** The account entity's key, when the account is in the graph (see convertRecordText). */
  accountKey?: string;
  /**
   * Set when converting ahead of the build (conversion-ahead.ts): the thread answers with the file
   * to keep beside the part, made from the part of this version, instead of the batch.
   */
  keepFrom?: { source: string };
}

/** A thread's answer: the converted batch, or the file to keep (`keepFrom`). */
export type ConversionReply = ConvertedBatch | Uint8Array;

export type ConversionThreads = ThreadPool<ConversionJob, ConversionReply>;

/** Threads converting staged parts (conversion-worker.ts), for a build or a worker's conversions ahead. */
export function startConversionThreads(threads: number): ConversionThreads {
  return new ThreadPool({
    module: path.join(__dirname, 'conversion-worker'),
    threads,
    resourceLimits: THREAD_RESOURCE_LIMITS,
    name: 'conversion',
  });
}

/** Threads another owner lends a build: released, not stopped, when the build is done. */
export interface LentConversionThreads {
  threads: ConversionThreads;
  release(): void;
}

export interface RecordConverter {
  /** Threads converting (0: inline, on the calling thread). */
  readonly threads: number;
  /** Converts a staged part (its NDJSON bytes; given to the converter, not to be used afterwards). */
  convert(resource: ResourceName, lines: Uint8Array, accountKey?: string): Promise<ConvertedBatch>;
  /** Stops the threads; conversions still pending are rejected. */
  close(): Promise<void>;
}

/**
 * A thread holds a couple of batches (a few megabytes) and the data model's compiled schemas; a
 * bounded heap makes V8 collect garbage as it goes instead of growing the process's memory.
 */
const THREAD_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 };

/** Staged records from which a build converts on threads (below, inline). */
export const THREADED_CONVERSION_THRESHOLD = 20_000;

/** Threads for a build of `records` staged records: one per core for large tenants, none otherwise. */
export function conversionThreadsFor(records: number): number {
  return records >= THREADED_CONVERSION_THRESHOLD ? Math.min(availableParallelism(), 4) : 0;
}

class InlineConverter implements RecordConverter {
  readonly threads = 0;
  constructor(private readonly context: GraphInstanceContext) {}

  async convert(resource: ResourceName, lines: Uint8Array, accountKey?: string): Promise<ConvertedBatch> {
    return convertRecordTexts(resource, jsonLineTexts(lines), this.context, accountKey);
  }

  async close(): Promise<void> {}
}

class ThreadedConverter implements RecordConverter {
  private pool: ConversionThreads | undefined;
  private lent: LentConversionThreads | undefined;

  constructor(
    private readonly context: GraphInstanceContext,
    readonly threads: number,
    private readonly borrow?: () => LentConversionThreads,
  ) {}

  async convert(resource: ResourceName, lines: Uint8Array, accountKey?: string): Promise<ConvertedBatch> {
    // Handed over rather than copied, unless the bytes share their memory with others.
    const own = ownedBytes(lines);
    const job: ConversionJob = { resource, lines: own, context: this.context, ...(accountKey ? { accountKey } : {}) };
    try {
      return (await this.threadPool().run(job, [own.buffer])) as ConvertedBatch;
    } catch (error) {
      if (error instanceof ThreadJobError)
        throw new Error(`Converting staged records failed: ${error.failure.stack}`, { cause: error });
      throw error;
    }
  }

  /**
   * Started, or borrowed, at the first part to convert: when every part was converted ahead of
   * the build (conversion-ahead.ts), no thread is needed at all. Borrowed threads are already
   * running (the worker's threads that converted ahead), which saves starting new ones.
   */
  private threadPool(): ConversionThreads {
    if (this.borrow) {
      this.lent ??= this.borrow();
      return this.lent.threads;
    }
    this.pool ??= startConversionThreads(this.threads);
    return this.pool;
  }

  async close(): Promise<void> {
    this.lent?.release();
    await this.pool?.close();
  }
}

/**
 * A converter with `threads` threads (borrowed through `borrow` when given), or converting inline
 * when `threads` is 0.
 */
export function openRecordConverter(
  context: GraphInstanceContext,
  threads: number,
  borrow?: () => LentConversionThreads,
): RecordConverter {
  return threads > 0 ? new ThreadedConverter(context, threads, borrow) : new InlineConverter(context);
}

/**
 * Runs `convert` over `jobs` with up to `ahead` conversions in flight, yielding each job with its
 * result in job order: the threads work ahead while the caller applies results one by one, and
 * memory holds at most `ahead` batches.
 */
export async function* convertedInOrder<J, R>(
  jobs: AsyncIterable<J>,
  convert: (job: J) => Promise<R>,
  ahead: number,
): AsyncGenerator<[J, R], void, undefined> {
  const queue: { job: J; result: Promise<R> }[] = [];
  const enqueue = (job: J) => {
    const result = convert(job);
    // Awaited in turn below; until then (or if the caller stops early) not an unhandled rejection.
    result.catch(() => undefined);
    queue.push({ job, result });
  };
  for await (const job of jobs) {
    enqueue(job);
    while (queue.length >= Math.max(1, ahead)) {
      const next = queue.shift()!;
      yield [next.job, await next.result];
    }
  }
  while (queue.length > 0) {
    const next = queue.shift()!;
    yield [next.job, await next.result];
  }
}
