/**
 * JSON that is safe inside a `<script>` element: `<`, `>` and `&` become `\u` escapes, so no value
 * (a user named `</script><script>…`, say) can close the element or open a comment, and U+2028/2029
 * are escaped for old JavaScript parsers. `JSON.parse` reads the text back unchanged.
 */

/** `json` with the characters above escaped (character by character: any slice of a text escapes alike). */
export function scriptSafe(json: string): string {
  return json.replace(
    /[<>&\u2028\u2029]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `value` as JSON safe inside a `<script>` element. */
export function scriptSafeJson(value: unknown): string {
  return scriptSafe(JSON.stringify(value));
}
