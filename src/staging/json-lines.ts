/**
 * The JSON texts of an NDJSON part's bytes (one record per line, as the staging store writes them),
 * in order; empty lines are skipped. `indexOf` finds the line breaks natively.
 */
export function jsonLineTexts(bytes: Uint8Array): string[] {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const texts: string[] = [];
  let start = 0;
  for (let newline = buffer.indexOf(0x0a); newline !== -1; newline = buffer.indexOf(0x0a, start)) {
    if (newline > start) texts.push(buffer.toString('utf8', start, newline));
    start = newline + 1;
  }
  if (start < buffer.length) texts.push(buffer.toString('utf8', start));
  return texts;
}
