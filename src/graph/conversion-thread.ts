/**
 * The body of the conversion thread (see page-conversion.ts): converts the list pages it is sent
 * from the bytes of Duo's answers — parsed here, their records taken out exactly as the Duo client
 * takes them (`listPageRecords`: secret fields removed) — and answers each with the staged form of
 * the page and its checksum, both made here, off the fetch's thread, or with the error that stopped it.
 */
import { listEndpointOf, listPageRecords } from '../resources/table';
import { ownedBytes, serveThreadJobs } from '../util/thread-pool';
import type { ConvertedPage, PageConversionJob } from './page-conversion';
import { convertPage } from './page-conversion';

// At the process's priority: the page this thread holds is staged before the fetch's thread
// goes on, so a thread that gave way to everything else on the host would hold the fetch up.
serveThreadJobs<PageConversionJob, ConvertedPage>(
  ({ resource, body, context }) => {
    const endpoint = listEndpointOf(resource);
    if (!endpoint) throw new Error(`Resource "${resource}" has no list endpoint; its records come whole.`);
    const answer = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as {
      response: object[];
    };
    const converted = convertPage(resource, listPageRecords(answer.response, endpoint), context);
    // Handed back without copying when the bytes are the whole of their buffer (they normally are).
    return { ...converted, bytes: ownedBytes(converted.bytes) };
  },
  (page) => [page.bytes.buffer as ArrayBuffer],
);
