/**
 * An upload into a JupiterOne job made while the graph is built: each object goes into its kind's
 * stream of upload batches as the build stages it (`JobUploadAsBuilt.add`), so that once the last
 * page is read only the last batches and the finalize are left. At Duo's rate limits the build
 * follows the fetch and the host is idle most of the time; uploading in that time, instead of from
 * the staged graph once it is built, takes the upload's seconds off the end of the run.
 *
 * Entities and relationships go up side by side: JupiterOne resolves a job's relationships against
 * its entities when the job is finalized, not as they arrive.
 *
 * Nothing here finalizes. A run uses an upload made this way only if the graph it was made from is
 * the graph the run delivers; otherwise the job holds objects of another graph, and the run aborts
 * it and uploads into a new one (src/workflows/duo-ingestion.ts). A failed upload gives the
 * shortcut up, never the build.
 */
import type { GraphObjectCopy } from '../graph/build-graph';
import type { JupiterOneSyncClient, UploadOptions, UploadProgress, UploadResult } from './client';
import type { GraphDatasetKind, GraphUploadSummary } from './types';

/**
 * Bytes of objects a stream holds that its upload has not taken yet, beyond which the build waits:
 * what piles up while all of the upload's requests are out, a little over one batch.
 */
const HELD_BYTES_PER_KIND = 6_000_000;

/**
 * Bytes of each piece a stream copies objects into, and that the upload takes at a time. It takes
 * the next piece only once it has put the last into batches, which waits for a free request: the
 * build is held back by what is sent, not only by what is taken.
 */
const PIECE_BYTES = 1_000_000;

/** Objects copied one after the other into one buffer, and where each ends. */
interface Piece {
  bytes: Buffer;
  used: number;
  ends: number[];
}

/**
 * Objects of one kind on their way from the build to the upload: the build pushes, the upload's
 * batcher pulls what has arrived, a piece at a time. Each object is copied into the stream's
 * current piece: the build's own bytes are views of whole staged parts, and holding them until
 * they are sent would hold every part a batch draws from. Written here rather than taken from a
 * stream library: it carries the staged bytes as bytes, one awaited step per piece of them, and
 * its back-pressure is the one promise the build already awaits with its own writes.
 */
class ObjectStream implements AsyncIterable<(Uint8Array | string)[]> {
  /** Pieces filled and not taken yet, oldest first; the last is the one being filled. */
  private pieces: Piece[] = [];
  private heldBytes = 0;
  private ended = false;
  /** The upload waiting for objects, if it is. */
  private wakeUpload: (() => void) | undefined;
  /** The build waiting for room, if it is. */
  private room: { promise: Promise<void>; resolve: () => void } | undefined;

  push(text: Uint8Array | string): Promise<void> | undefined {
    if (this.ended) return undefined;
    const length = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    let piece = this.pieces.at(-1);
    if (!piece || piece.used + length > piece.bytes.length) {
      piece = { bytes: Buffer.allocUnsafe(Math.max(PIECE_BYTES, length)), used: 0, ends: [] };
      this.pieces.push(piece);
    }
    if (typeof text === 'string') piece.bytes.write(text, piece.used, 'utf8');
    else piece.bytes.set(text, piece.used);
    piece.used += length;
    piece.ends.push(piece.used);
    this.heldBytes += length;
    // The upload learns of a piece once it is full (or the stream ends): one step per piece.
    if (this.pieces.length > 1) this.wakeUpload?.();
    if (this.heldBytes < HELD_BYTES_PER_KIND) return undefined;
    if (!this.room) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      this.room = { promise, resolve };
    }
    return this.room.promise;
  }

  /** No more objects: the upload ends once it has taken those held. Also lets a waiting build go on. */
  end(): void {
    this.ended = true;
    this.wakeUpload?.();
    this.makeRoom();
  }

  /** The upload stopped: nothing pushed is held any more, and the build never waits for it. */
  drop(): void {
    this.end();
    this.pieces = [];
    this.heldBytes = 0;
  }

  private makeRoom(): void {
    const room = this.room;
    this.room = undefined;
    room?.resolve();
  }

  /** The oldest piece, as views of its objects, once it is full or the stream has ended. */
  private take(): Uint8Array[] | undefined {
    const piece = this.pieces[0];
    if (!piece || (this.pieces.length === 1 && !this.ended)) return undefined;
    this.pieces.shift();
    this.heldBytes -= piece.used;
    if (this.heldBytes < HELD_BYTES_PER_KIND) this.makeRoom();
    return piece.ends.map((end, index) => piece.bytes.subarray(index === 0 ? 0 : piece.ends[index - 1], end));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<(Uint8Array | string)[]> {
    for (;;) {
      const taken = this.take();
      if (taken) {
        yield taken;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wakeUpload = resolve));
      this.wakeUpload = undefined;
    }
  }
}

