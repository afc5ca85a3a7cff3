/**
 * Typed errors of the Duo Admin API client. Each class says when it is thrown; `retryable` says
 * whether trying the same call later can succeed (the fetch stage maps non-retryable ones to
 * non-retryable Temporal failures). Messages are built from the readonly fields, name what to
 * change, and never contain a secret: text that came from outside is passed through
 * `redactSecrets` first.
 */
import { redactSecrets } from '../util/redact';

/** Base of every error the Duo client throws. */
export abstract class DuoError extends Error {
  abstract readonly retryable: boolean;

  protected constructor(message: string) {
    super(redactSecrets(message));
    this.name = new.target.name;
  }
}

/** A Duo setting is malformed or unsafe (hostname, insecure base URL, request budget); fix the named setting. */
export class DuoConfigurationError extends DuoError {
  readonly retryable = false;

  constructor(
    /** The environment variable or instance setting at fault. */
    readonly setting: string,
    /** What is wrong and what to do. */
    readonly problem: string,
  ) {
    super(`${setting}: ${problem}`);
  }
}

/** Where a failed request went; never holds headers or credentials. */
export interface DuoRequestDescription {
  method: string;
  /** The endpoint path, e.g. `/admin/v1/users`. */
  path: string;
  /** The configured API hostname. */
  apiHostname: string;
}

function describe(request: DuoRequestDescription): string {
  return `${request.method} ${request.path} on ${request.apiHostname}`;
}

function duoReason(code: number | undefined, duoMessage: string | undefined): string {
  if (code === undefined && !duoMessage) return '';
  return ` (${[code, duoMessage].filter((part) => part !== undefined && part !== '').join(' ')})`;
}

/** Duo answered with an HTTP status the client does not expect (for example 400 40002); a request bug. */
export class DuoApiError extends DuoError {
  readonly retryable: boolean = false;
  readonly method: string;
  readonly path: string;
  readonly apiHostname: string;
  /** Duo's `message` (and `message_detail`), redacted. */
  readonly duoMessage: string | undefined;

  constructor(
    request: DuoRequestDescription,
    /** HTTP status. */
    readonly status: number,
    /** Duo's five-digit error code, when the body had one. */
    readonly code: number | undefined,
    duoMessage: string | undefined,
    message?: string,
  ) {
    super(message ?? `Duo answered ${status}${duoReason(code, duoMessage)} to ${describe(request)}.`);
    this.method = request.method;
    this.path = request.path;
    this.apiHostname = request.apiHostname;
    this.duoMessage = duoMessage === undefined ? undefined : redactSecrets(duoMessage);
  }
}

const AUTHENTICATION_ADVICE: Record<number, string> = {
  40101: 'the request carried no usable credentials',
  40102:
    'Duo does not know the integration key, or it is not an Admin API application key: check DUO_INTEGRATION_KEY and DUO_API_HOSTNAME',
  40103:
    'the signature does not match: check DUO_SECRET_KEY (and DUO_INTEGRATION_KEY, DUO_API_HOSTNAME) and that this machine’s clock is correct',
};

/**
 * Duo rejected the credentials (HTTP 401: 40101 missing, 40102 unknown integration key, 40103
 * bad signature or stale date). Not retryable: a person must fix the integration key, secret key,
 * API hostname or clock.
 */
export class DuoAuthenticationError extends DuoApiError {
  override readonly retryable = false;

  constructor(request: DuoRequestDescription, code: number | undefined, duoMessage: string | undefined) {
    const advice =
      (code !== undefined && AUTHENTICATION_ADVICE[code]) ||
      'check DUO_INTEGRATION_KEY, DUO_SECRET_KEY and DUO_API_HOSTNAME, and that this machine’s clock is correct';
    super(
      request,
      401,
      code,
      duoMessage,
      `Duo rejected the credentials for ${describe(request)}${duoReason(code, duoMessage)}: ${advice}.`,
    );
  }
}

