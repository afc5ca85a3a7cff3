/**
 * The Duo Admin API client: signed GET requests over undici, Duo's offset paging, the shared
 * per-endpoint rate budget, Duo's 429 backoff, retries of transient failures, and typed errors.
 *
 * Safety rules it enforces: requests go only to a validated Duo API hostname over HTTPS (or to a
 * loopback simulator when explicitly configured), redirects are never followed, every retry is
 * signed again with a fresh date, the query sent is byte-for-byte the one signed, secret fields
 * (`secret_key`) are removed from records before they leave the client, and no error or log line
 * carries the secret key, a signature or the Authorization header.
 */
import { request, type Dispatcher } from 'undici';
import {
  DUO_LIST_ENDPOINTS,
  DUO_LOG_ENDPOINTS,
  DUO_OBJECT_ENDPOINTS,
  type DuoEndpoint,
  type DuoLogEndpoint,
  type DuoListEndpoint,
  type DuoListEndpointName,
  type DuoListEndpointRecords,
  type DuoObjectEndpointName,
  type DuoObjectEndpointRecords,
  listPageRecords,
} from '../resources/table';
import {
  DuoApiError,
  DuoAuthenticationError,
  DuoBadResponseError,
  DuoConfigurationError,
  DuoIncompleteListError,
  DuoNetworkError,
  type DuoIncompleteListDetails,
  type DuoPagingStop,
  DuoNotFoundError,
  DuoPermissionError,
  DuoRateLimitError,
  DuoServerError,
  type DuoRequestDescription,
} from './errors';
import { parseDuoApiHostname, parseInsecureDuoBaseUrl } from './hostname';
import type {
  DuoActivityLogEvent,
  DuoAdministratorLogEvent,
  DuoAuthenticationLogEvent,
  DuoTrustMonitorEvent,
} from './types';
import {
  DEFAULT_LOG_REQUESTS_PER_MINUTE,
  parseRequestsPerMinute,
  sharedRateBudget,
  sleep,
  type RateBudget,
} from './rate-budget';
import { parseRetryAfterMs } from '../util/retry-after';
import { redactSecrets } from '../util/redact';
import { DUO_J1_USER_AGENT } from '../util/user-agent';
import {
  DUO_SIGNATURE_VERSIONS,
  canonicalizeParams,
  formatDuoDate,
  signDuoRequest,
  type DuoParams,
  type DuoSignatureVersion,
} from './signing';

export type DuoLogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Receives the client's log lines; fields never hold secrets. */
export type DuoLogger = (level: DuoLogLevel, message: string, fields: Record<string, unknown>) => void;

/** Duo's own backoff on 429: 1 s doubling to 32 s (each plus jitter), then give up. */
export const DUO_RATE_LIMIT_BACKOFF_MS: readonly number[] = [1000, 2000, 4000, 8000, 16000, 32000];
/** Retries of 5xx answers, broken connections and unusable bodies. */
export const DUO_TRANSIENT_RETRY_BACKOFF_MS: readonly number[] = [1000, 2000, 4000];
/** Duo's clients add 0–1 s of random jitter to every wait so that parallel callers spread out. */
export const DUO_RETRY_JITTER_MS = 1000;
export const DUO_REQUEST_TIMEOUT_MS = 60_000;

