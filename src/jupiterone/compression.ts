/**
 * Gzip for upload bodies, as JupiterOne's SDK sends them with `compressUploads` (only the entity
 * and relationship uploads, `Content-Encoding: gzip`). Batches stay bounded by the uncompressed
 * body: JupiterOne decodes the body before its payload limit applies (see batching.ts).
 *
 * The level was chosen by measuring the staged graph of a generated 20,000-user tenant (20 bodies,
 * 95.6 MB), one body after another on one thread, CPU of every thread counted:
 *
 * | level | ratio | MB per 100,000 users | CPU-s per 100,000 users |
 * | ----- | ----- | -------------------- | ----------------------- |
 * | 1     | 7.8   | 61                   | 1.5–2.3                 |
 * | 2     | 8.3   | 58                   | 1.4–1.5                 |
 * | 3     | 8.5   | 56                   | 1.6–1.8                 |
 * | 4     | 8.8   | 55                   | 2.3–2.5                 |
 * | 6     | 9.9   | 48                   | 4.1–4.2                 |
 *
 * Level 6 is zlib's default and what the SDK sends. Levels 1–3 are zlib's fast strategy and cost about the same; 3 compresses best of them. Level 6
 * saves another 8 MB on the wire for two and a half more CPU-seconds, which a run short of CPU
 * (two cores shared with Temporal) would feel more than the network feels 8 MB.
 *
 * Compression runs through node:zlib's asynchronous API, on libuv's thread pool, so the event loop
 * that batches and sends stays free; each batch is compressed inside its own upload task, so the
 * next batches compress while earlier ones are on the wire.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

export const UPLOAD_GZIP_LEVEL = 3;

/**
 * Bytes of compressed output per step of the thread pool's work. zlib's default (16 kB) makes a
 * 5 MB body (about 600 kB gzipped) some forty round trips to the event loop, each a callback and a
 * buffer. Measured on six bodies at a time, as an upload sends them: 256 kB steps took about a
 * third less of the event loop's time and a tenth less CPU in all; the same bytes either way.
 */
const GZIP_CHUNK_BYTES = 256 * 1024;

const gzipAsync = promisify(gzip);

/** The body gzipped at UPLOAD_GZIP_LEVEL, off the event loop. */
export function gzipUploadBody(body: Uint8Array): Promise<Buffer> {
  return gzipAsync(body, { level: UPLOAD_GZIP_LEVEL, chunkSize: GZIP_CHUNK_BYTES });
}
