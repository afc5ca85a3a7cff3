/**
 * Removes credentials from text before it becomes part of an error message or a log line.
 *
 * Text from outside (a Duo error body, a network library's message) could echo a header back, so
 * every such string passes through here: `Basic …`/`Bearer …` credentials, `Authorization: …`
 * values, hex strings the length of a Duo signature (40 or 128 hex digits), `secret_key` values,
 * and any literal secret the caller names are replaced by `[REDACTED]`.
 */
export const REDACTED = '[REDACTED]';

const CREDENTIAL_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+/gi, `$1 ${REDACTED}`],
  [/\b(authorization\s*[:=]\s*)(?!(?:Basic|Bearer)\s)[^\s,;]+/gi, `$1${REDACTED}`],
  [/\b[0-9a-f]{128}\b/gi, REDACTED],
  [/\b[0-9a-f]{40}\b/gi, REDACTED],
  [/("?secret_key"?\s*[:=]\s*)("[^"]*"|[^\s,;}]+)/gi, `$1${REDACTED}`],
];

/** `text` with every recognisable credential and every listed secret replaced by `[REDACTED]`. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let result = text;
  for (const secret of secrets) {
    // Very short strings would redact ordinary words; real secrets are long.
    if (secret && secret.length >= 8) result = result.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) result = result.replace(pattern, replacement);
  return result;
}