export interface DuoClientOptions {
  /** `api-<id>.duosecurity.com` or `api-<id>.duofederal.com`; a leading `https://` is stripped. */
  apiHostname: string;
  integrationKey: string;
  secretKey: string;
  /** Default `v5`. The integrations endpoint is always signed with v5 because Duo requires it there. */
  signatureVersion?: DuoSignatureVersion;
  /**
   * The operator's cap on the per-endpoint budget of this account in this process. Default:
   * `DUO_REQUESTS_PER_MINUTE`, else none: the budget adapts to the account from Duo's published
   * rate (src/duo/rate-budget.ts).
   */
  requestsPerMinute?: number;
  /**
   * Duo's published rate, where an adaptive budget starts and what it falls back to on a first
   * 429 (`DUO_PUBLISHED_REQUESTS_PER_MINUTE`). Only for tests, to play the same story faster; it
   * applies when this client is the first to use the account's budgets in the process.
   */
  publishedRequestsPerMinute?: number;
  /**
   * Budget of each log endpoint for this account in this process, separate from the regular one
   * (Duo asks for about one request per minute there). Default `DEFAULT_LOG_REQUESTS_PER_MINUTE`.
   */
  logRequestsPerMinute?: number;
  /** Waits before each retry of a 429, in order; the length sets the number of retries. */
  rateLimitBackoffMs?: readonly number[];
  /** Waits before each retry of a 5xx, network failure or unusable body. */
  transientRetryBackoffMs?: readonly number[];
  /** Upper bound of the random jitter added to every wait. */
  retryJitterMs?: number;
  /** Time allowed for response headers, and separately for the body. */
  requestTimeoutMs?: number;
  /**
   * Loopback origin to send requests to instead of `https://<apiHostname>` (the bundled
   * simulator). Signatures still name `apiHostname`. Anything but loopback is refused.
   */
  insecureBaseUrl?: string;
  /** undici dispatcher (connection pool, proxy); default undici's global dispatcher. */
  dispatcher?: Dispatcher;
  logger?: DuoLogger;
  /** Called before each retry, with why (for metrics). */
  onRetry?: (reason: 'rate-limit' | 'transient' | 'unfollowable-page') => void;
}

/** What a worker (or a test) may tune of every Duo client it makes: retry pacing, timeouts, the connection pool. */
export type DuoClientTuning = Pick<
  DuoClientOptions,
  | 'rateLimitBackoffMs'
  | 'transientRetryBackoffMs'
  | 'retryJitterMs'
  | 'requestTimeoutMs'
  | 'dispatcher'
  | 'publishedRequestsPerMinute'
>;

/** One page of a list endpoint. */
export interface DuoPage<T> {
  records: T[];
  /** The offset this page was requested at. */
  offset: number;
  /** Where the next page starts; absent on the last page. */
  nextOffset?: number;
  /** Duo's `total_objects`, when sent. */
  totalObjects?: number;
  /**
   * The bytes of Duo's answer the records were parsed from, for a consumer that would rather have
   * them parsed again on another thread than have the records copied there (page-conversion.ts).
   * Only for endpoints without secret fields: an answer still holding a secret never leaves the
   * client.
   */
  body?: Uint8Array;
}

export interface DuoPagesOptions {
  /** Offset of the first page (a resumed fetch passes where its verified parts end). Default 0. */
  startOffset?: number;
  /**
   * Records read before `startOffset` by an earlier attempt, so that the list's end can be checked
   * against Duo's `total_objects`. Default 0 from offset 0; unknown (not checked) otherwise.
   */
  recordsBeforeStart?: number;
  /** `limit` to ask for; default and ceiling: the endpoint's maximum page size. */
  pageSize?: number;
  signal?: AbortSignal;
}

/** Where reading the authentication log goes on from: a window and, inside it, Duo's cursor. */
export interface DuoAuthenticationLogWindow {
  /** Epoch milliseconds, inclusive. */
  mintime: number;
  /** Epoch milliseconds, inclusive. */
  maxtime: number;
  /** Duo's `next_offset` from the previous page of the same window (`<ms timestamp>,<txid>`). */
  nextOffset?: string;
}

/** One page of the authentication log. */
export interface DuoAuthenticationLogPage {
  events: DuoAuthenticationLogEvent[];
  /** The cursor of the window's next page; absent when the window is read to its end. */
  nextOffset?: string;
}

const warnedInsecureOrigins = new Set<string>();

/** A client for one Duo account. Safe to share between concurrent callers. */
export class DuoClient {
  readonly apiHostname: string;
  readonly siteId: string;
  readonly federal: boolean;
  readonly integrationKey: string;
  readonly signatureVersion: DuoSignatureVersion;
  /** The operator's cap on the budget; undefined: the budget adapts. */
  readonly requestsPerMinute: number | undefined;
  readonly logRequestsPerMinute: number;
  /** Where requests go: `https://<apiHostname>` or the loopback simulator. */
  readonly baseUrl: string;
  readonly #secretKey: string;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #logger: DuoLogger | undefined;
  readonly #onRetry: DuoClientOptions['onRetry'];
  readonly #rateLimitBackoffMs: readonly number[];
  readonly #transientRetryBackoffMs: readonly number[];
  readonly #retryJitterMs: number;
  readonly #requestTimeoutMs: number;
  readonly #publishedRequestsPerMinute: number | undefined;