/**
 * The Admin API application lacks the grant an endpoint needs (HTTP 403, 40301). Not retryable
 * until someone adds the grant in the Duo Admin Panel; the data of that endpoint is partial.
 */
export class DuoPermissionError extends DuoApiError {
  override readonly retryable = false;

  constructor(
    request: DuoRequestDescription,
    code: number | undefined,
    duoMessage: string | undefined,
    /** The grant the endpoint needs, e.g. "Grant administrators". */
    readonly grant: string,
    /** What to do, in place of the generic advice (an optional source says how to switch it off). */
    advice?: string,
  ) {
    super(
      request,
      403,
      code,
      duoMessage,
      `Duo denied ${describe(request)}${duoReason(code, duoMessage)}: ` +
        (advice ??
          `the Admin API application needs the "${grant}" permission. Add it to the application in the Duo ` +
            `Admin Panel (Applications → the Admin API application → Permissions), or accept that this data stays partial.`),
    );
  }
}

/** Duo answered 404 (40401): the path or id does not exist on this account. */
export class DuoNotFoundError extends DuoApiError {
  override readonly retryable = false;

  constructor(
    request: DuoRequestDescription,
    code: number | undefined,
    duoMessage: string | undefined,
    /** What to do (an optional source says which editions have it and how to switch it off). */
    advice?: string,
  ) {
    super(
      request,
      404,
      code,
      duoMessage,
      `Duo has no resource at ${describe(request)}${duoReason(code, duoMessage)}.${advice ? ` ${advice}` : ''}`,
    );
  }
}

/**
 * Duo kept answering 429 (42901) after the whole backoff schedule. Retryable later: lower
 * DUO_REQUESTS_PER_MINUTE if this happens often (another tool may share the account's limit).
 */
export class DuoRateLimitError extends DuoApiError {
  override readonly retryable = true;

  constructor(
    request: DuoRequestDescription,
    code: number | undefined,
    duoMessage: string | undefined,
    /** Requests made, the first included. */
    readonly attempts: number,
  ) {
    super(
      request,
      429,
      code,
      duoMessage,
      `Duo rate-limited ${describe(request)}${duoReason(code, duoMessage)} on all ${attempts} attempts; ` +
        `try again later, and lower DUO_REQUESTS_PER_MINUTE if another tool shares this account's limit.`,
    );
  }
}

/** Duo kept answering 5xx after the retries. Retryable later. */
export class DuoServerError extends DuoApiError {
  override readonly retryable = true;

  constructor(
    request: DuoRequestDescription,
    status: number,
    code: number | undefined,
    duoMessage: string | undefined,
    /** Requests made, the first included. */
    readonly attempts: number,
  ) {
    super(
      request,
      status,
      code,
      duoMessage,
      `Duo failed ${describe(request)} with ${status}${duoReason(code, duoMessage)} on all ${attempts} attempts; try again later.`,
    );
  }
}

/** Duo could not be reached, or the connection broke or timed out, after the retries. Retryable later. */
export class DuoNetworkError extends DuoError {
  readonly retryable = true;
  /** The network library's message, redacted. */
  readonly causeMessage: string;
  readonly method: string;
  readonly path: string;
  readonly apiHostname: string;

  constructor(
    request: DuoRequestDescription,
    /** The network library's error code, e.g. `ECONNRESET`, `UND_ERR_HEADERS_TIMEOUT`. */
    readonly causeCode: string | undefined,
    causeMessage: string,
    /** Requests made, the first included. */
    readonly attempts: number,
  ) {
    super(
      `Could not complete ${describe(request)} after ${attempts} attempts: ${causeCode ? `${causeCode} ` : ''}${causeMessage}. ` +
        `Check network access to the API hostname (DUO_API_HOSTNAME).`,
    );
    this.method = request.method;
    this.path = request.path;
    this.apiHostname = request.apiHostname;
    this.causeMessage = redactSecrets(causeMessage);
  }
}

