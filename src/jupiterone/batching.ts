/**
 * Batching of graph objects for upload: greedy by serialised size, in input order.
 *
 * A batch is bounded by the size of the whole request body (`{"entities":[a,b,...]}`, wrapper and
 * commas included), not only the sum of its objects, so a batch built for a limit can never exceed
 * it. Each object is serialised exactly once; the body is the join of those strings.
 *
 * An object that does not fit in an empty batch is sent without its `_rawData` (the raw provider
 * record is a copy for reference; the graph properties are what JupiterOne indexes). If it is still
 * too large it is rejected and reported, so the caller can mark its `_type` partial and JupiterOne
 * keeps that type's previous data instead of deleting it.
 */
import { jsonTextOf } from '../graph/serialization';
import type { GraphObject } from '../graph/types';
import type { GraphDatasetKind } from './types';

/**
 * JupiterOne's payload limit: AWS Lambda's 6 MiB invocation limit behind the persister (the 413
 * JupiterOne answers quotes Lambda's "Request must be smaller than 6291456 bytes for the
 * InvokeFunction operation").
 *
 * It applies to the body once decoded, not to the gzipped bytes on the wire: API Gateway, in front
 * of the Lambda, decompresses a `Content-Encoding: gzip` body before it passes the request on (AWS,
 * "Call an API method with a compressed payload in API Gateway"), so the Lambda is invoked with the
 * whole JSON. That chain is inferred — JupiterOne does not document it — and JupiterOne's own SDK
 * agrees with it: it bounds batches by their uncompressed size, gzip or not. So batches are bounded
 * by their uncompressed body here too.
 */
export const JUPITERONE_PAYLOAD_LIMIT_BYTES = 6_291_456;

/** Default batch limit (of the uncompressed body): the SDK's 5,000,000 bytes, well under the 6 MiB limit. */
export const DEFAULT_MAX_BATCH_BYTES = 5_000_000;

export type { GraphObject };

/**
 * What the batcher accepts: a graph object, or its JSON text (a line of the staged graph) as a
 * string or UTF-8 bytes. Text is uploaded byte for byte and parsed only if it must shrink or be
 * reported: uploading a 100,000-user graph otherwise spends most of its time parsing staged lines
 * only to serialise the same objects again.
 */
export type UploadableObject = GraphObject | string | Uint8Array;

/** An object ready to send: its JSON text (computed once, or as staged) and size. */
export interface PreparedObject {
  object: GraphObject;
  json: string | Uint8Array;
  bytes: number;
  type: string;
  key: string;
  /** True when `_rawData` was removed to make the object fit. */
  rawDataRemoved: boolean;
}

/** An object that cannot be sent at all; its `_type` must be reported partial. */
export interface RejectedObject {
  type: string;
  key: string;
  /** Serialised size without `_rawData`, or 0 when it could not be serialised. */
  bytes: number;
  reason: string;
}

export type PreparationResult = { ok: true; prepared: PreparedObject } | { ok: false; rejected: RejectedObject };

/** A batch and the input objects it accounts for (sent or rejected), in input order. */
export interface PreparedBatch {
  /** 0-based position of this batch in the dataset (after skipped objects). */
  index: number;
  /** Ordinal (0-based, counting skipped objects) of the first input object this batch covers. */
  firstOrdinal: number;
  /** Number of input objects this batch covers: `items.length + rejected.length`. */
  objectCount: number;
  items: PreparedObject[];
  rejected: RejectedObject[];
  /** Exact byte length of `serializeBatchBody(kind, items)`. */
  bodyBytes: number;
}

export function emptyBodyBytes(kind: GraphDatasetKind): number {
  return Buffer.byteLength(`{"${kind}":[]}`, 'utf8');
}

/** Byte length of the request body carrying `items` (wrapper and separating commas included). */
export function batchBodyBytes(kind: GraphDatasetKind, items: readonly PreparedObject[]): number {
  let total = emptyBodyBytes(kind);
  for (const item of items) total += item.bytes;
  return total + Math.max(0, items.length - 1);
}

/** The request body carrying `items`, as bytes: staged texts go in as they are. */
export function serializeBatchBody(kind: GraphDatasetKind, items: readonly PreparedObject[]): Buffer {
  const body = Buffer.allocUnsafe(batchBodyBytes(kind, items));
  writeBatchBody(kind, items, body);
  return body;
}

/** Bytes of a body before its first object: `{"<kind>":[`. */
function bodyHeaderBytes(kind: GraphDatasetKind): number {
  return emptyBodyBytes(kind) - ']}'.length;
}

/**
 * Request body buffers of one upload, used again once their request is over. A dataset of a large
 * tenant goes up as hundreds of bodies of up to 5 MB: each made anew, they were most of what an
 * upload allocated, and V8 answered that much memory outside its heap with full collections. The
 * pool holds as many buffers as bodies were ever in use at once (the upload's concurrency).
 */
export class BodyBuffers {
  private readonly free: Buffer[] = [];

