/**
 * NDJSON datasets (one JSON text per line, as the graph build stages its objects), read through a
 * run's small core (store.ts): each part whole, its lines split where they lie. `indexOf` finds the
 * line breaks natively; splitting by hand rather than with `readline` keeps the lines as bytes for
 * consumers that pass them on unread, and one batch per part saves the promise per line an async
 * iterator of lines would cost.
 */
import { StagedInputMissingError, type StagedRun } from './store';

/** The non-empty lines of NDJSON bytes, in order, as views of those bytes (copy what must outlive them). */
export function jsonLines(bytes: Uint8Array): Buffer[] {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lines: Buffer[] = [];
  let start = 0;
  for (let newline = buffer.indexOf(0x0a); newline !== -1; newline = buffer.indexOf(0x0a, start)) {
    if (newline > start) lines.push(buffer.subarray(start, newline));
    start = newline + 1;
  }
  if (start < buffer.length) lines.push(buffer.subarray(start));
  return lines;
}

/**
 * The lines of a complete dataset, one batch per part, in part order. Throws
 * `StagedInputMissingError` when the dataset has no manifest or a part is gone.
 */
export async function* readDatasetLines(run: StagedRun, dataset: string): AsyncIterable<Buffer[]> {
  const manifest = await run.readManifest(dataset);
  if (!manifest) throw new StagedInputMissingError(run.key, dataset, 'no manifest (never completed, or removed)');
  // The next part is read while the caller works on this one: both consumers (a delivery writing
  // files, an upload sending bodies) would otherwise wait for every read with nothing to do.
  const read = (position: number): Promise<Buffer> => {
    const reading = run.readPart(dataset, manifest.parts[position].index);
    // Handled at once, yet raised where it is awaited: a part that fails while the caller is busy
    // with the one before, or after it stopped reading, must not be an unhandled rejection.
    reading.catch(() => undefined);
    return reading;
  };
  let next = manifest.parts.length > 0 ? read(0) : undefined;
  for (let position = 0; next !== undefined; position += 1) {
    const bytes = await next;
    next = position + 1 < manifest.parts.length ? read(position + 1) : undefined;
    yield jsonLines(bytes);
  }
}

/** Like `readDatasetLines`, each line decoded to its JSON text. */
export async function* readDatasetTexts(run: StagedRun, dataset: string): AsyncIterable<string[]> {
  for await (const lines of readDatasetLines(run, dataset)) yield lines.map((line) => line.toString('utf8'));
}
