/**
 * Keeping secrets out of text: the one place that decides what a credential looks like.
 *
 * Two jobs. `redactSecrets` cleans text that came from outside or carries a request's details (a
 * Duo or JupiterOne error body, a network library's message, a log line) before it becomes part
 * of an error or a log: every literal secret the caller names, and anything shaped like a
 * credential — an Authorization value, a `Basic`/`Bearer` credential, a hex string the length of a
 * Duo signature, a `secret_key` value — becomes `[REDACTED]`, and only that: the words around it
 * stay, so "invalid bearer token." still reads as it was written. `describeValue` is for messages
 * about a setting's value: it quotes the value only when it cannot be a secret pasted into the
 * wrong place, and otherwise says what is wrong without it.
 */
export const REDACTED = '[REDACTED]';

/**
 * Literal secrets shorter than this are not searched for: they would redact ordinary words, and
 * the secrets duo-j1 holds (Duo secret keys of 40 characters, JupiterOne API keys) are far longer.
 */
export const MIN_REDACTED_SECRET_LENGTH = 8;

/** Characters of a credential token (RFC 7235's token68, plus `.` for JWTs). */
const TOKEN = String.raw`[A-Za-z0-9+/=._~-]*[A-Za-z0-9+/=_~-]`;

/**
 * True when a word after `Basic`/`Bearer` in free text is a credential rather than prose ("a bearer
 * token", "Bearer authentication"): long enough, and holding a digit or a symbol, or very long.
 */
function isCredentialLike(token: string): boolean {
  return token.length >= 8 && (/[0-9+/=_~-]/.test(token) || token.length >= 24);
}

const CREDENTIAL_PATTERNS: ReadonlyArray<readonly [RegExp, (match: string, ...groups: string[]) => string]> = [
  // `Authorization: Basic abc`, `"authorization":"Bearer abc"`, `authorization=abc`: the value is
  // a credential whatever it looks like; its scheme word is kept.
  [
    new RegExp(String.raw`\b(authorization["']?\s*[:=]\s*["']?)((?:Basic|Bearer)\s+)?[^\s"',;]+`, 'gi'),
    (_match, prefix, scheme) => `${prefix}${scheme ?? ''}${REDACTED}`,
  ],
  // `Basic …`/`Bearer …` elsewhere, when what follows looks like a credential.
  [
    new RegExp(String.raw`\b(Basic|Bearer)(\s+)(${TOKEN})`, 'gi'),
    (match, scheme, space, token) => (isCredentialLike(token) ? `${scheme}${space}${REDACTED}` : match),
  ],
  // Duo signatures: HMAC-SHA512 (128 hex digits) and HMAC-SHA1 (40).
  [/\b[0-9a-f]{128}\b/gi, () => REDACTED],
  [/\b[0-9a-f]{40}\b/gi, () => REDACTED],
  // An integration's `secret_key`, in JSON or as `secret_key=…`.
  [/("?secret_key"?\s*[:=]\s*)("[^"]*"|[^\s,;}]+)/gi, (_match, prefix) => `${prefix}${REDACTED}`],
];

/** `text` with every listed secret and everything shaped like a credential replaced by `[REDACTED]`. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let result = text;
  for (const secret of secrets) {
    if (secret && secret.length >= MIN_REDACTED_SECRET_LENGTH) result = result.split(secret).join(REDACTED);
  }
  for (const [pattern, replace] of CREDENTIAL_PATTERNS) {
    result = result.replace(pattern, replace as (match: string, ...groups: string[]) => string);
  }
  return result;
}

/** Values longer than this are never quoted in a message, secret or not. */
const MAX_SHOWN_LENGTH = 64;

/**
 * True for a value shaped like a key or token: 16 or more characters without spaces, dots or colons
 * (which hostnames, URLs, paths and names have), mixing letters and digits, and either mixing
 * upper and lower case or 32 characters long (hex and base32 keys). A Duo secret key pasted into
 * `DUO_API_HOSTNAME` is one; `CORP_DUO_SECRET_KEY_2` (a variable's name) and a Duo integration
 * key (which is not secret) are not.
 */
export function looksLikeSecret(value: string): boolean {
  return (
    /^[A-Za-z0-9+/=_~-]{16,}$/.test(value) &&
    /[A-Za-z]/.test(value) &&
    /[0-9]/.test(value) &&
    ((/[a-z]/.test(value) && /[A-Z]/.test(value)) || value.length >= 32)
  );
}

/**
 * A file path for a message: as it is, unless it is very long or a part of it looks like a key
 * (a secret pasted where a path belongs). Only long parts count: temporary folders and content
 * hashes have names of mixed letters and digits too.
 */
export function describePath(filePath: string, knownSecrets: readonly (string | undefined)[] = []): string {
  const hidden =
    filePath.length > 1024 ||
    containsKnownSecret(filePath, knownSecrets) ||
    filePath.split(/[\\/]/).some((part) => part.length >= 32 && hasSecretShapedPart(part));
  return hidden ? `(a ${filePath.length.toLocaleString('en-US')}-character path, not shown)` : filePath;
}

function containsKnownSecret(value: string, knownSecrets: readonly (string | undefined)[]): boolean {
  return knownSecrets.some(
    (secret) => secret !== undefined && secret.length >= MIN_REDACTED_SECRET_LENGTH && value.includes(secret),
  );
}

/** The value, or a word of it (`https://<key>`, `<key>.duosecurity.com`), looks like a key. */
function hasSecretShapedPart(value: string): boolean {
  return looksLikeSecret(value) || value.split(/[^A-Za-z0-9+=_~-]+/).some(looksLikeSecret);
}

/**
 * A value for a message about it: quoted when it is short and cannot be a secret, otherwise a
 * parenthesised description giving only its length. `knownSecrets` are values the caller knows to be secrets (configured secret keys);
 * a value containing one is never shown.
 */
export function describeValue(value: string, knownSecrets: readonly (string | undefined)[] = []): string {
  const length = value.length.toLocaleString('en-US');
  if (containsKnownSecret(value, knownSecrets) || hasSecretShapedPart(value)) {
    return `(a ${length}-character value that looks like a key or secret, not shown)`;
  }
  if (value.length > MAX_SHOWN_LENGTH) return `(a ${length}-character value, not shown)`;
  return JSON.stringify(value);
}
