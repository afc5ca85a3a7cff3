/**
 * Converting staged records while the fetches are still running.
 *
 * A fetch spends most of its time waiting for Duo: at Duo's rate limit a 100,000-user tenant takes
 * minutes to read, and even unthrottled one of two cores is mostly idle. Converting records
 * (record-conversion.ts) needs nothing but the records themselves, so a worker converts each part
 * a fetch stages on a thread of its own as soon as it is written, and keeps the result beside the
 * part (`converted/<resource>/part-NNNNNN`). The build then applies those results instead of
 * converting the part again, and is left with the applying (de-duplication, edges, writes).
 *
 * A kept conversion is used only when it is exactly what the build would compute: it names the
 * version of the part it was made from (a part written again, by a retried fetch, has a new one),
 * the instance context and the account key it was made with. Anything else — no file, another
 * version, an account key the build does not find — and the build converts the part itself, so
 * converting ahead can make a build faster but never change its graph.
 *
 * One service per worker process; the fetch activities offer it parts (and say when the account's
 * fetch is over), the build activity stops it for its run before reading (`finish`) and borrows
 * its threads, already running, for the parts left to convert (`lend`); cleaning a run's staging
 * drops what is left of it. The threads stop when nothing has used them for a moment.
 */
import { availableParallelism } from 'node:os';
import { deserialize } from 'node:v8';
import type { StagedRun } from '../staging/store';
import { ThreadJobError, ownedBytes } from '../util/thread-pool';
import type { ResourceName } from '../resources/table';
import { rawDatasetName } from './data-model';
import {
  startConversionThreads,
  type ConversionJob,
  type ConversionThreads,
  type LentConversionThreads,
} from './conversion-pool';
import type { GraphInstanceContext } from './converters';
import { ACCOUNT_RELATIONSHIPS, accountKeyOf, convertRecordTexts, type ConvertedBatch } from './record-conversion';

/** Resources with fewer records than this are converted by the build alone (a thread's start costs more). */
export const CONVERSION_AHEAD_THRESHOLD = 5_000;

/** How long the threads stay up with nothing to convert before they stop (their memory is released). */
const IDLE_MS = 2_000;

/** What is kept of a conversion made ahead (serialised with `node:v8`, which keeps typed arrays). */
export interface ConvertedAheadFile {
  format: 2;
  /** The version of the part it was converted from. */
  source: string;
  /** The SHA-256 of the part's bytes it converted (`partChecksum`), to compare with the part's manifest. */
  sourceSha256: string;
  /** `contextKey` of the instance context it was converted with. */
  context: string;
  /** The account key it was converted with; null when there was none. */
  accountKey: string | null;
  batch: ConvertedBatch;
}

export function contextKey(context: GraphInstanceContext): string {
  return JSON.stringify(context);
}

export function convertedAheadFileName(resource: ResourceName, part: number): string {
  return `converted/${resource}/part-${String(part).padStart(6, '0')}`;
}

/**
 * The conversion kept for part `part` of a resource's raw dataset, when it was made from the part
 * as it is now — and, when `sha256` is given, from bytes with that checksum (the part's manifest
 * says what the part must hold) — with this context and account key; undefined otherwise (the
 * build converts it).
 */
export async function readConvertedAhead(
  run: StagedRun,
  resource: ResourceName,
  part: number,
  context: string,
  accountKey: string | undefined,
  sha256?: string,
): Promise<ConvertedBatch | undefined> {
  const file = await run.readFile(convertedAheadFileName(resource, part));
  if (!file) return undefined;
  let kept: ConvertedAheadFile;
  try {
    kept = deserialize(file) as ConvertedAheadFile;
  } catch {
    return undefined; // Not a file this version wrote: convert again.
  }
  if (kept?.format !== 2 || kept.context !== context) return undefined;
  if (sha256 !== undefined && kept.sourceSha256 !== sha256) return undefined;
  // The account key matters only to resources with an edge from the account.
  if (ACCOUNT_RELATIONSHIPS[resource] && (kept.accountKey ?? undefined) !== accountKey) return undefined;
  if (kept.source !== (await run.partVersion(rawDatasetName(resource), part))) return undefined;
  return kept.batch;
}