  constructor(options: DuoClientOptions) {
    const host = parseDuoApiHostname(options.apiHostname);
    if (!options.integrationKey?.trim()) {
      throw new DuoConfigurationError('DUO_INTEGRATION_KEY', 'is empty; copy it from the Admin API application page.');
    }
    if (!options.secretKey) {
      throw new DuoConfigurationError('DUO_SECRET_KEY', 'is empty; copy it from the Admin API application page.');
    }
    const signatureVersion = options.signatureVersion ?? 'v5';
    if (!DUO_SIGNATURE_VERSIONS.includes(signatureVersion)) {
      throw new DuoConfigurationError(
        'signatureVersion',
        `"${String(signatureVersion)}" is not one of ${DUO_SIGNATURE_VERSIONS.join(', ')}.`,
      );
    }
    const requestsPerMinute = options.requestsPerMinute ?? parseRequestsPerMinute(process.env.DUO_REQUESTS_PER_MINUTE);
    if (requestsPerMinute !== undefined && !(Number.isFinite(requestsPerMinute) && requestsPerMinute > 0)) {
      throw new DuoConfigurationError('DUO_REQUESTS_PER_MINUTE', `${requestsPerMinute} is not a positive number.`);
    }

    this.apiHostname = host.apiHostname;
    this.siteId = host.siteId;
    this.federal = host.federal;
    this.integrationKey = options.integrationKey.trim();
    this.signatureVersion = signatureVersion;
    this.requestsPerMinute = requestsPerMinute;
    const logRequestsPerMinute = options.logRequestsPerMinute ?? DEFAULT_LOG_REQUESTS_PER_MINUTE;
    if (!Number.isFinite(logRequestsPerMinute) || logRequestsPerMinute <= 0) {
      throw new DuoConfigurationError('logRequestsPerMinute', `${logRequestsPerMinute} is not a positive number.`);
    }
    this.logRequestsPerMinute = logRequestsPerMinute;
    this.#secretKey = options.secretKey;
    this.#dispatcher = options.dispatcher;
    this.#logger = options.logger;
    this.#onRetry = options.onRetry;
    this.#rateLimitBackoffMs = options.rateLimitBackoffMs ?? DUO_RATE_LIMIT_BACKOFF_MS;
    this.#transientRetryBackoffMs = options.transientRetryBackoffMs ?? DUO_TRANSIENT_RETRY_BACKOFF_MS;
    this.#retryJitterMs = options.retryJitterMs ?? DUO_RETRY_JITTER_MS;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DUO_REQUEST_TIMEOUT_MS;
    this.#publishedRequestsPerMinute = options.publishedRequestsPerMinute;

    if (options.insecureBaseUrl) {
      this.baseUrl = parseInsecureDuoBaseUrl(options.insecureBaseUrl);
      this.#warnInsecure();
    } else {
      this.baseUrl = `https://${this.apiHostname}`;
    }
  }

