/**
 * The body of a conversion thread (see conversion-pool.ts): converts the staged parts it is sent
 * and answers each with the converted records — or, for a conversion ahead of the build, with the
 * file to keep (conversion-ahead.ts), serialised here rather than on the worker's main thread,
 * which is busy paging through Duo meanwhile — or with the error that stopped it.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { serialize } from 'node:v8';
import { jsonLineTexts } from '../staging/json-lines';
import { partChecksum } from '../staging/store';
import { ownedBytes, serveThreadJobs } from '../util/thread-pool';
import { keptConversion } from './conversion-ahead';
import type { ConversionJob, ConversionReply } from './conversion-pool';
import { convertRecordTexts } from './record-conversion';

/**
 * Converting should never slow down what the worker's main thread does: paging through Duo (the
 * run's critical path) while converting ahead, applying results in order during a build. Linux
 * keeps a nice value per thread (setpriority(2), "BUGS"), so this thread lowers its own and the
 * main thread always runs first. Elsewhere (no /proc/thread-self) it keeps the process's priority.
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

serveThreadJobs<ConversionJob, ConversionReply>(
  (job) => {
    const batch = convertRecordTexts(job.resource, jsonLineTexts(job.lines), job.context, job.accountKey);
    if (!job.keepFrom) return batch;
    // The checksum of the bytes converted, computed here, off the main thread: the build compares it
    // with the part's manifest before using the conversion.
    const file = keptConversion(job, job.keepFrom.source, partChecksum(job.lines), batch, serialize);
    // Handed back without copying when the bytes are the whole of their buffer (they normally are).
    return ownedBytes(file);
  },
  // The serialised objects' buffers are handed over, not copied (they are this batch's own).
  (reply) =>
    (reply instanceof Uint8Array
      ? [reply.buffer]
      : [
          reply.objects.texts.buffer,
          reply.objects.textEnds.buffer,
          reply.objects.entries.buffer,
          reply.objects.entryEnds.buffer,
        ]) as ArrayBuffer[],
);