/**
 * Duo's answer could not be used: not JSON, not Duo's envelope, a success status with
 * `stat: "FAIL"`, or a redirect (refused: credentials must never follow one). Retryable, since a
 * truncated body is usually transient — except a redirect, which repeats until someone fixes the
 * hostname or the network path.
 */
export class DuoBadResponseError extends DuoError {
  readonly retryable: boolean;
  readonly method: string;
  readonly path: string;
  readonly apiHostname: string;

  constructor(
    request: DuoRequestDescription,
    /** HTTP status of the unusable answer. */
    readonly status: number,
    /** What was wrong with it. */
    readonly reason: string,
    /** Requests made, the first included. */
    readonly attempts: number,
  ) {
    super(`Duo's answer to ${describe(request)} (HTTP ${status}) is unusable after ${attempts} attempts: ${reason}.`);
    this.retryable = status < 300 || status >= 400;
    this.method = request.method;
    this.path = request.path;
    this.apiHostname = request.apiHostname;
  }
}

/**
 * Why a list could not be read to its end: a page that cannot be followed (no `metadata`, a
 * `next_offset` that does not move forward, an empty page that promises more), or a last page
 * after which the records read do not add up to Duo's `total_objects`.
 */
export type DuoPagingStop =
  'missing-metadata' | 'offset-did-not-advance' | 'empty-page' | 'count-mismatch' | 'truncated';

/** Where and how a list read stopped short (see `DuoIncompleteListError`). */
export interface DuoIncompleteListDetails {
  reason: DuoPagingStop;
  /** Offset of the page at which reading stopped. */
  offset: number;
  /** Records read from the list's start, when known (a resumed read knows what earlier attempts read). */
  recordsRead?: number;
  /** Duo's `total_objects` on that page, when sent. */
  totalObjects?: number;
  /** The `next_offset` the page stated. */
  nextOffset?: number;
  /** Records on that page. */
  pageRecords?: number;
  /** The answer's field saying it was cut short (`truncated`). */
  truncatedFlag?: string;
}

const INCOMPLETE_LIST_PROBLEM: Record<DuoPagingStop, (d: DuoIncompleteListDetails) => string> = {
  'missing-metadata': (d) => `the page at offset ${d.offset} has no "metadata", so where the list goes on is unknown`,
  'offset-did-not-advance': (d) =>
    `the page at offset ${d.offset} gives next_offset ${d.nextOffset}, which does not move forward`,
  'empty-page': (d) => `the page at offset ${d.offset} holds no records yet gives next_offset ${d.nextOffset}`,
  'count-mismatch': (d) =>
    `the list ended after ${d.recordsRead} records, but Duo announced ${d.totalObjects} (total_objects)`,
  truncated: (d) => `Duo says the answer was cut short (${d.truncatedFlag ?? 'truncated'})`,
};

/**
 * A list could not be read to the end the way Duo ends one (see `DuoClient.pages`). Not retryable:
 * the resource fails for good, its types are reported partial, and JupiterOne keeps their previous
 * data instead of deleting what was not read.
 */
export class DuoIncompleteListError extends DuoError {
  readonly retryable = false;
  readonly method: string;
  readonly path: string;
  readonly apiHostname: string;

  constructor(
    request: DuoRequestDescription,
    readonly details: DuoIncompleteListDetails,
  ) {
    const read =
      details.reason !== 'count-mismatch' && details.recordsRead !== undefined
        ? ` (${details.recordsRead} records read${details.totalObjects !== undefined ? ` of ${details.totalObjects} announced` : ''})`
        : '';
    super(
      `Duo's list at ${describe(request)} cannot be read completely: ${INCOMPLETE_LIST_PROBLEM[details.reason](details)}${read}. ` +
        'Its data is reported partial, so JupiterOne keeps what it has; if this repeats, report it to Duo support.',
    );
    this.method = request.method;
    this.path = request.path;
    this.apiHostname = request.apiHostname;
  }
}
