/**
 * Where the build converts staged records: on worker threads for large tenants, inline otherwise.
 *
 * Converting (parsing, converting, validating, serialising) is most of a build's CPU time and is
 * stateless (record-conversion.ts), so batches of records go to a few threads while the build's
 * own thread applies the results in order and writes them. On a machine with two cores a
 * 100,000-user build then uses both instead of one. Small tenants convert inline: starting a
 * thread (loading the converters and the data model's schemas) costs more than it saves there.
 *
 * Written on `node:worker_threads` directly: the pool needs only "send a batch, get its answer",
 * and a general pool library would add a dependency for a few dozen lines.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { GraphInstanceContext } from './converters';
import type { ResourceName } from './data-model';
import { convertRecordTexts, type ConvertedBatch } from './record-conversion';

/** What a conversion thread is started with. */
export interface ConversionThreadData {
  context: GraphInstanceContext;
}

/** One batch of staged records of one resource, sent to a thread. */
export interface ConversionJob {
  id: number;
  resource: ResourceName;
  recordTexts: string[];
  /** The account entity's key, when the account is in the graph (see convertRecordText). */
  accountKey?: string;
}

export type ConversionReply = { id: number; batch: ConvertedBatch } | { id: number; error: string };

export interface RecordConverter {
  /** Threads converting (0: inline, on the calling thread). */
  readonly threads: number;
  convert(resource: ResourceName, recordTexts: string[], accountKey?: string): Promise<ConvertedBatch>;
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

  async convert(resource: ResourceName, recordTexts: string[], accountKey?: string): Promise<ConvertedBatch> {
    return convertRecordTexts(resource, recordTexts, this.context, accountKey);
  }

  async close(): Promise<void> {}
}

interface PendingJob {
  resolve: (batch: ConvertedBatch) => void;
  reject: (error: Error) => void;
}

interface ConversionThread {
  worker: Worker;
  pending: Map<number, PendingJob>;
  /** Set once the thread died; later jobs for it are refused with this. */
  failure?: Error;
}

/** The code a thread runs: the worker module, behind tsx's loader when running from TypeScript sources. */
function threadBootstrap(): string {
  const extension = path.extname(__filename);
  const workerModule = path.join(__dirname, `conversion-worker${extension}`);
  const loadWorker = `require(${JSON.stringify(workerModule)});`;
  // duo-j1 runs its TypeScript through tsx, whose loader is registered per thread.
  return extension === '.ts' ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});${loadWorker}` : loadWorker;
}

class ThreadedConverter implements RecordConverter {
  private readonly pool: ConversionThread[] = [];
  private nextId = 0;
  private closing = false;

  constructor(
    context: GraphInstanceContext,
    readonly threads: number,
  ) {
    const code = threadBootstrap();
    const workerData: ConversionThreadData = { context };
    for (let index = 0; index < threads; index += 1) {
      const worker = new Worker(code, { eval: true, workerData, resourceLimits: THREAD_RESOURCE_LIMITS });
      const thread: ConversionThread = { worker, pending: new Map() };
      thread.worker.on('message', (reply: ConversionReply) => {
        const job = thread.pending.get(reply.id);
        if (!job) return;
        thread.pending.delete(reply.id);
        if ('error' in reply) job.reject(new Error(`Converting staged records failed: ${reply.error}`));
        else job.resolve(reply.batch);
      });
      const fail = (error: Error) => {
        thread.failure ??= error;
        for (const job of thread.pending.values()) job.reject(thread.failure);
        thread.pending.clear();
      };
      thread.worker.on('error', (error) => fail(new Error(`A conversion thread failed: ${error.message}`)));
      thread.worker.on('exit', (code) => {
        if (!this.closing) fail(new Error(`A conversion thread stopped unexpectedly (exit code ${code}).`));
      });
      this.pool.push(thread);
    }
  }

  convert(resource: ResourceName, recordTexts: string[], accountKey?: string): Promise<ConvertedBatch> {
    // The least busy thread; ties go to the first, so batches spread evenly.
    let thread = this.pool[0];
    for (const candidate of this.pool) if (candidate.pending.size < thread.pending.size) thread = candidate;
    if (thread.failure) return Promise.reject(thread.failure);
    if (this.closing) return Promise.reject(new Error('The record converter is closed.'));
    const id = (this.nextId += 1);
    return new Promise<ConvertedBatch>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      const job: ConversionJob = { id, resource, recordTexts, ...(accountKey ? { accountKey } : {}) };
      thread.worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const stopped = new Error('The record converter was closed before the conversion finished.');
    for (const thread of this.pool) {
      for (const job of thread.pending.values()) job.reject(stopped);
      thread.pending.clear();
    }
    await Promise.all(this.pool.map((thread) => thread.worker.terminate()));
  }
}

/** A converter with `threads` threads, or converting inline when `threads` is 0. */
export function openRecordConverter(context: GraphInstanceContext, threads: number): RecordConverter {
  return threads > 0 ? new ThreadedConverter(context, threads) : new InlineConverter(context);
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