export class JobUploadAsBuilt implements GraphObjectCopy {
  private readonly streams = { entities: new ObjectStream(), relationships: new ObjectStream() };
  /** Objects given per `_type`. */
  private readonly added: Record<string, number> = {};
  private readonly uploads: Record<GraphDatasetKind, Promise<UploadResult>>;
  private readonly stopped = new AbortController();
  private failure: { error: unknown } | undefined;
  /** Each kind's last progress report. */
  private readonly reported: Partial<Record<GraphDatasetKind, UploadProgress>> = {};

  /**
   * Starts both kinds' uploads into `jobId`; they send what the build gives them until `complete`.
   * `signal` (the activity's) stops them, as `discard` does.
   */
  constructor(
    client: JupiterOneSyncClient,
    readonly jobId: string,
    options: Pick<UploadOptions, 'signal'> = {},
  ) {
    const upload = (kind: GraphDatasetKind): Promise<UploadResult> => {
      const stream = this.streams[kind];
      // A signal for each kind: each request in flight listens to it.
      const signal = AbortSignal.any([this.stopped.signal, ...(options.signal ? [options.signal] : [])]);
      // The client's requests in flight, shared between the kinds: as many bodies held at once
      // as an upload after the build holds.
      const concurrency = Math.max(1, Math.ceil(client.uploadConcurrency / 2));
      const onBatchDone = (progress: UploadProgress) => void (this.reported[kind] = progress);
      const uploadOptions = { signal, concurrency, onBatchDone };
      const sent =
        kind === 'entities'
          ? client.uploadEntities(jobId, stream, uploadOptions)
          : client.uploadRelationships(jobId, stream, uploadOptions);
      // A failed upload lets go of what it holds and never makes the build wait again.
      sent.catch((error: unknown) => {
        this.failure ??= { error };
        this.streams.entities.drop();
        this.streams.relationships.drop();
      });
      return sent;
    };
    this.uploads = { entities: upload('entities'), relationships: upload('relationships') };
  }

  /** What JupiterOne has accepted so far, both kinds together (for the build's heartbeats). */
  get progress(): { objects: number; batches: number; bytes: number } {
    const kinds = [this.reported.entities, this.reported.relationships];
    const sum = (of: (progress: UploadProgress) => number) =>
      kinds.reduce((total, progress) => total + (progress ? of(progress) : 0), 0);
    return {
      objects: sum((progress) => progress.uploadedObjects),
      batches: sum((progress) => progress.uploadedRequests),
      bytes: sum((progress) => progress.uploadedBytes),
    };
  }

  /** Whether an upload failed: what was made is then of no use. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Takes an object as the build stages it. Never throws; a promise only while its stream holds
   * more than its upload has taken.
   */
  add(kind: GraphDatasetKind, type: string, text: Uint8Array | string): Promise<void> | undefined {
    if (this.failure) return undefined;
    this.added[type] = (this.added[type] ?? 0) + 1;
    return this.streams[kind].push(text);
  }

  /**
   * Waits for every object given to be uploaded and answers what was delivered; throws what made
   * an upload fail. Call once the build has made its last object.
   */
  async complete(): Promise<GraphUploadSummary> {
    this.streams.entities.end();
    this.streams.relationships.end();
    const [entities, relationships] = await Promise.all([this.uploads.entities, this.uploads.relationships]);
    const rejectedByType = { ...entities.rejectedByType, ...relationships.rejectedByType };
    const delivered = Object.fromEntries(
      Object.entries(this.added).map(([type, count]) => [type, count - (rejectedByType[type] ?? 0)]),
    );
    return {
      uploaded: {
        entities: entities.objects,
        relationships: relationships.objects,
        batches: entities.requests + relationships.requests,
        bytes: entities.bytes + relationships.bytes,
        uncompressedBytes: entities.uncompressedBytes + relationships.uncompressedBytes,
      },
      delivered,
      rejected: entities.rejectedCount + relationships.rejectedCount,
      rejectedTypes: [...new Set([...entities.rejectedTypes, ...relationships.rejectedTypes])].sort(),
    };
  }

  /** Stops both uploads and waits for their requests to end; what they sent stays in the job. */
  async discard(): Promise<void> {
    this.stopped.abort(new Error('the upload made as the graph was built was given up'));
    this.streams.entities.drop();
    this.streams.relationships.drop();
    await Promise.allSettled([this.uploads.entities, this.uploads.relationships]);
  }
}
