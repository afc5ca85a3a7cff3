/**
 * The body of a conversion thread (see page-conversion.ts): converts the list pages it is sent,
 * from the bytes of Duo's answers, and answers each with the staged form of the converted page
 * and its checksum, both made here, off the worker's main thread — or with the error that stopped it.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { partChecksum } from '../staging/store';
import { ownedBytes, serveThreadJobs } from '../util/thread-pool';
import { encodeConvertedPart } from './converted-part';
import type { ConvertedPage, PageConversionJob } from './page-conversion';
import { convertListAnswer } from './record-conversion';

/**
 * Converting should never slow down what the worker's main thread does: paging through Duo, the
 * run's critical path. Linux keeps a nice value per thread (setpriority(2), "BUGS"), so this thread
 * lowers its own and the main thread always runs first. Elsewhere (no /proc/thread-self) it keeps
 * the process's priority.
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

serveThreadJobs<PageConversionJob, ConvertedPage>(
  (job) => {
    const batch = convertListAnswer(job.resource, job.body, job.context);
    // Handed back without copying when the bytes are the whole of their buffer (they normally are).
    const bytes = ownedBytes(encodeConvertedPart(batch));
    return { bytes, sha256: partChecksum(bytes), records: batch.records.length };
  },
  (page) => [page.bytes.buffer as ArrayBuffer],
);