  /** Reads an object endpoint (`settings`, `infoSummary`). */
  async getObject<N extends DuoObjectEndpointName>(
    name: N,
    options: { signal?: AbortSignal } = {},
  ): Promise<DuoObjectEndpointRecords[N]> {
    const endpoint = DUO_OBJECT_ENDPOINTS[name];
    const { json } = await this.#requestJson(endpoint, [], options.signal, (parsed) =>
      isPlainObject(parsed.response) ? undefined : '"response" is not an object',
    );
    return json.response as DuoObjectEndpointRecords[N];
  }

  /**
   * Pages through a list endpoint from `startOffset`, following `metadata.next_offset` only (Duo
   * treats `limit` as a hint, so offsets are never computed here), and ends only as Duo ends a list:
   * with a page that has no `next_offset`, after which the records read must add up to the page's
   * `total_objects`. Anything else — a page without metadata, a `next_offset` that does not move
   * forward, an empty page that promises more, a count short of (or over) `total_objects` — throws
   * `DuoIncompleteListError`, because a list read only partly must never pass for complete: its
   * data would be delivered as the whole truth and the rest deleted. A page that cannot be followed
   * is asked for again a few times first (`transientRetryBackoffMs`), as a passing glitch would be.
   *
   * Each page is requested when the consumer asks for it, once the previous one is parsed; the
   * fetch stage keeps the next request in flight while it stages a page (`readingAhead`). Asking
   * for the next page from the first bytes of an answer, before it is whole, saved under a second
   * of an unthrottled 100,000-user fetch and nothing at Duo's real rate limit, where the budget and
   * not the client sets the pace: not worth a parser of half-received answers in this client.
   */
  async *pages<N extends DuoListEndpointName>(
    name: N,
    options: DuoPagesOptions = {},
  ): AsyncGenerator<DuoPage<DuoListEndpointRecords[N]>, void, undefined> {
    const endpoint: DuoListEndpoint = DUO_LIST_ENDPOINTS[name];
    const limit = Math.max(1, Math.min(Math.floor(options.pageSize ?? endpoint.maxPageSize), endpoint.maxPageSize));
    let offset = options.startOffset ?? 0;
    if (!Number.isInteger(offset) || offset < 0) {
      throw new RangeError(`startOffset must be a non-negative integer, not ${offset}.`);
    }
    let recordsRead = options.recordsBeforeStart ?? (offset === 0 ? 0 : undefined);

    const requestPage = (pageOffset: number) =>
      this.#requestJson(
        endpoint,
        [
          ['limit', String(limit)],
          ['offset', String(pageOffset)],
        ],
        options.signal,
        validateListEnvelope,
      );
    const keepsBytes = endpoint.secretFields.length === 0;
    for (let retriesOfThisPage = 0; ;) {
      const { json: body, bytes } = await requestPage(offset);
      const withBytes = keepsBytes ? { body: bytes } : {};
      const records = listPageRecords(body.response as object[], endpoint) as DuoListEndpointRecords[N][];
      const metadata = isPlainObject(body.metadata) ? body.metadata : undefined;
      const totalObjects = typeof metadata?.total_objects === 'number' ? metadata.total_objects : undefined;
      const stated = metadata?.next_offset;
      const nextOffset = stated === undefined || stated === null ? undefined : (stated as number);
      const stop = unfollowablePage(metadata !== undefined, records.length, offset, nextOffset);
      if (stop) {
        // Asked for again, as a passing glitch would be.
        if (retriesOfThisPage < this.#transientRetryBackoffMs.length) {
          const waitMs = this.#transientRetryBackoffMs[retriesOfThisPage]! + Math.random() * this.#retryJitterMs;
          retriesOfThisPage += 1;
          this.#onRetry?.('unfollowable-page');
          this.#log('warn', 'Duo sent a page that cannot be followed; asking for it again', {
            endpoint: endpoint.path,
            offset,
            reason: stop,
            retryInMs: Math.round(waitMs),
          });
          await sleep(waitMs, options.signal);
          continue;
        }
        throw this.#incompleteList(endpoint, {
          reason: stop,
          offset,
          recordsRead,
          totalObjects,
          nextOffset,
          pageRecords: records.length,
        });
      }
      retriesOfThisPage = 0;
      if (recordsRead !== undefined) recordsRead += records.length;

      if (nextOffset === undefined) {
        if (totalObjects !== undefined && recordsRead !== undefined && recordsRead !== totalObjects) {
          throw this.#incompleteList(endpoint, { reason: 'count-mismatch', offset, recordsRead, totalObjects });
        }
        yield { records, offset, totalObjects, ...withBytes };
        return;
      }
      yield { records, offset, totalObjects, nextOffset, ...withBytes };
      offset = nextOffset;
    }
  }

  /**
   * One page of the authentication log, oldest events first, within a window read page by page
   * with Duo's cursor. Requests draw from the log endpoint's own budget (`logRequestsPerMinute`),
   * never from the one ingestion runs use, and back off on 429 as Duo's clients do.
   */
  async authenticationLogPage(
    window: DuoAuthenticationLogWindow,
    options: { limit?: number; signal?: AbortSignal } = {},
  ): Promise<DuoAuthenticationLogPage> {
    const endpoint = DUO_LOG_ENDPOINTS.authenticationLog;
    const params = windowParams(window, options.limit, endpoint.maxPageSize);
    const { json } = await this.#requestJson(endpoint, params, options.signal, validateAuthenticationLog);
    const response = json.response as { authlogs: DuoAuthenticationLogEvent[]; metadata?: Record<string, unknown> };
    const next = response.metadata?.next_offset;
    return {
      events: response.authlogs,
      ...(Array.isArray(next) && next.length > 0 ? { nextOffset: next.map(String).join(',') } : {}),
    };
  }

  /**
   * The administrator log's earliest events (at most 1000) at or after `mintimeSeconds`, oldest
   * first: Duo's only paging here is to ask again from the last timestamp seen, and the caller
   * tells events of that second already read from new ones (activities/logs.ts). Same budget rules
   * as the authentication log, for this endpoint.
   */
  async administratorLogPage(
    mintimeSeconds: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<DuoAdministratorLogEvent[]> {
    const endpoint = DUO_LOG_ENDPOINTS.administratorLog;
    const { json } = await this.#requestJson(
      endpoint,
      [['mintime', String(Math.floor(mintimeSeconds))]],
      options.signal,
      (body) =>
        Array.isArray(body.response) && body.response.every(isPlainObject)
          ? undefined
          : '"response" is not a list of objects',
    );
    // Oldest first, as Duo sends them; sorted stably in case it did not, ties kept in Duo's order.
    return (json.response as DuoAdministratorLogEvent[])
      .map((event, index) => ({ event, index }))
      .sort((a, b) => a.event.timestamp - b.event.timestamp || a.index - b.index)
      .map(({ event }) => event);
  }

  /** One page of the activity log, in a window read page by page with Duo's `next_offset`. */
  async activityLogPage(
    window: DuoAuthenticationLogWindow,
    options: { limit?: number; signal?: AbortSignal } = {},
  ): Promise<{ events: DuoActivityLogEvent[]; nextOffset?: string }> {
    const endpoint = DUO_LOG_ENDPOINTS.activityLog;
    const params = windowParams(window, options.limit, endpoint.maxPageSize);
    const { json } = await this.#requestJson(endpoint, params, options.signal, validateActivityLog);
    const response = json.response as { items: DuoActivityLogEvent[]; metadata?: Record<string, unknown> };
    const next = response.metadata?.next_offset;
    return {
      events: response.items,
      ...(typeof next === 'string' && next !== '' ? { nextOffset: next } : {}),
    };
  }

  /**
   * One page of Trust Monitor's events in a window, paged with Duo's cursor (sent back as
   * `offset`, not `next_offset`: duo_client_python `json_cursor_api_call`).
   */
  async trustMonitorPage(
    window: DuoAuthenticationLogWindow,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ events: DuoTrustMonitorEvent[]; nextOffset?: string }> {
    const endpoint = DUO_LOG_ENDPOINTS.trustMonitor;
    const params: DuoParams = [
      ['mintime', String(window.mintime)],
      ['maxtime', String(window.maxtime)],
      ['limit', String(endpoint.maxPageSize)],
      ...(window.nextOffset === undefined ? [] : [['offset', window.nextOffset] as const]),
    ];
    const { json } = await this.#requestJson(endpoint, params, options.signal, (body) => {
      if (!isPlainObject(body.response)) return '"response" is not an object';
      const { events } = body.response;
      return Array.isArray(events) && events.every(isPlainObject)
        ? undefined
        : '"response.events" is not a list of objects';
    });
    const response = json.response as { events: DuoTrustMonitorEvent[]; metadata?: Record<string, unknown> };
    const next = response.metadata?.next_offset;
    return {
      events: response.events,
      ...(typeof next === 'string' && next !== '' ? { nextOffset: next } : {}),
    };
  }

  #incompleteList(endpoint: DuoListEndpoint, details: DuoIncompleteListDetails): DuoIncompleteListError {
    this.#log('error', 'A Duo list cannot be read completely; the resource is reported partial', {
      endpoint: endpoint.path,
      offset: details.offset,
      reason: details.reason,
      recordsRead: details.recordsRead,
      totalObjects: details.totalObjects,
    });
    return new DuoIncompleteListError({ method: 'GET', path: endpoint.path, apiHostname: this.apiHostname }, details);
  }

  /**
   * One GET with the budget, signing, retries and error mapping: the answer parsed, and its bytes. `validate` checks a 200 body's
   * shape and returns what is wrong, if anything; an unusable body is retried like a 5xx.
   */
  async #requestJson(
    endpoint: DuoEndpoint | DuoLogEndpoint,
    params: DuoParams,
    signal: AbortSignal | undefined,
    validate: (body: Record<string, unknown>) => string | undefined,
  ): Promise<{ json: Record<string, unknown>; bytes: Uint8Array }> {
    const description: DuoRequestDescription = { method: 'GET', path: endpoint.path, apiHostname: this.apiHostname };
    // Log endpoints draw from a budget of their own, at the instance's log rate, never in bursts
    // (Duo's published log rate is one request a minute); the others adapt.
    const isLog = endpoint.grant === 'Grant read log';
    const budget: RateBudget = isLog
      ? sharedRateBudget(this, endpoint.path, this.logRequestsPerMinute, DEFAULT_LOG_REQUESTS_PER_MINUTE)
      : sharedRateBudget(this, endpoint.path, this.requestsPerMinute, this.#publishedRequestsPerMinute);
    const signatureVersion =
      ('requiredSignatureVersion' in endpoint ? endpoint.requiredSignatureVersion : undefined) ?? this.signatureVersion;
    const query = canonicalizeParams(params);
    const url = `${this.baseUrl}${endpoint.path}${query ? `?${query}` : ''}`;
    const offset = params.find(([key]) => key === 'offset')?.[1];
    let rateLimitedAttempts = 0;
    let transientAttempts = 0;

    for (let attempt = 1; ; attempt++) {
      const slot = await budget.take(signal);
      const date = formatDuoDate(new Date());
      const authorization = signDuoRequest(
        signatureVersion,
        { integrationKey: this.integrationKey, secretKey: this.#secretKey },
        { method: 'GET', host: this.apiHostname, path: endpoint.path, params, date },
      );

      let failure:
        { kind: 'rate-limit'; answer: DuoAnswer; retryAfterMs?: number } | { kind: 'transient'; error: () => Error };
      const startedAt = Date.now();
      try {
        const response = await request(url, {
          method: 'GET',
          // Duo's v5 signature covers only X-Duo-* headers, so the User-Agent is not signed.
          headers: { date, authorization, accept: 'application/json', 'user-agent': DUO_J1_USER_AGENT },
          dispatcher: this.#dispatcher,
          signal,
          headersTimeout: this.#requestTimeoutMs,
          bodyTimeout: this.#requestTimeoutMs,
        });
        const status = response.statusCode;
        if (status >= 200 && status < 300) budget.answered(slot);
        // The whole answer in one buffer of its own, so it can be handed to a thread without a copy.
        const bytes = Buffer.from(await response.body.arrayBuffer());
        const answer = this.#parseAnswer(bytes.toString('utf8'));
        this.#log('debug', 'Duo request', {
          endpoint: endpoint.path,
          offset,
          status,
          attempt,
          durationMs: Date.now() - startedAt,
        });

        if (status >= 200 && status < 300) {
          const problem = !answer.body
            ? 'the body is not JSON'
            : answer.body.stat !== 'OK'
              ? `"stat" is ${JSON.stringify(answer.body.stat)}, not "OK"`
              : validate(answer.body);
          if (!problem) return { json: answer.body!, bytes };
          failure = {
            kind: 'transient',
            error: () => new DuoBadResponseError(description, status, problem, attempt),
          };
        } else if (status >= 300 && status < 400) {
          // Following a redirect would hand the signed request to a host nobody configured.
          throw new DuoBadResponseError(description, status, 'a redirect, which is refused', attempt);
        } else if (status === 401) {
          throw new DuoAuthenticationError(description, answer.code, answer.message);
        } else if (status === 403) {
          throw new DuoPermissionError(description, answer.code, answer.message, endpoint.grant);
        } else if (status === 404) {
          throw new DuoNotFoundError(description, answer.code, answer.message);
        } else if (status === 429) {
          const retryAfterMs = parseRetryAfterMs(response.headers['retry-after']);
          const lowered = budget.refused(slot, retryAfterMs);
          if (lowered !== undefined) {
            this.#log('info', 'Duo answered 429; pacing this endpoint more slowly', {
              endpoint: endpoint.path,
              requestsPerMinute: Math.round(lowered * 10) / 10,
            });
          }
          failure = { kind: 'rate-limit', answer, retryAfterMs };
        } else if (status >= 500) {
          failure = {
            kind: 'transient',
            error: () => new DuoServerError(description, status, answer.code, answer.message, attempt),
          };
        } else {
          throw new DuoApiError(description, status, answer.code, answer.message);
        }
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof DuoApiError || error instanceof DuoBadResponseError) throw error;
        const causeCode = networkErrorCode(error);
        const causeMessage = redactSecrets(error instanceof Error ? error.message : String(error), [this.#secretKey]);
        failure = {
          kind: 'transient',
          error: () => new DuoNetworkError(description, causeCode, causeMessage, attempt),
        };
      }

      const schedule = failure.kind === 'rate-limit' ? this.#rateLimitBackoffMs : this.#transientRetryBackoffMs;
      const retriesUsed = failure.kind === 'rate-limit' ? rateLimitedAttempts++ : transientAttempts++;
      if (retriesUsed >= schedule.length) {
        if (failure.kind === 'rate-limit') {
          throw new DuoRateLimitError(description, failure.answer.code, failure.answer.message, attempt);
        }
        throw failure.error();
      }
      // A Retry-After, should Duo ever send one, says exactly how long; otherwise Duo's own backoff.
      const retryAfterMs = failure.kind === 'rate-limit' ? failure.retryAfterMs : undefined;
      const waitMs = retryAfterMs ?? schedule[retriesUsed]! + Math.random() * this.#retryJitterMs;
      const error = failure.kind === 'transient' ? failure.error() : undefined;
      this.#onRetry?.(failure.kind);
      this.#log(
        'warn',
        failure.kind === 'rate-limit' ? 'Duo rate limit hit; backing off' : 'Duo request failed; retrying',
        {
          endpoint: endpoint.path,
          offset,
          attempt,
          retryInMs: Math.round(waitMs),
          ...(error
            ? { error: error.message }
            : { code: failure.kind === 'rate-limit' ? failure.answer.code : undefined }),
        },
      );
      await sleep(waitMs, signal);
    }
  }

  /** Reads Duo's envelope out of a body, tolerating non-JSON and string codes. */
  #parseAnswer(text: string): DuoAnswer {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return {};
    }
    if (!isPlainObject(body)) return {};
    const numericCode = typeof body.code === 'string' && body.code !== '' ? Number(body.code) : body.code;
    const code = typeof numericCode === 'number' && Number.isFinite(numericCode) ? numericCode : undefined;
    const parts = [body.message, body.message_detail].filter(
      (part): part is string => typeof part === 'string' && part !== '',
    );
    const message = parts.length > 0 ? redactSecrets(parts.join(': '), [this.#secretKey]) : undefined;
    return { body, code, message };
  }

  #warnInsecure(): void {
    const message =
      `DUO_J1_INSECURE_DUO_BASE_URL is set: Duo requests for ${this.apiHostname} go to ${this.baseUrl} ` +
      'instead of Duo. This is meant only for the bundled Duo simulator.';
    if (this.#logger) {
      this.#log('warn', message, { apiHostname: this.apiHostname, baseUrl: this.baseUrl });
    } else if (!warnedInsecureOrigins.has(this.baseUrl)) {
      warnedInsecureOrigins.add(this.baseUrl);
      process.emitWarning(message, { code: 'DUO_J1_INSECURE_DUO_BASE_URL' });
    }
  }

  #log(level: DuoLogLevel, message: string, fields: Record<string, unknown>): void {
    if (!this.#logger) return;
    const safeFields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      safeFields[key] = typeof value === 'string' ? redactSecrets(value, [this.#secretKey]) : value;
    }
    this.#logger(level, redactSecrets(message, [this.#secretKey]), safeFields);
  }
}

