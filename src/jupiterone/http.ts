/**
 * The HTTP layer under the synchronization client: one JSON request to JupiterOne with the
 * account's headers, retried on network errors, 5xx and 429, and answered with a typed error
 * otherwise. Redirects are never followed (undici's `request` does not), so the API key is only
 * ever sent to the configured host.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import {
  JupiterOneAuthenticationError,
  JupiterOneConfigurationError,
  type JupiterOneError,
  JupiterOneJobNotAwaitingUploadsError,
  JupiterOneNetworkError,
  JupiterOnePayloadTooLargeError,
  JupiterOneRateLimitError,
  JupiterOneRequestError,
  JupiterOneServerError,
} from './errors';
import { parseJupiterOneBaseUrl } from './base-url';
import { redactSecrets } from '../util/redact';
import { DUO_J1_USER_AGENT } from '../util/user-agent';
import { parseRetryAfterMs } from '../util/retry-after';

export type JupiterOneLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Receives the client's log lines. Fields never hold secrets or graph data. */
export type JupiterOneLogger = (level: JupiterOneLogLevel, message: string, fields?: Record<string, unknown>) => void;

/** When and how often a failed request is tried again (network errors, 5xx, 429). */
export interface RetryPolicy {
  /** Total attempts, the first one included. */
  maxAttempts: number;
  /** Wait before the second attempt; later waits grow by `factor`. */
  initialDelayMs: number;
  factor: number;
  /** Upper bound of any single wait, `Retry-After` included. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  initialDelayMs: 1_000,
  factor: 2,
  maxDelayMs: 30_000,
};

/**
 * Wait before the next attempt after `failedAttempts` failures: exponential, capped, with jitter
 * (50–100 %) so that concurrent uploads that failed together do not retry together. A server's
 * `Retry-After` is honoured up to the cap.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  failedAttempts: number,
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  const exponential = policy.initialDelayMs * policy.factor ** Math.max(0, failedAttempts - 1);
  const jittered = Math.min(policy.maxDelayMs, exponential) * (0.5 + 0.5 * random());
  const requested = retryAfterMs === undefined ? 0 : Math.min(policy.maxDelayMs, retryAfterMs);
  return Math.round(Math.max(jittered, requested));
}

export interface JupiterOneHttpOptions {
  apiKey: string;
  account: string;
  baseUrl: string;
  dispatcher?: Dispatcher;
  logger?: JupiterOneLogger;
  retry?: Partial<RetryPolicy>;
  /** Bound on waiting for response headers and between body chunks. */
  requestTimeoutMs?: number;
}

export interface JupiterOneRequest {
  method: 'GET' | 'POST';
  /** Path below the base URL, starting with `/`. */
  path: string;
  /** Already serialised JSON body (encoded as `contentEncoding` says). */
  body?: string | Uint8Array;
  /** `gzip` when the body is gzipped JSON. */
  contentEncoding?: 'gzip';
  query?: Record<string, string>;
  /** Sent as `JupiterOne-Correlation-Id`; reused by every retry of the request. */
  correlationId?: string;
  signal?: AbortSignal;
  /**
   * False for a request that must not happen twice (starting a job): it is tried again only after
   * failures that prove it had no effect (429, a refused connection); after any other failure —
   * the answer lost, a 5xx — the caller decides, since the request may have taken effect.
   */
  repeatable?: boolean;
  /** At most this many attempts, when fewer than the client's policy allows (a best-effort request). */
  maxAttempts?: number;
  /** A shorter bound than the client's on waiting for the answer. */
  timeoutMs?: number;
}

/** Failures after which a request certainly had no effect: it never reached JupiterOne, or was turned away first. */
function hadNoEffect(error: JupiterOneError): boolean {
  return error.status === 429 || (error.status === undefined && error.code === 'ECONNREFUSED');
}

interface ErrorBodyFields {
  code?: string;
  message?: string;
}

const MAX_ERROR_TEXT = 500;

