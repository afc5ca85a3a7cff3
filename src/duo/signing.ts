/**
 * Duo Admin API request signing (pure functions, shared by the client and the simulator's verifier).
 *
 * Duo authenticates every request with HTTP Basic auth whose password is a hex HMAC over a
 * newline-joined "canonical request". Two versions are in use:
 *
 * - v2: date, method, host, path, canonical parameters (5 lines); HMAC-SHA1 in Duo's original
 *   documentation, HMAC-SHA512 in every official client since late 2022. Duo accepts both.
 * - v5: the v2 lines plus the SHA-512 of the body and the SHA-512 of the `X-Duo-*` headers
 *   (7 lines), always HMAC-SHA512. Required by the v2/v3 integrations handlers.
 *
 * The date line must be byte-identical to the `Date` (or `X-Duo-Date`) header, which is why a
 * retry signs again with a fresh date instead of replaying old headers.
 */
import { createHash, createHmac } from 'node:crypto';

/** Which canonical form and digest a request is signed with. */
export type DuoSignatureVersion = 'v5' | 'v2-sha512' | 'v2-sha1';

export const DUO_SIGNATURE_VERSIONS: readonly DuoSignatureVersion[] = ['v5', 'v2-sha512', 'v2-sha1'];

/** Request parameters as ordered key/value pairs; a key may repeat. */
export type DuoParams = ReadonlyArray<readonly [string, string]>;

/** Everything that goes into a signature except the secret. */
export interface DuoRequestToSign {
  method: string;
  /** The configured API hostname (never the address actually dialled). */
  host: string;
  /** The path exactly as sent, without the query string. */
  path: string;
  /** Query parameters (or, for v2 form posts, body parameters). */
  params: DuoParams;
  /** RFC 2822 date string, identical to the `Date`/`X-Duo-Date` header sent. */
  date: string;
  /** Raw request body (v5 hashes it; GET sends none). */
  body?: string | Buffer;
  /** `X-Duo-*` headers sent with the request (v5 hashes them; `X-Duo-Date` included when sent). */
  duoHeaders?: Readonly<Record<string, string>>;
}

const SHA512_OF_NOTHING = sha512Hex('');

/**
 * Percent-encodes one key or value the way Duo canonicalises it: every UTF-8 byte except
 * `A–Z a–z 0–9 - _ . ~` becomes `%XX` with upper-case hex, so a space is `%20`, never `+`.
 */
export function encodeDuoComponent(value: string): string {
  // encodeURIComponent already leaves exactly the unreserved set plus `!'()*` unescaped, and
  // writes upper-case hex; Duo escapes those five characters as well.
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The canonical parameter line: encoded `key=value` pairs sorted by encoded key, a repeated
 * key's values sorted too, joined with `&` (Duo's reference rule, from its Python client).
 * This exact string is also what the client puts on the wire as the query.
 */
export function canonicalizeParams(params: DuoParams): string {
  const valuesByKey = new Map<string, string[]>();
  for (const [key, value] of params) {
    const encodedKey = encodeDuoComponent(key);
    const values = valuesByKey.get(encodedKey);
    if (values) values.push(encodeDuoComponent(value));
    else valuesByKey.set(encodedKey, [encodeDuoComponent(value)]);
  }
  const pairs: string[] = [];
  for (const key of [...valuesByKey.keys()].sort()) {
    for (const value of valuesByKey.get(key)!.sort()) pairs.push(`${key}=${value}`);
  }
  return pairs.join('&');
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 2822 date in UTC, in the `-0000` form Duo's reference client sends: `Mon, 05 Jan 2026 10:00:00 -0000`. */
export function formatDuoDate(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${WEEKDAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} -0000`
  );
}

/** Lower-case hex SHA-512. */
export function sha512Hex(data: string | Buffer): string {
  return createHash('sha512').update(data).digest('hex');
}

/**
 * SHA-512 of the `X-Duo-*` headers for v5 line 7: names lower-cased and sorted, then
 * `name, value, name, value…` joined with NUL bytes. No headers → SHA-512 of the empty string.
 */
export function hashDuoHeaders(headers: Readonly<Record<string, string>> | undefined): string {
  if (!headers) return SHA512_OF_NOTHING;
  const entries = Object.entries(headers)
    .map(([name, value]) => [name.toLowerCase(), value] as const)
    .filter(([name]) => name.startsWith('x-duo-'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return SHA512_OF_NOTHING;
  return sha512Hex(entries.flatMap(([name, value]) => [name, value]).join('\0'));
}

/** The five-line v2 canonical request. */
export function canonicalRequestV2(request: DuoRequestToSign): string {
  return [
    request.date,
    request.method.toUpperCase(),
    request.host.toLowerCase(),
    request.path,
    canonicalizeParams(request.params),
  ].join('\n');
}

/** The seven-line v5 canonical request. */
export function canonicalRequestV5(request: DuoRequestToSign): string {
  return [
    canonicalRequestV2(request),
    request.body === undefined ? SHA512_OF_NOTHING : sha512Hex(request.body),
    hashDuoHeaders(request.duoHeaders),
  ].join('\n');
}

/** Hex HMAC signature of a request in the given version. */
export function computeDuoSignature(
  version: DuoSignatureVersion,
  secretKey: string,
  request: DuoRequestToSign,
): string {
  switch (version) {
    case 'v5':
      return createHmac('sha512', secretKey).update(canonicalRequestV5(request)).digest('hex');
    case 'v2-sha512':
      return createHmac('sha512', secretKey).update(canonicalRequestV2(request)).digest('hex');
    case 'v2-sha1':
      return createHmac('sha1', secretKey).update(canonicalRequestV2(request)).digest('hex');
  }
}

/** The `Authorization` header value: Basic base64(integrationKey ":" signature). */
export function duoAuthorizationHeader(integrationKey: string, signature: string): string {
  return `Basic ${Buffer.from(`${integrationKey}:${signature}`).toString('base64')}`;
}

/** Signs a request; returns the header value to send as `Authorization`. */
export function signDuoRequest(
  version: DuoSignatureVersion,
  credentials: { integrationKey: string; secretKey: string },
  request: DuoRequestToSign,
): string {
  return duoAuthorizationHeader(
    credentials.integrationKey,
    computeDuoSignature(version, credentials.secretKey, request),
  );
}
