/**
 * A few worker threads that each run one module and answer the jobs they are sent: the CPU-bound
 * parts of the product (converting staged records) and of the JupiterOne simulator (reading upload
 * bodies) use every core through it.
 *
 * Written on `node:worker_threads` directly: the pools need only "send a job, get its answer",
 * and a general pool library would add a dependency for a few dozen lines.
 */
import { parentPort, Worker, type ResourceLimits, type Transferable } from 'node:worker_threads';
import { ownThreadCode } from './own-modules';

interface JobMessage<J> {
  id: number;
  job: J;
}

/** What a thread's failure to do one job looks like once it has crossed back. */
export interface ThreadJobFailure {
  /** The error's class name, e.g. `SyntaxError`. */
  name: string;
  message: string;
  /** The error's `code` property, when it had a string one. */
  code?: string;
  /** `name: message` and the stack, for messages meant for people. */
  stack: string;
}

type Reply<R> = { id: number; result: R } | { id: number; failure: ThreadJobFailure };

/** A job the thread could not do: its error, as it was thrown there. */
export class ThreadJobError extends Error {
  constructor(readonly failure: ThreadJobFailure) {
    super(failure.message);
  }
}

export interface ThreadPoolOptions {
  /** Absolute path of the thread's module, without extension (`.ts` or `.js`, as this file). */
  module: string;
  threads: number;
  /** Given to each thread as `workerData`. */
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
  /** Names the pool in the errors it raises, e.g. "conversion". */
  name: string;
}

interface PendingJob<R> {
  resolve: (result: R) => void;
  reject: (error: Error) => void;
}

interface PoolThread<R> {
  worker: Worker;
  pending: Map<number, PendingJob<R>>;
  /** Set once the thread died; later jobs for it are refused with this. */
  failure?: Error;
}

export class ThreadPool<J, R> {
  private readonly pool: PoolThread<R>[] = [];
  private nextId = 0;
  private closing = false;

  constructor(private readonly options: ThreadPoolOptions) {
    const code = ownThreadCode(options.module);
    for (let index = 0; index < options.threads; index += 1) {
      const worker = new Worker(code, {
        eval: true,
        workerData: options.workerData,
        ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      });
      const thread: PoolThread<R> = { worker, pending: new Map() };
      // A thread keeps the process alive only while it has a job: an idle pool never holds up an exit.
      worker.unref();
      worker.on('message', (reply: Reply<R>) => {
        const job = thread.pending.get(reply.id);
        if (!job) return;
        thread.pending.delete(reply.id);
        if (thread.pending.size === 0) worker.unref();
        if ('failure' in reply) job.reject(new ThreadJobError(reply.failure));
        else job.resolve(reply.result);
      });
      const fail = (error: Error) => {
        thread.failure ??= error;
        for (const job of thread.pending.values()) job.reject(thread.failure);
        thread.pending.clear();
      };
      worker.on('error', (error) => fail(new Error(`A ${options.name} thread failed: ${error.message}`)));
      worker.on('exit', (code) => {
        if (!this.closing) fail(new Error(`A ${options.name} thread stopped unexpectedly (exit code ${code}).`));
      });
      this.pool.push(thread);
    }
  }

  get threads(): number {
    return this.pool.length;
  }

  /** Runs a job on the least busy thread; `transfer` lists buffers handed over instead of copied. */
  run(job: J, transfer: Transferable[] = []): Promise<R> {
    // Ties go to the first thread, so jobs spread evenly.
    let thread = this.pool[0];
    for (const candidate of this.pool) if (candidate.pending.size < thread.pending.size) thread = candidate;
    if (thread.failure) return Promise.reject(thread.failure);
    if (this.closing) return Promise.reject(new Error(`The ${this.options.name} threads are stopped.`));
    const id = (this.nextId += 1);
    return new Promise<R>((resolve, reject) => {
      if (thread.pending.size === 0) thread.worker.ref();
      thread.pending.set(id, { resolve, reject });
      const message: JobMessage<J> = { id, job };
      thread.worker.postMessage(message, transfer);
    });
  }

  /** Stops the threads; jobs still pending are rejected. */
  async close(): Promise<void> {
    this.closing = true;
    const stopped = new Error(`The ${this.options.name} threads were stopped before the job finished.`);
    for (const thread of this.pool) {
      for (const job of thread.pending.values()) job.reject(stopped);
      thread.pending.clear();
    }
    await Promise.all(this.pool.map((thread) => thread.worker.terminate()));
  }
}

/**
 * `bytes` themselves when their memory is theirs alone, else a copy that is: what can be handed to
 * a thread (transferring a buffer other views share, a slice of Node's buffer pool say, would
 * empty those views too).
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

function failureOf(error: unknown): ThreadJobFailure {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), stack: String(error) };
  const code: unknown = (error as Error & { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    stack: error.stack ?? `${error.name}: ${error.message}`,
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/**
 * The body of a pool thread: answers each job with `handle`'s result (handing over the buffers
 * `transferOf` lists), or with the error it threw.
 */
export function serveThreadJobs<J, R>(handle: (job: J) => R, transferOf?: (result: R) => Transferable[]): void {
  const port = parentPort;
  if (!port) throw new Error('This module runs as a worker thread only (see util/thread-pool.ts).');
  port.on('message', ({ id, job }: JobMessage<J>) => {
    let result: R;
    try {
      result = handle(job);
    } catch (error) {
      port.postMessage({ id, failure: failureOf(error) } satisfies Reply<R>);
      return;
    }
    port.postMessage({ id, result } satisfies Reply<R>, transferOf?.(result) ?? []);
  });
}