/**
 * The account entity's key for a run, as the build will find it (`accountKeyOf`). Undefined while
 * the account is not staged, or when it has no valid entity.
 */
async function stagedAccountKey(run: StagedRun, context: GraphInstanceContext): Promise<string | undefined> {
  const dataset = rawDatasetName('account');
  if (!(await run.readManifest(dataset))) return undefined;
  const texts: string[] = [];
  for await (const batch of run.readJsonTextBatches(dataset)) texts.push(...batch);
  return accountKeyOf(convertRecordTexts('account', texts, context));
}

interface OfferedPart {
  run: StagedRun;
  resource: ResourceName;
  part: number;
  context: GraphInstanceContext;
}

export interface ConversionAheadOptions {
  /**
   * Parts converted at a time while fetching (default: one per core but one, at least one and at
   * most four). The threads started are as many as a build uses, so that a build can borrow them
   * all (`lend`); they run at a lower priority than the worker's main thread
   * (conversion-worker.ts), so they take idle CPU only.
   */
  threads?: number;
  /** Resources with fewer records are left to the build (default `CONVERSION_AHEAD_THRESHOLD`). */
  minRecords?: number;
  /** Told about parts that could not be converted ahead (the build converts them). */
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export class ConversionAhead {
  private readonly threads: number;
  private readonly minRecords: number;
  private readonly queue: OfferedPart[] = [];
  /** Parts being converted, by run key. */
  private readonly inHand = new Map<string, Set<Promise<void>>>();
  private readonly accountKeys = new Map<string, string>();
  /** Runs whose account fetch is over, and the parts of other runs waiting for it. */
  private readonly accountsSettled = new Set<string>();
  private readonly waitingForAccount = new Map<string, OfferedPart[]>();
  private pool: ConversionThreads | undefined;
  /** Builds using the threads now (`lend`): they stay up until every one is done. */
  private lent = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ConversionAheadOptions = {}) {
    this.threads = Math.max(1, options.threads ?? Math.min(availableParallelism() - 1, 4));
    this.minRecords = options.minRecords ?? CONVERSION_AHEAD_THRESHOLD;
  }

  /** Whether a resource of `records` records (Duo's total, or what is staged so far) is converted ahead. */
  wants(records: number): boolean {
    return !this.closed && records >= this.minRecords;
  }

  /**
   * Queues part `part` of a resource's raw dataset, just staged, for conversion. Parts of resources
   * with an edge from the account wait until the run's account fetch is over (`accountSettled`):
   * their conversion needs the account's key, or to know that there is none.
   */
  offer(run: StagedRun, resource: ResourceName, part: number, context: GraphInstanceContext): void {
    if (this.closed || resource === 'account') return;
    const offered: OfferedPart = { run, resource, part, context };
    if (ACCOUNT_RELATIONSHIPS[resource] && !this.accountsSettled.has(run.key)) {
      const waiting = this.waitingForAccount.get(run.key) ?? [];
      waiting.push(offered);
      this.waitingForAccount.set(run.key, waiting);
      return;
    }
    this.queue.push(offered);
    this.pump();
  }

  /**
   * The run's account fetch is over: its record is staged, or the fetch failed for good (no
   * account in the graph). The parts waiting for the account's key are queued.
   */
  accountSettled(runKey: string): void {
    if (this.closed) return;
    this.accountsSettled.add(runKey);
    const waiting = this.waitingForAccount.get(runKey) ?? [];
    this.waitingForAccount.delete(runKey);
    this.queue.push(...waiting);
    this.pump();
  }

