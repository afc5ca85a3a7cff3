/**
 * JSON texts written straight into bytes: for writers that put many short JSON strings (keys,
 * hashes) into a buffer one after the other. `Buffer.write` of `JSON.stringify(text)` costs a string
 * and a call into the runtime per text; keys are nearly always printable ASCII, which is copied here
 * character by character, and anything else takes that way.
 */

/** The most bytes `writeJsonString` writes for a text of `length` UTF-16 units (a `\u` escape each, and the quotes). */
export function jsonStringBytesAtMost(length: number): number {
  return length * 6 + 2;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Writes `JSON.stringify(text)` as UTF-8 into `target` at `offset` (which must have room for
 * `jsonStringBytesAtMost(text.length)` bytes); returns the offset after it.
 */
export function writeJsonString(target: Buffer, offset: number, text: string): number {
  target[offset] = QUOTE;
  let at = offset + 1;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    // Control characters, the quote and the backslash are escaped, other characters are not ASCII.
    if (code < 0x20 || code > 0x7e || code === QUOTE || code === BACKSLASH) {
      return offset + target.write(JSON.stringify(text), offset, 'utf8');
    }
    target[at] = code;
    at += 1;
  }
  target[at] = QUOTE;
  return at + 1;
}
