/**
 * Where the simulator reads upload bodies: large ones on threads, small ones inline.
 *
 * Parsing and validating is nearly all of the simulator's work during a delivery, and a single
 * thread reading half a gigabyte of uploads would make the simulator, not the product, the
 * slowest part of every large delivery it measures. Bodies of at least `threadedBytes` go to a
 * few threads (started on the first such body); smaller ones, as in tests and small tenants, are
 * read inline, where a thread's start-up would cost more than it saves.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ThreadJobError, ThreadPool, ownedBytes } from '../../util/thread-pool';
import { readUploadBody, UploadBodyError, type UploadBody, type UploadKind } from './upload-body';

/** One body sent to a reader thread, handed over rather than copied. */
export interface UploadReadJob {
  bytes: Uint8Array;
  kinds: readonly UploadKind[];
}

/** A body read by a thread: its objects, and its bytes handed back. */
export interface UploadReadResult {
  body: UploadBody;
  bytes: Uint8Array;
}

export interface UploadReaderOptions {
  /** Threads reading large bodies. Default: one per core, at most 4; 0 reads every body inline. */
  threads?: number;
  /** Bodies from this many bytes on are read on threads. Default 256 KiB. */
  threadedBytes?: number;
}

export class UploadReaders {
  private pool?: ThreadPool<UploadReadJob, UploadReadResult>;
  private readonly threads: number;
  private readonly threadedBytes: number;

  constructor(options: UploadReaderOptions = {}) {
    this.threads = options.threads ?? Math.min(availableParallelism(), 4);
    this.threadedBytes = options.threadedBytes ?? 256 * 1024;
  }

  /**
   * Reads a body. A large one travels to a thread and back without being copied, so the caller
   * must use the returned `bytes` from then on: the buffer it passed is emptied on the way.
   */
  async read(bytes: Buffer, kinds: readonly UploadKind[]): Promise<{ body: UploadBody; bytes: Buffer }> {
    if (this.threads === 0 || bytes.length < this.threadedBytes) return { body: readUploadBody(bytes, kinds), bytes };
    this.pool ??= new ThreadPool({
      module: path.join(__dirname, 'upload-reader-thread'),
      threads: this.threads,
      name: 'upload reader',
    });
    // Only a buffer that is the whole of its memory can be handed over (small buffers share a pool).
    const own = ownedBytes(bytes);
    try {
      const read = await this.pool.run({ bytes: own, kinds }, [own.buffer]);
      return { body: read.body, bytes: Buffer.from(read.bytes.buffer, read.bytes.byteOffset, read.bytes.byteLength) };
    } catch (error) {
      if (error instanceof ThreadJobError && error.failure.name === 'UploadBodyError') {
        throw new UploadBodyError(error.failure.code ?? 'INVALID_BODY', error.failure.message);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
