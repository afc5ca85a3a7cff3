/**
 * The body of a conversion thread (see conversion-pool.ts): converts the batches of staged records
 * it is sent and answers each with the converted records, or with the error that stopped it.
 */
import { workerData } from 'node:worker_threads';
import { jsonLineTexts } from '../staging/json-lines';
import { serveThreadJobs } from '../util/thread-pool';
import type { ConversionJob, ConversionThreadData } from './conversion-pool';
import { convertRecordTexts, type ConvertedBatch } from './record-conversion';

const { context } = workerData as ConversionThreadData;

serveThreadJobs<ConversionJob, ConvertedBatch>(
  (job) => convertRecordTexts(job.resource, jsonLineTexts(job.lines), context, job.accountKey),
  // The serialised objects' buffers are handed over, not copied (they are this batch's own).
  ({ objects: { texts, textEnds, entries, entryEnds } }) =>
    [texts.buffer, textEnds.buffer, entries.buffer, entryEnds.buffer] as ArrayBuffer[],
);