  /**
   * Stops converting for a run: parts still queued are dropped (the build converts them), and the
   * ones being converted are waited for, so the build finds every file complete.
   */
  async finish(runKey: string): Promise<void> {
    this.waitingForAccount.delete(runKey);
    this.accountsSettled.delete(runKey);
    for (let index = this.queue.length - 1; index >= 0; index -= 1) {
      if (this.queue[index].run.key === runKey) this.queue.splice(index, 1);
    }
    const inHand = this.inHand.get(runKey);
    if (inHand) await Promise.all(inHand);
    this.accountKeys.delete(runKey);
  }

  /**
   * Lends the threads to a build (starting them if they are not running): already warm, they save
   * the build starting threads of its own. Each thread converts one part at a time, so a build's
   * parts and other runs' parts converted ahead share them fairly.
   */
  lend(): LentConversionThreads {
    const threads = this.threadPool();
    this.lent += 1;
    let released = false;
    return {
      threads,
      release: () => {
        if (released) return;
        released = true;
        this.lent -= 1;
        this.scheduleIdleStop();
      },
    };
  }

  /** Stops the threads; parts still queued are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    this.waitingForAccount.clear();
    await Promise.all([...this.inHand.values()].flatMap((parts) => [...parts]));
    await this.stopThreads();
  }

  private busy(): number {
    let count = 0;
    for (const parts of this.inHand.values()) count += parts.size;
    return count;
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0 && this.busy() < this.threads) {
      const offered = this.queue.shift()!;
      const key = offered.run.key;
      let parts = this.inHand.get(key);
      if (!parts) this.inHand.set(key, (parts = new Set()));
      const converting: Promise<void> = this.convert(offered)
        .catch((error: unknown) => {
          this.options.log?.('A staged part was not converted ahead; the build will convert it', {
            resource: offered.resource,
            part: offered.part,
            error: error instanceof ThreadJobError ? error.failure.message : String(error),
          });
        })
        .finally(() => {
          parts.delete(converting);
          if (parts.size === 0) this.inHand.delete(key);
          this.pump();
        });
      parts.add(converting);
    }
    this.scheduleIdleStop();
  }

  private async convert({ run, resource, part, context }: OfferedPart): Promise<void> {
    const { bytes, version } = await run.readPart(rawDatasetName(resource), part);
    let accountKey = this.accountKeys.get(run.key);
    if (accountKey === undefined && ACCOUNT_RELATIONSHIPS[resource]) {
      accountKey = await stagedAccountKey(run, context);
      if (accountKey !== undefined) this.accountKeys.set(run.key, accountKey);
    }
    // The part's bytes are handed to the thread; a buffer sharing memory with others is copied first.
    const lines = ownedBytes(bytes);
    const job: ConversionJob = {
      resource,
      lines,
      context,
      keepFrom: { source: version },
      ...(accountKey !== undefined ? { accountKey } : {}),
    };
    const file = (await this.threadPool().run(job, [lines.buffer])) as Uint8Array;
    await run.writeFile(convertedAheadFileName(resource, part), file);
  }

  /**
   * The threads, started at the first part: as many as a build uses (one per core, at most four),
   * so that a build can borrow them all; converting ahead uses `threads` of them at a time.
   */
  private threadPool(): ConversionThreads {
    this.pool ??= startConversionThreads(Math.max(this.threads, Math.min(availableParallelism(), 4)));
    return this.pool;
  }

  private scheduleIdleStop(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.pool || this.queue.length > 0 || this.busy() > 0 || this.lent > 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.queue.length === 0 && this.busy() === 0 && this.lent === 0) void this.stopThreads();
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  private async stopThreads(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }
}

/** The file kept for a part converted ahead (made on a conversion thread: conversion-worker.ts). */
export function keptConversion(
  job: Pick<ConversionJob, 'context' | 'accountKey'>,
  source: string,
  sourceSha256: string,
  batch: ConvertedBatch,
  serialize: (value: ConvertedAheadFile) => Uint8Array,
): Uint8Array {
  return serialize({
    format: 2,
    source,
    sourceSha256,
    context: contextKey(job.context),
    accountKey: job.accountKey ?? null,
    batch,
  });
}
