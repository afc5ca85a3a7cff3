/**
 * The body of a conversion thread (see conversion-pool.ts): converts the batches of staged records
 * it is sent and answers each with the converted records, or with the error that stopped it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ConversionJob, ConversionReply, ConversionThreadData } from './conversion-pool';
import { convertRecordTexts } from './record-conversion';

const { context } = workerData as ConversionThreadData;
const port = parentPort;
if (!port) throw new Error('conversion-worker.ts runs as a worker thread only (see conversion-pool.ts).');

port.on('message', (job: ConversionJob) => {
  let reply: ConversionReply;
  try {
    const batch = convertRecordTexts(job.resource, job.recordTexts, context, job.accountKey);
    reply = { id: job.id, batch };
    // The serialised objects' buffers are handed over, not copied (they are this batch's own).
    const { texts, textEnds, entries, entryEnds } = batch.objects;
    port.postMessage(reply, [texts.buffer, textEnds.buffer, entries.buffer, entryEnds.buffer] as ArrayBuffer[]);
    return;
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});
