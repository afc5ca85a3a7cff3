/**
 * File helpers for the local output. Every file it writes holds personal data (names, emails, phone
 * numbers), so files are 0600 and folders 0700 whatever the process umask allows.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

export async function makePrivateDir(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Content of a file: text, bytes, or pieces of text written one after another (a large file need
 * not exist as one string).
 */
export type FileContent = string | Buffer | Iterable<string>;

/** Creates a new 0600 file; fails when it already exists, so a name collision never overwrites data. */
export async function writeNewPrivateFile(file: string, content: FileContent): Promise<void> {
  await writeFile(file, content, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
}

/**
 * Creates a new 0600 file from byte pieces, in order, with one vectored write: the pieces are not
 * first copied into one buffer (a graph file's are its objects' bytes, views of what was read).
 * libuv writes them all in that one request, in runs of at most IOV_MAX, resuming after short
 * writes; a write that still ends short is an error, not a truncated file. Fails when the file
 * already exists, like `writeNewPrivateFile`.
 */
export async function writeNewPrivateFilePieces(file: string, pieces: readonly Uint8Array[]): Promise<void> {
  const handle = await open(file, 'wx', PRIVATE_FILE_MODE);
  try {
    const expected = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
    const { bytesWritten } = await handle.writev(pieces);
    if (bytesWritten !== expected) {
      throw new Error(`${file}: wrote ${bytesWritten} of ${expected} bytes; is the disk full?`);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Writes a 0600 file under a temporary name and renames it into place, so a reader sees either the
 * old content or the new one, never a torn file.
 */
export async function replacePrivateFile(file: string, content: FileContent): Promise<void> {
  const temporary = `${file}.tmp-${randomUUID()}`;
  try {
    await writeFile(temporary, content, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export function isErrnoException(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** Reads and parses a JSON file; undefined when it does not exist, a clear error when it is not JSON. */
export async function readJsonFileIfPresent<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${file} is not readable JSON (${(error as Error).message}).`, { cause: error });
  }
}
