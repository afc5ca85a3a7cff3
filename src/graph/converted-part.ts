/**
 * How a page of a resource's records is staged once converted: the fetch converts each page it
 * reads (page-conversion.ts) and stages the result as one part of `converted/<resource>`; the build
 * reads the parts back and applies them (build-graph.ts). What lies between them is the converted
 * batch (record-conversion.ts) in the form below: the records as JSON text, the serialised objects
 * as the bytes they already are.
 *
 * A part is used only as it was made: its manifest entry's size and SHA-256 must match its bytes,
 * and the dataset must have been converted with the instance context and form the reader expects
 * (`conversionKey`). Anything else is staged input not to be trusted, and the run starts over.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ResourceName } from '../resources/table';
import { PartBuffers } from '../staging/part-buffers';
import { readLoggedParts } from '../staging/part-log';
import {
  StagedInputMissingError,
  partChecksum,
  type DatasetManifest,
  type PartInfo,
  type StagedRun,
} from '../staging/store';
import type { GraphInstanceContext } from './converters';
import { describePhoneNumberRule } from './phone-numbers';
import type { ConvertedBatch, ConvertedRecord, SerializedObjects } from './record-conversion';

/** The staged form's version: change it with the form below or the shape of `ConvertedBatch`. */
const CONVERTED_PART_FORM = 3;

/** The staged dataset of a resource's converted records. */
export function convertedDatasetName(resource: ResourceName): string {
  return `converted/${resource}`;
}

/**
 * What a resource's parts were converted with — the staged form and the instance's context — as it
 * is kept in their part log and manifest: a retried fetch keeps, and a build uses, only parts made
 * with the key it would make them with itself.
 */
export function conversionKey(context: GraphInstanceContext): string {
  // The phone number rule by its description: a `hash` key is secret and is never written down.
  return `${CONVERTED_PART_FORM}:${JSON.stringify({ ...context, phoneNumbers: describePhoneNumberRule(context.phoneNumbers) })}`;
}

/** The manifest entry naming the key (`DatasetManifest.meta`). */
export const CONVERSION_KEY_META = 'conversion';

/*
 * The staged form of a converted batch, little-endian:
 *
 *   header   four u32: the records' JSON length in bytes, the object count n, the texts' and the
 *            entries' lengths in bytes
 *   records  `JSON.stringify(batch.records)`, UTF-8
 *   ends     n u32 text ends, then n u32 entry ends
 *   texts    the objects' canonical texts, back to back, as converted
 *   entries  their index entries, back to back
 *
 * Not `node:v8`, which it replaces: for a page of 300 users that took 3.4 ms to write and 3.0 ms to
 * read (it copies the texts into its own buffer as it grows, and builds each record's objects
 * through its own decoder), against 1.6 and 1.4 ms here, where the texts and entries are read as
 * views of the part's bytes, without a copy. And the same batch is always the same bytes, whichever
 * thread wrote it (node:v8 wrote an array dense or sparse after what V8 had learnt on that thread).
 */
const HEADER_BYTES = 16;

export function encodeConvertedPart(batch: ConvertedBatch): Uint8Array {
  const records = Buffer.from(JSON.stringify(batch.records), 'utf8');
  const { texts, textEnds, entries, entryEnds } = batch.objects;
  const count = textEnds.length;
  const bytes = Buffer.allocUnsafe(HEADER_BYTES + records.length + 8 * count + texts.length + entries.length);
  bytes.writeUInt32LE(records.length, 0);
  bytes.writeUInt32LE(count, 4);
  bytes.writeUInt32LE(texts.length, 8);
  bytes.writeUInt32LE(entries.length, 12);
  let at = HEADER_BYTES + records.copy(bytes, HEADER_BYTES);
  for (const ends of [textEnds, entryEnds]) {
    for (let index = 0; index < count; index += 1) at = bytes.writeUInt32LE(ends[index], at);
  }
  at += Buffer.from(texts.buffer, texts.byteOffset, texts.byteLength).copy(bytes, at);
  Buffer.from(entries.buffer, entries.byteOffset, entries.byteLength).copy(bytes, at);
  return bytes;
}

/**
 * The batch of a part's bytes (`encodeConvertedPart`); the texts and entries are views of `bytes`.
 * Undefined when the bytes are not of this form.
 */
