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

/** The bytes of JSON's punctuation, for code that reads or writes JSON texts byte by byte. */
export const JSON_BYTE = {
  quote: 0x22,
  backslash: 0x5c,
  comma: 0x2c,
  openingBracket: 0x5b,
  closingBracket: 0x5d,
  lineBreak: 0x0a,
} as const;
const QUOTE = JSON_BYTE.quote;
const BACKSLASH = JSON_BYTE.backslash;

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

/**
 * Reads back what `writeJsonString` writes plainly: the index of the quote that ends the JSON
 * string whose content starts at `from`, when that content holds no escape and no control
 * character, so that its bytes are the text's UTF-8 bytes as they are; -1 otherwise, or when no
 * quote comes before `end`.
 */
export function plainJsonStringEnd(bytes: Uint8Array, from: number, end: number): number {
  for (let index = from; index < end; index += 1) {
    const byte = bytes[index];
    if (byte === QUOTE) return index;
    if (byte === BACKSLASH || byte < 0x20) return -1;
  }
  return -1;
}