  /** `size`: the largest body taken (the batch limit); a larger body gets a buffer of its own. */
  constructor(private readonly size: number) {}

  /** A buffer of exactly `bytes` bytes, to be given back with `give` once nothing reads it. */
  take(bytes: number): Buffer {
    if (bytes > this.size) return Buffer.allocUnsafe(bytes);
    const buffer = this.free.pop() ?? Buffer.allocUnsafe(this.size);
    return buffer.subarray(0, bytes);
  }

  give(body: Buffer): void {
    if (body.buffer.byteLength === this.size && body.byteOffset === 0) {
      this.free.push(Buffer.from(body.buffer, 0, this.size));
    }
  }
}

/** Writes the body carrying `items` into `target` (exactly `batchBodyBytes` long): the one writer of a batch body. */
function writeBatchBody(kind: GraphDatasetKind, items: readonly PreparedObject[], target: Buffer): void {
  let at = target.write(`{"${kind}":[`, 0, 'latin1');
  items.forEach((item, index) => {
    if (index > 0) target[at++] = COMMA;
    if (typeof item.json === 'string') at += target.write(item.json, at, 'utf8');
    else {
      target.set(item.json, at);
      at += item.json.length;
    }
  });
  target.write(']}', at, 'latin1');
}

const COMMA = 0x2c;

/**
 * A batch's request body, serialised once, with what a 413 needs to split it. The prepared objects
 * themselves are let go when they are all staged texts: their texts are in the body, and the
 * objects are rebuilt from it only if JupiterOne refuses the batch. Holding thousands of small
 * objects per batch for the whole request made them outlive the young generation, and the old
 * generation then needed a full collection every half second of a large delivery.
 */
export class BatchPayload {
  private constructor(
    readonly kind: GraphDatasetKind,
    readonly body: Buffer,
    /** End offset of each object's text in the body. */
    private readonly ends: Uint32Array,
    readonly rawDataRemoved: number,
    private readonly kept: readonly PreparedObject[] | undefined,
    private readonly buffers: BodyBuffers | undefined,
  ) {}

  /**
   * The payload of `items`; its body in a buffer of `buffers` when given (then `release` it once
   * its request is over, and neither it nor the objects `items()` gave are read after that).
   */
  static of(kind: GraphDatasetKind, items: readonly PreparedObject[], buffers?: BodyBuffers): BatchPayload {
    const bytes = batchBodyBytes(kind, items);
    const body = buffers ? buffers.take(bytes) : Buffer.allocUnsafe(bytes);
    writeBatchBody(kind, items, body);
    const ends = new Uint32Array(items.length);
    let at = bodyHeaderBytes(kind);
    let rawDataRemoved = 0;
    let allStagedTexts = true;
    items.forEach((item, index) => {
      at += (index > 0 ? 1 : 0) + item.bytes;
      ends[index] = at;
      if (item.rawDataRemoved) rawDataRemoved += 1;
      if (!(item instanceof PreparedJson)) allStagedTexts = false;
    });
    return new BatchPayload(kind, body, ends, rawDataRemoved, allStagedTexts ? undefined : [...items], buffers);
  }

  private released = false;

  /** Gives the body's buffer back for the next batch (once the request is over); once only. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.buffers?.give(this.body);
  }

  get objectCount(): number {
    return this.ends.length;
  }

  /** The batch's objects again: as they were given, or rebuilt from their texts in the body. */
  items(): PreparedObject[] {
    if (this.kept) return [...this.kept];
    return Array.from(this.ends, (end, index) => {
      const start = index === 0 ? bodyHeaderBytes(this.kind) : this.ends[index - 1] + 1;
      return new PreparedJson(this.body.subarray(start, end), end - start);
    });
  }
}

/** A copy of the object without `_rawData`. */
export function withoutRawData<T extends GraphObject>(object: T): T {
  const copy = { ...object };
  delete copy._rawData;
  return copy;
}

function describe(object: GraphObject): { type: string; key: string } {
  return {
    type: typeof object._type === 'string' ? object._type : '(no _type)',
    key: typeof object._key === 'string' ? object._key : '(no _key)',
  };
}

function serialize(object: GraphObject): string | undefined {
  try {
    return JSON.stringify(object);
  } catch {
    // Cyclic structures and BigInt values cannot be sent; the caller reports the object.
    return undefined;
  }
}

/**
 * Serialises one object for a batch limit of `maxBatchBytes`: as is when it fits alone in a body,
 * else without `_rawData`, else rejected.
 */