export class JupiterOneHttp {
  private readonly base: URL;
  private readonly apiKey: string;
  private readonly account: string;
  private readonly dispatcher?: Dispatcher;
  private readonly log: JupiterOneLogger;
  private readonly retry: RetryPolicy;
  private readonly requestTimeoutMs: number;

  constructor(options: JupiterOneHttpOptions) {
    if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
      throw new JupiterOneConfigurationError(
        'JUPITERONE_API_KEY is empty; set a JupiterOne API key with the persister:Synchronize permission.',
        'JUPITERONE_API_KEY',
      );
    }
    if (typeof options.account !== 'string' || options.account.trim() === '') {
      throw new JupiterOneConfigurationError(
        'JUPITERONE_ACCOUNT is empty; set the id of the JupiterOne account to synchronize into.',
        'JUPITERONE_ACCOUNT',
      );
    }
    this.base = parseJupiterOneBaseUrl(options.baseUrl);
    this.apiKey = options.apiKey;
    this.account = options.account.trim();
    this.dispatcher = options.dispatcher;
    this.log = options.logger ?? (() => undefined);
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    if (!(this.retry.maxAttempts >= 1)) {
      throw new JupiterOneConfigurationError('retry.maxAttempts must be at least 1.', 'retry.maxAttempts');
    }
    this.requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
  }

  /** Attempts a request gets under the retry policy, the first included. */
  get maxAttempts(): number {
    return this.retry.maxAttempts;
  }

  /** The wait before trying again after `failedAttempts` failures, by the retry policy. */
  retryDelay(failedAttempts: number): number {
    return retryDelayMs(this.retry, failedAttempts);
  }

  /** Removes the API key (and any bearer token) from a text about to leave this module. */
  redact(text: string): string {
    return redactSecrets(text, [this.apiKey]);
  }

  /** Sends the request, retrying transient failures, and returns the parsed JSON answer. */
  async requestJson<T>(req: JupiterOneRequest): Promise<T> {
    const maxAttempts = Math.min(this.retry.maxAttempts, req.maxAttempts ?? Infinity);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt<T>(req);
      if (outcome.ok) return outcome.value;
      const { error, retryAfterMs } = outcome;
      if (!error.retryable || attempt >= maxAttempts) throw error;
      if (req.repeatable === false && !hadNoEffect(error)) throw error;
      const waitMs = retryDelayMs(this.retry, attempt, Math.random, retryAfterMs);
      this.log('warn', 'JupiterOne request failed; retrying', {
        method: req.method,
        path: req.path,
        status: error.status,
        code: error.code,
        attempt,
        maxAttempts,
        delayMs: waitMs,
        correlationId: req.correlationId,
      });
      await sleep(waitMs, req.signal);
    }
  }

  private url(req: JupiterOneRequest): string {
    const basePath = this.base.pathname.replace(/\/+$/, '');
    const url = new URL(this.base.origin + basePath + req.path);
    for (const [name, value] of Object.entries(req.query ?? {})) url.searchParams.set(name, value);
    return url.toString();
  }

  private headers(req: JupiterOneRequest): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.apiKey}`,
      'jupiterone-account': this.account,
      accept: 'application/json',
      'user-agent': DUO_J1_USER_AGENT,
    };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (req.contentEncoding !== undefined) headers['content-encoding'] = req.contentEncoding;
    if (req.correlationId !== undefined) headers['jupiterone-correlation-id'] = req.correlationId;
    return headers;
  }

  private async attempt<T>(
    req: JupiterOneRequest,
  ): Promise<{ ok: true; value: T } | { ok: false; error: JupiterOneError; retryAfterMs?: number }> {
    if (req.signal?.aborted) throw req.signal.reason;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.url(req), {
        method: req.method,
        headers: this.headers(req),
        body: req.body,
        dispatcher: this.dispatcher,
        signal: req.signal,
        headersTimeout: Math.min(this.requestTimeoutMs, req.timeoutMs ?? Infinity),
        bodyTimeout: Math.min(this.requestTimeoutMs, req.timeoutMs ?? Infinity),
      });
    } catch (cause) {
      if (req.signal?.aborted) throw req.signal.reason;
      const code = (cause as { code?: string }).code ?? 'NETWORK_ERROR';
      const text = this.redact(cause instanceof Error ? cause.message : String(cause));
      return {
        ok: false,
        error: new JupiterOneNetworkError(
          `JupiterOne ${req.method} ${req.path} got no answer (${code}: ${text}); check JUPITERONE_API_BASE_URL and the network.`,
          { code, path: req.path },
        ),
      };
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (cause) {
      if (req.signal?.aborted) throw req.signal.reason;
      const code = (cause as { code?: string }).code ?? 'NETWORK_ERROR';
      return {
        ok: false,
        error: new JupiterOneNetworkError(
          `JupiterOne ${req.method} ${req.path} answered ${response.statusCode} but the connection broke while reading the answer (${code}).`,
          { status: response.statusCode, code, path: req.path },
        ),
      };
    }
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      try {
        return { ok: true, value: JSON.parse(text) as T };
      } catch {
        // A 2xx that is not JSON comes from something in between (a proxy page); try again.
        return {
          ok: false,
          error: new JupiterOneServerError(
            `JupiterOne ${req.method} ${req.path} answered ${status} with a body that is not JSON.`,
            { status, path: req.path, code: 'INVALID_RESPONSE' },
          ),
        };
      }
    }
    return { ok: false, ...this.errorFor(req, status, text, response.headers['retry-after']) };
  }

  private errorFor(
    req: JupiterOneRequest,
    status: number,
    text: string,
    retryAfter: string | string[] | undefined,
  ): { error: JupiterOneError; retryAfterMs?: number } {
    const { code, message } = readErrorBody(text);
    // Without its closing period: the sentence goes on.
    const detail = this.redact(message ?? text.trim())
      .slice(0, MAX_ERROR_TEXT)
      .replace(/\.$/, '');
    const describe = `JupiterOne ${req.method} ${req.path} answered ${status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`;
    const details = { status, code, path: req.path };
    if (code === 'JOB_NOT_AWAITING_UPLOADS') {
      const jobId = /\/jobs\/([^/]+)/.exec(req.path)?.[1] ?? '';
      return {
        error: new JupiterOneJobNotAwaitingUploadsError(
          `${describe}. The synchronization job no longer accepts uploads; start a new job.`,
          jobId,
          { status, path: req.path },
        ),
      };
    }
    if (status === 401 || status === 403) {
      return {
        error: new JupiterOneAuthenticationError(
          `${describe}. Check JUPITERONE_API_KEY and JUPITERONE_ACCOUNT: the key must belong to that account and have the persister:Synchronize permission.`,
          details,
        ),
      };
    }
    if (status === 413) return { error: new JupiterOnePayloadTooLargeError(`${describe}.`, details) };
    if (status === 429) {
      return {
        error: new JupiterOneRateLimitError(
          `${describe}. JupiterOne is rate limiting this account; try again later.`,
          details,
        ),
        retryAfterMs: parseRetryAfterMs(retryAfter),
      };
    }
    if (status >= 500) return { error: new JupiterOneServerError(`${describe}.`, details) };
    return { error: new JupiterOneRequestError(`${describe}.`, details) };
  }
}

function readErrorBody(text: string): ErrorBodyFields {
  try {
    const parsed = JSON.parse(text) as { error?: ErrorBodyFields | string; code?: string; message?: string };
    if (parsed && typeof parsed.error === 'object' && parsed.error !== null) {
      return { code: stringOrUndefined(parsed.error.code), message: stringOrUndefined(parsed.error.message) };
    }
    return {
      code: stringOrUndefined(parsed?.code),
      message: stringOrUndefined(parsed?.message) ?? stringOrUndefined(parsed?.error),
    };
  } catch {
    return {};
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Waits, but gives up at once with the signal's reason when the caller cancels. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw signal.reason;
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}