export function decodeConvertedPart(bytes: Uint8Array): ConvertedBatch | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < HEADER_BYTES) return undefined;
  const recordsLength = buffer.readUInt32LE(0);
  const count = buffer.readUInt32LE(4);
  const textsLength = buffer.readUInt32LE(8);
  const entriesLength = buffer.readUInt32LE(12);
  const endsAt = HEADER_BYTES + recordsLength;
  const textsAt = endsAt + 8 * count;
  if (textsAt + textsLength + entriesLength !== buffer.length) return undefined;
  let records: unknown;
  try {
    records = JSON.parse(buffer.toString('utf8', HEADER_BYTES, endsAt));
  } catch {
    return undefined;
  }
  if (!Array.isArray(records)) return undefined;
  const textEnds = new Uint32Array(count);
  const entryEnds = new Uint32Array(count);
  for (let index = 0; index < count; index += 1) {
    textEnds[index] = buffer.readUInt32LE(endsAt + 4 * index);
    entryEnds[index] = buffer.readUInt32LE(endsAt + 4 * (count + index));
  }
  if (count > 0 && (textEnds[count - 1] !== textsLength || entryEnds[count - 1] !== entriesLength)) return undefined;
  const entriesAt = textsAt + textsLength;
  const objects: SerializedObjects = {
    texts: buffer.subarray(textsAt, entriesAt),
    textEnds,
    entries: buffer.subarray(entriesAt),
    entryEnds,
  };
  return { records: records as ConvertedRecord[], objects };
}

/**
 * The batch of a part's bytes, refused (`StagedInputMissingError`) unless they are what the
 * manifest says the part holds: the build reads minutes after the fetch wrote, and a part replaced
 * or cut short in between would make a graph short of records that passes for complete.
 */
function checkedBatch(run: StagedRun, dataset: string, part: PartInfo, bytes: Buffer): ConvertedBatch {
  const problem =
    bytes.length !== part.bytes
      ? `${bytes.length} bytes where its manifest says ${part.bytes}`
      : part.sha256 === undefined || partChecksum(bytes) !== part.sha256
        ? 'its SHA-256 is not the one its manifest gives'
        : undefined;
  // Not a part this form wrote: reported below.
  const batch = problem ? undefined : decodeConvertedPart(bytes);
  if (!batch || batch.records?.length !== part.records) {
    const detail = problem ?? `it does not hold the ${part.records} converted records its manifest gives`;
    throw new StagedInputMissingError(run.key, dataset, `part ${part.index} is not as written: ${detail}`);
  }
  return batch;
}

/** A part read by `ConvertedPartReader`: its batch, and the call that frees the buffer it was read into. */
export interface ReadConvertedPart {
  /** Its texts and entries are views of the reader's buffer: valid until `release`. */
  batch: ConvertedBatch;
  /** Nothing holds a view of the batch any more: its buffer may take another part. */
  release(): void;
}

/**
 * Reads converted parts, checked against their manifest entries (`checkedBatch`), one after another
 * into the same few buffers (`PartBuffers`), each taken for the size the manifest gives.
 */
export class ConvertedPartReader {
  private readonly buffers: PartBuffers;

  /** `buffers`: how many to keep for later parts (those read ahead, and the one applied). */
  constructor(
    private readonly run: StagedRun,
    buffers: number,
  ) {
    this.buffers = new PartBuffers(buffers);
  }

  async read(resource: ResourceName, part: PartInfo): Promise<ReadConvertedPart> {
    const dataset = convertedDatasetName(resource);
    const into = this.buffers.take(part.bytes);
    let batch: ConvertedBatch;
    try {
      batch = checkedBatch(this.run, dataset, part, await this.run.readPart(dataset, part.index, into));
    } catch (error) {
      this.buffers.give(into);
      throw error;
    }
    // The batch's texts and entries are views of `into` (or of a buffer of the store's own, for a
    // store that does not read into the one given): `into` is free again once the batch is applied.
    let released = false;
    return {
      batch,
      release: () => {
        if (released) return;
        released = true;
        this.buffers.give(into);
      },
    };
  }
}

/** The parts of a resource's converted dataset, refused unless converted with `key`. */
export async function convertedParts(run: StagedRun, resource: ResourceName, key: string): Promise<PartInfo[]> {
  const dataset = convertedDatasetName(resource);
  const manifest = await run.readManifest(dataset);
  if (!manifest) throw new StagedInputMissingError(run.key, dataset, 'no manifest (never completed, or removed)');
  return partsConvertedWith(run, manifest, key);
}

function partsConvertedWith(run: StagedRun, manifest: DatasetManifest, key: string): PartInfo[] {
  if (manifest.meta?.[CONVERSION_KEY_META] !== key) {
    throw new StagedInputMissingError(
      run.key,
      manifest.dataset,
      'it was converted with other instance settings or by another version of duo-j1',
    );
  }
  return manifest.parts;
}

/**
 * A reader following a converted dataset while the fetch staged it used parts that are not the
 * dataset's any more: a retried fetch wrote them again, and they may hold other records now.
 * What the reader made of them is to be thrown away.
 */
export class FollowedPartsReplacedError extends Error {
  constructor(
    readonly dataset: string,
    detail: string,
  ) {
    super(`The parts of "${dataset}" changed while they were read as the fetch staged them: ${detail}`);
    this.name = 'FollowedPartsReplacedError';
  }
}