export function prepareForUpload(
  uploadable: UploadableObject,
  kind: GraphDatasetKind,
  maxBatchBytes: number,
): PreparationResult {
  const room = maxBatchBytes - emptyBodyBytes(kind);
  if (typeof uploadable === 'string' || uploadable instanceof Uint8Array) {
    const bytes = typeof uploadable === 'string' ? Buffer.byteLength(uploadable, 'utf8') : uploadable.length;
    if (bytes <= room) return { ok: true, prepared: new PreparedJson(uploadable, bytes) };
    let parsed: GraphObject;
    try {
      parsed = JSON.parse(jsonTextOf(uploadable)) as GraphObject;
    } catch {
      return { ok: false, rejected: { type: '(unknown)', key: '(unknown)', bytes, reason: 'not valid JSON' } };
    }
    return prepareWithoutRawData(parsed, room, bytes);
  }
  const object = uploadable;
  const { type, key } = describe(object);
  const json = serialize(object);
  if (json === undefined) {
    return { ok: false, rejected: { type, key, bytes: 0, reason: 'not serialisable as JSON' } };
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= room) return { ok: true, prepared: { object, json, bytes, type, key, rawDataRemoved: false } };
  return prepareWithoutRawData(object, room, bytes);
}

/**
 * A prepared object for JSON text that fits as it is. The object, its type and key are needed only
 * when JupiterOne refuses the batch (413), so they are parsed then rather than for every object.
 */
class PreparedJson implements PreparedObject {
  readonly rawDataRemoved = false;
  #parsed: GraphObject | undefined;

  constructor(
    readonly json: string | Uint8Array,
    readonly bytes: number,
  ) {}

  get object(): GraphObject {
    return (this.#parsed ??= JSON.parse(jsonTextOf(this.json)) as GraphObject);
  }

  get type(): string {
    return describe(this.object).type;
  }

  get key(): string {
    return describe(this.object).key;
  }
}

function prepareWithoutRawData(object: GraphObject, room: number, originalBytes: number): PreparationResult {
  const { type, key } = describe(object);
  if (object._rawData === undefined) {
    return { ok: false, rejected: { type, key, bytes: originalBytes, reason: 'larger than the batch limit' } };
  }
  const stripped = withoutRawData(object);
  const json = serialize(stripped) as string;
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > room) {
    return {
      ok: false,
      rejected: { type, key, bytes, reason: 'larger than the batch limit even without _rawData' },
    };
  }
  return { ok: true, prepared: { object: stripped, json, bytes, type, key, rawDataRemoved: true } };
}

/**
 * The same object without `_rawData`, for a single object that JupiterOne answered 413 for although
 * it fit the client's own limit (the server's limit may be lower than configured). Undefined when
 * there is no `_rawData` left to remove.
 */
export function shrinkRejectedByServer(item: PreparedObject): PreparedObject | undefined {
  if (item.rawDataRemoved || item.object._rawData === undefined) return undefined;
  const object = withoutRawData(item.object);
  const json = JSON.stringify(object);
  // Fields listed rather than spread: a prepared JSON text keeps its type and key in getters.
  return { object, json, bytes: Buffer.byteLength(json, 'utf8'), type: item.type, key: item.key, rawDataRemoved: true };
}

export interface BatchBySizeOptions {
  kind: GraphDatasetKind;
  maxBatchBytes: number;
  /** Input objects to skip before batching (already uploaded by an earlier attempt). */
  skipObjects?: number;
}

/** Objects one by one, or in arrays (as staged lines are read): one awaited step per array, not per object. */
export type UploadSource =
  | AsyncIterable<UploadableObject | readonly UploadableObject[]>
  | Iterable<UploadableObject | readonly UploadableObject[]>;

/**
 * Groups a stream of graph objects into batches whose body stays within `maxBatchBytes`, greedily
 * and in input order. Holds one batch at a time, so memory stays bounded whatever the dataset size.
 */
export async function* batchBySize(source: UploadSource, options: BatchBySizeOptions): AsyncGenerator<PreparedBatch> {
  const { kind, maxBatchBytes } = options;
  const skip = options.skipObjects ?? 0;
  const minimum = emptyBodyBytes(kind) + 2;
  if (!Number.isFinite(maxBatchBytes) || maxBatchBytes < minimum) {
    throw new RangeError(`maxBatchBytes must be at least ${minimum} bytes, got ${maxBatchBytes}`);
  }
  let ordinal = 0;
  let index = 0;
  let current = newBatch(kind, index, skip);
  for await (const item of source) {
    const objects: readonly UploadableObject[] = Array.isArray(item) ? item : [item as UploadableObject];
    for (const object of objects) {
      const position = ordinal++;
      if (position < skip) continue;
      const result = prepareForUpload(object, kind, maxBatchBytes);
      if (!result.ok) {
        current.rejected.push(result.rejected);
        current.objectCount++;
        continue;
      }
      const { prepared } = result;
      const separator = current.items.length > 0 ? 1 : 0;
      if (current.items.length > 0 && current.bodyBytes + separator + prepared.bytes > maxBatchBytes) {
        yield current;
        current = newBatch(kind, ++index, position);
      }
      current.bodyBytes += (current.items.length > 0 ? 1 : 0) + prepared.bytes;
      current.items.push(prepared);
      current.objectCount++;
    }
  }
  if (current.objectCount > 0) yield current;
}

function newBatch(kind: GraphDatasetKind, index: number, firstOrdinal: number): PreparedBatch {
  return { index, firstOrdinal, objectCount: 0, items: [], rejected: [], bodyBytes: emptyBodyBytes(kind) };
}
