/**
 * The body of an upload reader thread (see upload-readers.ts): reads each upload body it is sent
 * and answers with the objects it holds and the body's bytes (both handed back, not copied), or
 * with the UploadBodyError that refuses it.
 */
import { serveThreadJobs } from '../../util/thread-pool';
import { readUploadBody, transferablesOf } from './upload-body';
import type { UploadReadJob, UploadReadResult } from './upload-readers';

serveThreadJobs<UploadReadJob, UploadReadResult>(
  ({ bytes, kinds }) => ({
    body: readUploadBody(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), kinds),
    bytes,
  }),
  ({ body, bytes }) => [...transferablesOf(body), bytes.buffer as ArrayBuffer],
);