/** A followed dataset's fetch did not start within the follower's patience (`FollowOptions.patienceMs`). */
export class FollowedDatasetIdleError extends Error {
  constructor(
    readonly dataset: string,
    waitedMs: number,
  ) {
    super(`The fetch of "${dataset}" did not start staging it within ${Math.round(waitedMs / 1000)} s`);
    this.name = 'FollowedDatasetIdleError';
  }
}

export interface FollowOptions {
  signal?: AbortSignal;
  /** How often the dataset is looked at while nothing new is staged. */
  pollMs?: number;
  /**
   * How long to wait for a dataset whose fetch has not started (it saves no part log, and there is
   * no manifest): that fetch may be waiting for a free activity slot the follower itself holds.
   */
  patienceMs?: number;
  /** Awaited before each part is given: how the build leaves the CPU to the fetch (follow-pace.ts). */
  pace?: () => Promise<void>;
  /**
   * The dataset was staged already: an earlier attempt of the build read parts of it. Finding
   * neither its part log nor its manifest then means the staging was lost, not that its fetch has
   * yet to start, and the following ends at once rather than after `patienceMs`.
   */
  stagedBefore?: boolean;
}

/** Long enough for the parts of an unthrottled fetch to come a few at a time, short against a page at Duo's limit. */
const FOLLOW_POLL_MS = 100;
/**
 * Longer than a fetch waits to start on a worker with activity slots to spare, or for its first
 * request under the account's rate budget; shorter than the five minutes after which a fetch not
 * started counts as a lost host (`hostScheduleToStartSeconds`) and the pipeline starts over.
 */
const FOLLOW_PATIENCE_MS = 60_000;

function samePart(a: PartInfo, b: PartInfo): boolean {
  return a.index === b.index && a.records === b.records && a.bytes === b.bytes && a.sha256 === b.sha256;
}

/**
 * The parts of a resource's converted dataset as its fetch stages them, for a build that applies
 * them while the fetch goes on: each part once the dataset's part log lists it (it is written by
 * then), and the rest once the manifest commits the dataset. The manifest has the last word: it must
 * begin with every part already given, or `FollowedPartsReplacedError` says that what was made of
 * them is void. A dataset whose fetch shows no sign of having started (no part log, no manifest)
 * within `patienceMs` ends the following with `FollowedDatasetIdleError`; one that was staged (parts
 * of it given here or, by `stagedBefore`, to an earlier attempt) and shows no sign of it now ends it
 * at once with `StagedInputMissingError`.
 *
 * A part given here is read (`ConvertedPartReader`) against its logged size and SHA-256: one replaced
 * since it was logged is refused there, as a part not as written.
 */
export async function* followConvertedParts(
  run: StagedRun,
  resource: ResourceName,
  key: string,
  options: FollowOptions = {},
): AsyncGenerator<PartInfo, void, undefined> {
  const { signal, pollMs = FOLLOW_POLL_MS, patienceMs = FOLLOW_PATIENCE_MS, pace, stagedBefore = false } = options;
  const dataset = convertedDatasetName(resource);
  const given: PartInfo[] = [];
  const waitingSince = Date.now();
  for (;;) {
    signal?.throwIfAborted();
    const manifest = await run.readManifest(dataset);
    const logged = manifest ? undefined : await readLoggedParts(run, dataset, key);
    if (!manifest && logged === undefined && (stagedBefore || given.length > 0)) {
      throw new StagedInputMissingError(
        run.key,
        dataset,
        'it was staged, and its part log and manifest are gone since',
      );
    }
    const listed = manifest ? partsConvertedWith(run, manifest, key) : (logged ?? []);
    // A retried fetch may cut the log back before it writes on: only the manifest must hold them all.
    const compared = Math.min(given.length, listed.length);
    for (let index = 0; index < compared; index += 1) {
      if (!samePart(given[index], listed[index])) {
        throw new FollowedPartsReplacedError(dataset, `part ${index} was written again`);
      }
    }
    if (manifest && listed.length < given.length) {
      throw new FollowedPartsReplacedError(
        dataset,
        `${given.length} parts were read, its manifest lists ${listed.length}`,
      );
    }
    const fresh = listed.slice(given.length);
    for (const part of fresh) {
      await pace?.();
      given.push(part);
      yield part;
    }
    if (manifest) return;
    // A list's fetch saves its (empty) log as it starts; an object resource's, its manifest soon after.
    if (logged === undefined && Date.now() - waitingSince > patienceMs) {
      throw new FollowedDatasetIdleError(dataset, Date.now() - waitingSince);
    }
    if (fresh.length === 0) {
      await delay(pollMs, undefined, { signal }).catch(() => signal?.throwIfAborted());
    }
  }
}
