/**
 * Decoding a request body as JupiterOne's front door does. The persister sits behind AWS API
 * Gateway, which decodes a body sent with `Content-Encoding: gzip` (or `deflate`) before the request
 * reaches the integration, and answers 415 Unsupported Media Type when the coding is one it does not
 * support or the body is not encoded as the header says (AWS, "Call an API method with a compressed
 * payload in API Gateway"). The payload limit then applies to the decoded body (see
 * src/jupiterone/batching.ts on why).
 *
 * Decoding uses node:zlib's asynchronous API, on the thread pool: the simulator's event loop keeps
 * serving the other uploads in flight. It takes the output in steps of DECODE_CHUNK_BYTES.
 */
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { HttpError } from './answers';

/**
 * Bytes of decoded output per step of the thread pool's work. zlib's default (16 kB) makes a 5 MB
 * body some three hundred callbacks on the event loop and as many chunks to join: in a 100,000-user
 * upload (494 MB decoded) that was 2.7 s of the simulator's event loop, which the bench's two cores
 * share with the worker it measures. Decoding copies of one 2 MB body four at a time, 256 kB steps
 * took half the CPU (0.8 against 1.7 CPU-s for 400 bodies); the same bytes either way.
 */
const DECODE_CHUNK_BYTES = 256 * 1024;

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** The codings API Gateway decodes; `identity` (or no header) is the body as it is. */
const DECODERS: Readonly<
  Record<string, (body: Buffer, options: { maxOutputLength: number; chunkSize: number }) => Promise<Buffer>>
> = {
  gzip: gunzipAsync,
  deflate: inflateAsync,
};

/** Answered when a decoded body is above the limit, in JupiterOne's words (Lambda's). */
export function payloadTooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    'RequestEntityTooLargeException',
    `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
  );
}

/**
 * The body decoded as its `Content-Encoding` says, at most `limit` bytes of it: 415 for a coding
 * not supported or a body that is not so encoded, 413 above the limit.
 */
export async function decodeRequestBody(
  contentEncoding: string | undefined,
  body: Buffer,
  limit: number,
): Promise<Buffer> {
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') {
    if (body.length > limit) throw payloadTooLarge(limit);
    return body;
  }
  const decode = DECODERS[coding];
  if (!decode) {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Encoding ${JSON.stringify(contentEncoding)} is not supported; send gzip, deflate or identity.`,
    );
  }
  try {
    return await decode(body, { maxOutputLength: limit, chunkSize: DECODE_CHUNK_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw payloadTooLarge(limit);
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `The body is not ${coding}-encoded, although its Content-Encoding says so.`,
    );
  }
}