interface DuoAnswer {
  body?: Record<string, unknown>;
  code?: number;
  message?: string;
}

/** The authentication log keeps its records and paging inside `response`: `{authlogs, metadata}`. */
function validateAuthenticationLog(body: Record<string, unknown>): string | undefined {
  if (!isPlainObject(body.response)) return '"response" is not an object';
  const { authlogs, metadata } = body.response;
  if (!Array.isArray(authlogs) || !authlogs.every(isPlainObject)) return '"response.authlogs" is not a list of objects';
  if (metadata !== undefined && !isPlainObject(metadata)) return '"response.metadata" is not an object';
  const next = isPlainObject(metadata) ? metadata.next_offset : undefined;
  if (next !== undefined && next !== null && !(Array.isArray(next) && next.length === 2)) {
    return '"response.metadata.next_offset" is not a [timestamp, txid] pair';
  }
  return undefined;
}

/** A log window's query, oldest first: `mintime`/`maxtime` in ms, a `limit`, Duo's cursor when paging. */
function windowParams(window: DuoAuthenticationLogWindow, limit: number | undefined, maxPageSize: number): DuoParams {
  return [
    ['mintime', String(window.mintime)],
    ['maxtime', String(window.maxtime)],
    ['limit', String(Math.max(1, Math.min(Math.floor(limit ?? maxPageSize), maxPageSize)))],
    ['sort', 'ts:asc'],
    ...(window.nextOffset === undefined ? [] : [['next_offset', window.nextOffset] as const]),
  ];
}

