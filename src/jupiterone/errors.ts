/**
 * Errors of the JupiterOne synchronization client. Every error says which request failed (method
 * and path, never headers or bodies) and whether trying again later can help (`retryable`), so the
 * delivery activity can turn it into a retryable or non-retryable Temporal failure of type
 * `JupiterOneError`. Messages are redacted before they are built: the API key never appears.
 */
import type { SyncJob, SyncJobStatus } from './types';

export interface JupiterOneErrorDetails {
  /** HTTP status JupiterOne answered, when there was an answer. */
  status?: number;
  /** JupiterOne's error code (`error.code` of the body) or the network error's code. */
  code?: string;
  /** Request path, without query string. */
  path?: string;
  retryable: boolean;
}

export class JupiterOneError extends Error {
  override readonly name: string = 'JupiterOneError';
  readonly status?: number;
  readonly code?: string;
  readonly path?: string;
  readonly retryable: boolean;

  constructor(message: string, details: JupiterOneErrorDetails) {
    super(message);
    this.status = details.status;
    this.code = details.code;
    this.path = details.path;
    this.retryable = details.retryable;
  }
}

/** A setting of the client is unusable (base URL, API key, account); fix the configuration. */
export class JupiterOneConfigurationError extends JupiterOneError {
  override readonly name = 'JupiterOneConfigurationError';
  constructor(
    message: string,
    readonly setting: string,
  ) {
    super(message, { retryable: false });
  }
}

/** 401/403: the API key or account is wrong or lacks `persister:Synchronize`. Retrying cannot help. */
export class JupiterOneAuthenticationError extends JupiterOneError {
  override readonly name = 'JupiterOneAuthenticationError';
  constructor(message: string, details: Omit<JupiterOneErrorDetails, 'retryable'>) {
    super(message, { ...details, retryable: false });
  }
}

/**
 * The job no longer accepts uploads (it was finalized, aborted, or expired). Fatal for this job:
 * a new run must start a new job.
 */
export class JupiterOneJobNotAwaitingUploadsError extends JupiterOneError {
  override readonly name = 'JupiterOneJobNotAwaitingUploadsError';
  constructor(
    message: string,
    readonly jobId: string,
    details: Omit<JupiterOneErrorDetails, 'retryable' | 'code'>,
  ) {
    super(message, { ...details, code: 'JOB_NOT_AWAITING_UPLOADS', retryable: false });
  }
}

/** 413: the request body is above JupiterOne's payload limit. The uploader splits and retries. */
export class JupiterOnePayloadTooLargeError extends JupiterOneError {
  override readonly name = 'JupiterOnePayloadTooLargeError';
  constructor(message: string, details: Omit<JupiterOneErrorDetails, 'retryable'>) {
    super(message, { ...details, retryable: false });
  }
}

/** 429 still answered after every retry. Retryable later (by Temporal), not now. */
export class JupiterOneRateLimitError extends JupiterOneError {
  override readonly name = 'JupiterOneRateLimitError';
  constructor(message: string, details: Omit<JupiterOneErrorDetails, 'retryable'>) {
    super(message, { ...details, retryable: true });
  }
}

/** 5xx still answered after every retry. */
export class JupiterOneServerError extends JupiterOneError {
  override readonly name = 'JupiterOneServerError';
  constructor(message: string, details: Omit<JupiterOneErrorDetails, 'retryable'>) {
    super(message, { ...details, retryable: true });
  }
}

/** No answer at all (connection refused or reset, timeout) after every retry. */
export class JupiterOneNetworkError extends JupiterOneError {
  override readonly name = 'JupiterOneNetworkError';
  constructor(message: string, details: Omit<JupiterOneErrorDetails, 'retryable'>) {
    super(message, { ...details, retryable: true });
  }
}

/** Any other 4xx: the request itself is wrong (invalid graph object, duplicate key, ...). */
export class JupiterOneRequestError extends JupiterOneError {
  override readonly name = 'JupiterOneRequestError';
  constructor(message: string, details: Omit<JupiterOneErrorDetails, 'retryable'>) {
    super(message, { ...details, retryable: false });
  }
}

/** The job ended without finishing (aborted or failed inside JupiterOne). */
export class JupiterOneJobFailedError extends JupiterOneError {
  override readonly name = 'JupiterOneJobFailedError';
  constructor(
    message: string,
    readonly job: SyncJob,
  ) {
    super(message, { code: job.status, retryable: false });
  }
}

/** The job did not finish within the wait the caller allowed; it may still finish later. */
export class JupiterOneJobWaitTimeoutError extends JupiterOneError {
  override readonly name = 'JupiterOneJobWaitTimeoutError';
  constructor(
    message: string,
    readonly job: SyncJob,
    readonly lastStatus: SyncJobStatus,
  ) {
    super(message, { code: 'JOB_WAIT_TIMEOUT', retryable: true });
  }
}
