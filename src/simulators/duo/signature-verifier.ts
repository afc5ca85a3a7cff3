/**
 * Verifies a request's Duo signature the way Duo's servers do.
 *
 * The wire need not look like what was signed: clients may send the query unsorted, with `+` for
 * spaces, or with a bare trailing `?`. So parameters are decoded from the wire and canonicalised
 * again. The host in the canonical request is the configured API hostname, never the `Host`
 * header (the simulator is dialled on a loopback address). The date comes from `X-Duo-Date` when
 * present, else `Date`, and must be close to the server's clock. A 40-hex-digit signature is
 * checked as v2/HMAC-SHA1; a 128-digit one as v2/HMAC-SHA512 or v5 (which hashes every `X-Duo-*`
 * header received).
 */
import { timingSafeEqual } from 'node:crypto';
import {
  computeDuoSignature,
  type DuoParams,
  type DuoRequestToSign,
  type DuoSignatureVersion,
} from '../../duo/signing';

/** A request as received, before any interpretation. */
export interface ReceivedDuoRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The raw query string after `?` (empty when none). */
  rawQuery: string;
  /** Header names lower-cased, as node:http gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

/** Why a request was refused; the request log shows it, the client sees only Duo's code. */
export type DuoRejection =
  | 'missing-credentials'
  | 'unknown-integration-key'
  | 'missing-date'
  | 'unparseable-date'
  | 'stale-date'
  | 'malformed-parameters'
  | 'bad-signature';

export type DuoVerification =
  | { ok: true; integrationKey: string; signatureVersion: DuoSignatureVersion; params: DuoParams }
  | { ok: false; integrationKey?: string; rejection: DuoRejection; status: number; code: number; message: string };

export interface DuoVerifierSettings {
  /** The API hostname clients sign for. */
  apiHostname: string;
  /** Secret key of an integration key, or undefined when the key is unknown. */
  secretKeyOf(integrationKey: string): string | undefined;
  /** How far the request date may be from `now`. */
  maxClockSkewMs: number;
  /** The server's clock (milliseconds since the epoch). */
  now: number;
}

/**
 * Decodes an `application/x-www-form-urlencoded` string (a query or a form body): `+` is a space,
 * `%XX` are UTF-8 bytes. Throws `URIError` on a malformed escape.
 */
export function decodeDuoFormParams(raw: string): Array<[string, string]> {
  const params: Array<[string, string]> = [];
  if (raw === '') return params;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const key = equals === -1 ? pair : pair.slice(0, equals);
    const value = equals === -1 ? '' : pair.slice(equals + 1);
    params.push([decodeURIComponent(key.replace(/\+/g, ' ')), decodeURIComponent(value.replace(/\+/g, ' '))]);
  }
  return params;
}

function header(headers: ReceivedDuoRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function reject(rejection: DuoRejection, integrationKey?: string): Extract<DuoVerification, { ok: false }> {
  switch (rejection) {
    case 'missing-credentials':
      return { ok: false, rejection, status: 401, code: 40101, message: 'Missing request credentials' };
    case 'unknown-integration-key':
      return {
        ok: false,
        rejection,
        integrationKey,
        status: 401,
        code: 40102,
        message: 'Invalid integration key in request credentials',
      };
    case 'malformed-parameters':
      return { ok: false, rejection, integrationKey, status: 400, code: 40002, message: 'Invalid request parameters' };
    default:
      // Duo answers a missing, unreadable or stale date like any other signature mismatch.
      return {
        ok: false,
        rejection,
        integrationKey,
        status: 401,
        code: 40103,
        message: 'Invalid signature in request credentials',
      };
  }
}

function sameHex(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(received.toLowerCase(), 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Checks credentials, date and signature of a received request. */
export function verifyDuoRequest(request: ReceivedDuoRequest, settings: DuoVerifierSettings): DuoVerification {
  const authorization = header(request.headers, 'authorization') ?? '';
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (!basic) return reject('missing-credentials');
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return reject('missing-credentials');
  const integrationKey = decoded.slice(0, colon);
  const signature = decoded.slice(colon + 1);

  const secretKey = settings.secretKeyOf(integrationKey);
  if (secretKey === undefined) return reject('unknown-integration-key', integrationKey);

  const date = header(request.headers, 'x-duo-date') ?? header(request.headers, 'date');
  if (!date) return reject('missing-date', integrationKey);
  const sentAt = Date.parse(date);
  if (Number.isNaN(sentAt)) return reject('unparseable-date', integrationKey);
  if (Math.abs(settings.now - sentAt) > settings.maxClockSkewMs) return reject('stale-date', integrationKey);

  const method = request.method.toUpperCase();
  const contentType = (header(request.headers, 'content-type') ?? '').toLowerCase();
  let queryParams: Array<[string, string]>;
  let formParams: Array<[string, string]> | undefined;
  try {
    queryParams = decodeDuoFormParams(request.rawQuery);
    if (method !== 'GET' && method !== 'DELETE' && contentType.startsWith('application/x-www-form-urlencoded')) {
      formParams = decodeDuoFormParams(request.body.toString('utf8'));
    }
  } catch {
    return reject('malformed-parameters', integrationKey);
  }

  const duoHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.toLowerCase().startsWith('x-duo-') && value !== undefined) {
      duoHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }

  // v2 signs form-body parameters on line 5; v5 signs the query there and hashes the raw body.
  const v2Request: DuoRequestToSign = {
    method,
    host: settings.apiHostname,
    path: request.path,
    params: formParams ?? queryParams,
    date,
  };
  const candidates: Array<[DuoSignatureVersion, DuoRequestToSign]> =
    signature.length === 40
      ? [['v2-sha1', v2Request]]
      : signature.length === 128
        ? [
            ['v5', { ...v2Request, params: queryParams, body: request.body, duoHeaders }],
            ['v2-sha512', v2Request],
          ]
        : [];
  for (const [version, toSign] of candidates) {
    if (sameHex(computeDuoSignature(version, secretKey, toSign), signature)) {
      return { ok: true, integrationKey, signatureVersion: version, params: toSign.params };
    }
  }
  return reject('bad-signature', integrationKey);
}
