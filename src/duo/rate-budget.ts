/**
 * The per-endpoint request budget shared by every client of one Duo account in this process.
 *
 * Duo limits requests per integration key and endpoint (about 200 list pages a minute) and
 * answers 429 beyond it. All fetch activities of a run, and of overlapping runs on this worker,
 * draw from the same budget, so pacing happens before requests are sent and a 429 stays the
 * exception. Budgets are keyed by API hostname + integration key + endpoint path.
 */
import { describeValue } from '../util/redact';
import { DuoConfigurationError } from './errors';

/** Duo publishes 200 pages/minute for list calls; staying below leaves room for other tools. */
export const DEFAULT_DUO_REQUESTS_PER_MINUTE = 150;

/**
 * Parses a requests-per-minute setting (e.g. `DUO_REQUESTS_PER_MINUTE`): a whole number of at least
 * 1; undefined or empty gives the default. Throws `DuoConfigurationError` naming the setting
 * otherwise. The configuration reads the setting with this same rule.
 */
export function parseRequestsPerMinute(value: string | undefined, setting = 'DUO_REQUESTS_PER_MINUTE'): number {
  if (value === undefined || value.trim() === '') return DEFAULT_DUO_REQUESTS_PER_MINUTE;
  const parsed = Number(value.trim());
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new DuoConfigurationError(
      setting,
      `must be a whole number of requests per minute of at least 1, not ${describeValue(value)}.`,
    );
  }
  return parsed;
}

/**
 * A token bucket holding one request: requests are spaced evenly at the configured rate, and
 * concurrent callers queue in arrival order (each reserves the next free slot).
 */
export class RateBudget {
  private intervalMs: number;
  /** Earliest time the next request may start. */
  private nextSlotAt = 0;

  constructor(requestsPerMinute: number) {
    this.intervalMs = 60_000 / requestsPerMinute;
  }

  /** Changes the rate for requests reserved from now on. */
  setRequestsPerMinute(requestsPerMinute: number): void {
    this.intervalMs = 60_000 / requestsPerMinute;
  }

  get requestsPerMinute(): number {
    return 60_000 / this.intervalMs;
  }

  /** Waits for this caller's slot. Rejects with the signal's reason when aborted (the slot is then given back). */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = Date.now();
    const slot = Math.max(now, this.nextSlotAt);
    this.nextSlotAt = slot + this.intervalMs;
    const waitMs = slot - now;
    if (waitMs <= 0) return;
    try {
      await sleep(waitMs, signal);
    } catch (error) {
      // Only the last reservation can be returned without disturbing the callers queued behind it.
      if (this.nextSlotAt === slot + this.intervalMs) this.nextSlotAt = slot;
      throw error;
    }
  }
}

const budgets = new Map<string, RateBudget>();

/**
 * The process-wide budget of one endpoint of one Duo account. A later call with another rate
 * changes the rate (a worker re-reading its configuration), it does not create a second budget.
 */
export function sharedRateBudget(
  account: { apiHostname: string; integrationKey: string },
  endpointPath: string,
  requestsPerMinute: number,
): RateBudget {
  const key = `${account.apiHostname.toLowerCase()}\n${account.integrationKey}\n${endpointPath}`;
  let budget = budgets.get(key);
  if (!budget) {
    budget = new RateBudget(requestsPerMinute);
    budgets.set(key, budget);
  } else if (budget.requestsPerMinute !== requestsPerMinute) {
    budget.setRequestsPerMinute(requestsPerMinute);
  }
  return budget;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