/** The activity log keeps its records in `response.items` and its cursor, a string, in `response.metadata`. */
function validateActivityLog(body: Record<string, unknown>): string | undefined {
  if (!isPlainObject(body.response)) return '"response" is not an object';
  const { items, metadata } = body.response;
  if (!Array.isArray(items) || !items.every(isPlainObject)) return '"response.items" is not a list of objects';
  if (metadata !== undefined && !isPlainObject(metadata)) return '"response.metadata" is not an object';
  const next = isPlainObject(metadata) ? metadata.next_offset : undefined;
  if (next !== undefined && next !== null && typeof next !== 'string')
    return '"response.metadata.next_offset" is not a string';
  return undefined;
}

function validateListEnvelope(body: Record<string, unknown>): string | undefined {
  if (!Array.isArray(body.response)) return '"response" is not a list';
  if (!body.response.every(isPlainObject)) return '"response" holds something other than objects';
  if (body.metadata !== undefined && !isPlainObject(body.metadata)) return '"metadata" is not an object';
  const next = isPlainObject(body.metadata) ? body.metadata.next_offset : undefined;
  if (next !== undefined && next !== null && !(typeof next === 'number' && Number.isInteger(next) && next >= 0)) {
    return '"metadata.next_offset" is not a non-negative integer';
  }
  return undefined;
}

/**
 * Why a list page cannot be followed — no `metadata`, an empty page that promises more, a
 * `next_offset` that does not move forward — or undefined when it can be (or ends the list).
 */
function unfollowablePage(
  hasMetadata: boolean,
  records: number,
  offset: number,
  nextOffset: number | undefined,
): DuoPagingStop | undefined {
  if (!hasMetadata) return 'missing-metadata';
  if (nextOffset === undefined) return undefined;
  if (records === 0) return 'empty-page';
  if (nextOffset <= offset) return 'offset-did-not-advance';
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function networkErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
  if (typeof code === 'string') return code;
  if (typeof cause?.code === 'string') return cause.code;
  return undefined;
}
