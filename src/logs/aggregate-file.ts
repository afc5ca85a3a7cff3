/**
 * The aggregates of an instance's logs on disk: one gzip'd JSON file per instance in the data
 * folder, replaced whole on every change (written beside, flushed, renamed over), so a reader sees
 * the previous version or the new one, never half of one. Its SHA-256 is its identity: the log tail
 * keeps the digest of the file its state agrees with, and each file names the digest it was folded
 * from and the cursor its page was read at, which is what makes a retried fold recognisable
 * (docs/logs.md). Gzip's CRC catches a damaged file.
 *
 * Why a file and not workflow state: for a 100,000-user tenant the aggregates are megabytes, over
 * Temporal's 2 MiB payload limit (docs/logs.md has the figures). Workflow state keeps what must
 * survive anything — the cursor and the digest — and the file is rebuilt from Duo's log (kept 180
 * days) when its host is lost.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { FurtherLogStream, LogCursor } from '../workflows/log-tail-contract';
import type { AdministrationAggregates } from './administration';
import type { TrustMonitorAggregates } from './trust-monitor';
import type { AuthenticationAggregates } from './aggregates';

export interface AggregateFile {
  format: 1;
  instanceId: string;
  /** Where the aggregates start: the backfill window's first millisecond. */
  from: number;
  /** Where reading goes on from. */
  cursor: LogCursor;
  /**
   * True once the backfill window has been read to Duo's availability delay: before that the
   * aggregates cover part of the window and the graph does not show them.
   */
  backfilled: boolean;
  /**
   * The digest of the file this one was folded from, and the log and cursor of the page folded in
   * (no `stream`: the authentication log).
   */
  parent?: { digest: string; cursor: LogCursor; stream?: FurtherLogStream; events: number; caughtUp: boolean };
  authentication: AuthenticationAggregates;
  /** The administrator and activity logs; absent until the first of their pages is folded. */
  administration?: AdministrationFileSection;
}

export interface AdministrationFileSection {
  /** Where each log's aggregates start (epoch ms, a whole second). */
  from: Partial<Record<FurtherLogStream, number>>;
  /** Where each log's reading goes on from. */
  cursors: Partial<Record<FurtherLogStream, LogCursor>>;
  /** Which logs were read through their backfill window. */
  backfilled: Partial<Record<FurtherLogStream, boolean>>;
  aggregates: AdministrationAggregates;
  /** Trust Monitor's events, once its first page is folded. */
  trustMonitor?: TrustMonitorAggregates;
  /** The logs Duo refused (the account's edition has none), and why. */
  refused?: Partial<Record<FurtherLogStream, string>>;
}

export interface StoredAggregateFile {
  file: AggregateFile;
  digest: string;
  bytes: number;
}

/** `<dataDir>/logs/<instanceId>/aggregates.json.gz` */
export function aggregateFilePath(dataDir: string, instanceId: string): string {
  return path.join(dataDir, 'logs', instanceId, 'aggregates.json.gz');
}

// Compressed on libuv's threads: megabytes of aggregates would otherwise hold the worker's event
// loop (and the ingestion activities sharing it) for a good part of a second on every fold.
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

async function encodeAggregateFile(file: AggregateFile): Promise<{ bytes: Buffer; digest: string }> {
  const bytes = await gzipAsync(Buffer.from(JSON.stringify(file), 'utf8'));
  return { bytes, digest: createHash('sha256').update(bytes).digest('hex') };
}

/** The file, or undefined when there is none. Throws when it is damaged. */
export async function readAggregateFile(filePath: string): Promise<StoredAggregateFile | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(filePath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const file = JSON.parse((await gunzipAsync(bytes)).toString('utf8')) as AggregateFile;
  return { file, digest: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

/** Replaces the file whole (0600: it holds who used what); returns its digest and size. */
export async function writeAggregateFile(filePath: string, file: AggregateFile): Promise<StoredAggregateFile> {
  const { bytes, digest } = await encodeAggregateFile(file);
  await mkdir(path.dirname(filePath), { recursive: true, mode: 0o700 });
  const temporary = `${filePath}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, filePath);
  // The rename itself must survive a crash of the host, or a digest the tail recorded could name
  // a file that comes back as its predecessor.
  const folder = await open(path.dirname(filePath), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
  return { file, digest, bytes: bytes.length };
}

export async function removeAggregateFile(filePath: string): Promise<void> {
  await rm(path.dirname(filePath), { recursive: true, force: true });
}

export function sameCursor(a: LogCursor | undefined, b: LogCursor | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.mintime === b.mintime &&
    a.maxtime === b.maxtime &&
    a.nextOffset === b.nextOffset &&
    a.skip === b.skip
  );
}
