/**
 * The body of a thread converting ahead of the build (see conversion-ahead.ts): converts each staged
 * part it is sent and answers with the file to keep, serialised here rather than on the worker's
 * main thread, which is busy paging through Duo meanwhile.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { serialize } from 'node:v8';
import { serveThreadJobs } from '../util/thread-pool';
import { convertAhead, type ConversionAheadJob } from './conversion-ahead';

/**
 * Converting ahead should use only CPU the fetches leave idle, never slow down the paging, which is
 * the run's critical path. Linux keeps a nice value per thread (setpriority(2), "BUGS"), so this
 * thread lowers its own: the fetch's thread then always runs first. Elsewhere (no
 * /proc/thread-self) the thread keeps the process's priority.
 */
function yieldToOtherThreads(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, 10);
  } catch {
    // Not Linux, or not allowed: convert at normal priority.
  }
}

yieldToOtherThreads();

serveThreadJobs<ConversionAheadJob, Uint8Array>(
  (job) => {
    const bytes = convertAhead(job, serialize);
    // Handed back without copying when the bytes are the whole of their buffer (they normally are).
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
  },
  (bytes) => [bytes.buffer as ArrayBuffer],
);
