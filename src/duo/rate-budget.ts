/**
 * The per-endpoint request budget shared by every client of one Duo account in this process.
 *
 * Duo limits requests per integration key and endpoint and answers 429 beyond it, without saying
 * how fast it would have allowed: no `Retry-After`, no rate headers, and none of Duo's own clients
 * reads any. The one published figure is 200 list pages a minute. So, unless the operator sets a
 * rate, the budget learns the account's:
 *
 * - It paces requests as a token bucket, the way a per-minute limit that tolerates a short burst
 *   behaves: Duo's bucket is taken to hold one second's worth of the published rate (4); the budget
 *   lets through at once as much of it as leaves at least 250 ms of its rate in Duo's bucket (3 of
 *   4 at 200 a minute), then goes evenly at the rate. Taking Duo's whole burst would empty both
 *   buckets together, and any request reaching Duo a little early after the one before would be
 *   refused; the token left is the network's room. An operator's setting paces the same way.
 * - It starts at the operator's `requestsPerMinute`, or else at the published rate.
 * - Until the account first answers 429, every answered request that found the bucket (nearly)
 *   empty raises the rate by a quarter: a Duo that does not throttle is read as fast as it answers
 *   after a dozen requests. Requests that find tokens to spare raise nothing (the endpoint is asked
 *   less often than the rate allows), so the rate does not run away.
 * - A 429 says Duo's bucket is empty. The first takes the rate back to the published one when the
 *   probe had gone past it (the likeliest limit), or else to the last rate answered, or takes a
 *   tenth off (a rate answered for long may have met the network's jitter; if not, the next 429
 *   tells). Between that 429 and the next, Duo admits exactly what its bucket refills, so each
 *   further 429 measures Duo's rate: requests answered since the first, over the time since (a
 *   quarter off at most at once; fewer than ten answers measure nothing and take a tenth off).
 * - Each 429 empties this bucket too, and one more, so the next request waits two intervals; one
 *   refused although the bucket let it through at once says Duo's burst is smaller, and the budget then
 *   lets no burst through at all. A `Retry-After`, should Duo ever send one, is waited out.
 * - After a 429, each minute's worth of requests answered without one raises the rate by a tenth,
 *   so a limit that was lowered for a while is found again, slowly enough to stay under 1 % 429s.
 * - It never exceeds the operator's setting, which therefore caps it.
 *
 * Budgets live in a process-wide map keyed by API hostname, integration key and endpoint path, so
 * every run, validation and overlapping run of an account in this worker shares one, and a run
 * starts at the rate the previous one learned.
 */
import { describeValue } from '../util/redact';
import { DuoConfigurationError } from './errors';

/** Duo's published rate for list pages (per integration key and endpoint): where an unset budget starts. */
export const DUO_PUBLISHED_REQUESTS_PER_MINUTE = 200;
/** Growth per answered request that pressed on the budget, until the first 429: 10× in about ten requests. */
const PROBE_GROWTH = 1.25;
/** Growth after a minute's worth of answered requests, once the account has answered 429. */
const RECOVERY_GROWTH = 1.1;
/** However many 429s, the budget never stops an endpoint altogether. */
const MIN_REQUESTS_PER_MINUTE = 1;
/** Answers since an episode's first 429 that make a measurement of Duo's rate. */
const MIN_ANSWERS_MEASURED = 10;
/** The largest step down a measurement takes at once. */
const MAX_MEASURED_STEP = 0.75;
/** The step down on a 429 that cannot tell more (the rate was answered until now, or nothing was measured yet). */
const JITTER_STEP = 0.9;
/** 429s less than this apart belong to one episode, over which Duo's rate is measured. */
const EPISODE_MS = 60_000;
/**
 * What the budget leaves in Duo's bucket when it bursts: at least one request's worth, and at least
 * this much of its rate, so that requests bunched up by the network or a busy host still pass.
 */
const JITTER_ROOM_MS = 250;

/**
 * Duo asks log readers for no more than about one request per minute per log endpoint (a Duo
 * engineer gave two per minute in 2019; users report 429s at longer intervals).
 */
export const DEFAULT_LOG_REQUESTS_PER_MINUTE = 1;

/**
 * Parses a requests-per-minute setting (e.g. `DUO_REQUESTS_PER_MINUTE`): a whole number of at least
 * 1, or undefined when unset (the adaptive budget). Throws `DuoConfigurationError` naming the
 * setting otherwise. The configuration reads the setting with this same rule.
 */
export function parseRequestsPerMinute(
  value: string | undefined,
  setting = 'DUO_REQUESTS_PER_MINUTE',
): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = Number(value.trim());
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new DuoConfigurationError(
      setting,
      `must be a whole number of requests per minute of at least 1, or unset for a budget that adapts to the account, not ${describeValue(value)}.`,
    );
  }
  return parsed;
}

/** One reservation of the budget. */
export interface RateBudgetSlot {
  /** When it was due. */
  at: number;
  /** It had to wait for its slot. */
  heldBack: boolean;
  /** It found the bucket below full: requests are coming at least as fast as the rate refills it. */
  pressing: boolean;
}

/** A token bucket whose rate adapts to the answers (see the file's header). Concurrent callers queue in arrival order. */
export class RateBudget {
  #requestsPerMinute: number;
  /** The operator's setting; undefined: no cap. */
  #cap: number | undefined;
  /** False once the account has answered 429: growth is then slow. */
  #probing = true;
  /** The rate before the last increase: where a 429 takes the budget back to. */
  #lastAnsweredRate: number | undefined;
  /** Answered requests that pressed on the budget since the rate last changed. */
  #answeredSinceChange = 0;
  /** The 429s of the last minutes: since the first, and the requests answered since (sent after it). */
  #episode: { since: number; lastAt: number; answered: number } | undefined;
  /** Set by a 429 to a request the budget did not hold back: Duo's burst is smaller than this one's. */
  #noBurst = false;
  /**
   * The bucket, kept as the time at which it would be full again had nobody drawn from it since
   * (the "theoretical arrival time" of the generic cell rate algorithm): a request may go once
   * `now >= fullAt - burstWindow`, and each one pushes `fullAt` one interval further.
   */
  #fullAt = 0;
  /** No request before this (a `Retry-After`). */
  #notBefore = 0;

  /** Duo's published rate; an option only so that tests can play the same story faster. */
  readonly #published: number;

  /**
   * `requestsPerMinute`: the operator's setting, which starts and caps the budget; undefined: the
   * budget adapts, starting from `published`.
   */
  constructor(requestsPerMinute?: number, published = DUO_PUBLISHED_REQUESTS_PER_MINUTE) {
    this.#cap = requestsPerMinute;
    this.#published = published;
    this.#requestsPerMinute = requestsPerMinute ?? published;
  }

  /** The current rate. */
  get requestsPerMinute(): number {
    return this.#requestsPerMinute;
  }

  /**
   * True until the account first answers 429: the rate still rises a quarter per answer. A run that
   * finds this false starts at the rate an earlier run of the account learned.
   */
  get probing(): boolean {
    return this.#probing;
  }

  /** The operator's setting, if any. */
  get cap(): number | undefined {
    return this.#cap;
  }

  /**
   * Applies the operator's setting. A new value is the operator's word on the account's limit: the
   * budget restarts from it. Unset, the budget keeps what it learned and adapts from there.
   */
  setCap(requestsPerMinute: number | undefined): void {
    if (requestsPerMinute === this.#cap) return;
    this.#cap = requestsPerMinute;
    if (requestsPerMinute !== undefined) {
      this.#setRate(requestsPerMinute);
      this.#lastAnsweredRate = undefined;
      this.#answeredSinceChange = 0;
    }
  }

  get #intervalMs(): number {
    return 60_000 / this.#requestsPerMinute;
  }

  /**
   * How far ahead of its even spacing a request may go: the requests the budget lets through at
   * once, less the one. Duo's bucket is taken to hold one second's worth of requests (of the
   * published rate at most: a probe must not take Duo's burst for its rate); the budget leaves a
   * request's worth in it, or `JITTER_ROOM_MS` of its rate if that is more.
   */
  get #burstWindowMs(): number {
    if (this.#noBurst) return 0;
    const interval = this.#intervalMs;
    const duoBurst = Math.ceil(Math.min(this.#requestsPerMinute, this.#published) / 60);
    const leftInDuoBucket = Math.max(1, Math.ceil(JITTER_ROOM_MS / interval));
    return Math.max(0, duoBurst - leftInDuoBucket - 1) * interval;
  }

  /**
   * Waits for this caller's slot. Rejects with the signal's reason when aborted (the slot is then
   * given back if nobody queued behind it). Report the answer with `answered` or `refused`.
   */
  async take(signal?: AbortSignal): Promise<RateBudgetSlot> {
    signal?.throwIfAborted();
    const now = Date.now();
    const fullAtBefore = this.#fullAt;
    const at = Math.max(now, this.#fullAt - this.#burstWindowMs, this.#notBefore);
    this.#fullAt = Math.max(this.#fullAt, at) + this.#intervalMs;
    const fullAtAfter = this.#fullAt;
    const waitMs = at - now;
    // Fewer than two tokens were left: this request could not have gone a token earlier.
    const pressing = now < fullAtBefore - this.#burstWindowMs + this.#intervalMs;
    if (waitMs <= 0) return { at, heldBack: false, pressing };
    try {
      await sleep(waitMs, signal);
    } catch (error) {
      // Only the last reservation can be returned without disturbing the callers queued behind it.
      if (this.#fullAt === fullAtAfter) this.#fullAt = fullAtBefore;
      throw error;
    }
    return { at, heldBack: true, pressing };
  }

  /** Duo answered the request of `slot` (anything but 429). */
  answered(slot: RateBudgetSlot): void {
    if (this.#episode && slot.at >= this.#episode.since) this.#episode.answered += 1;
    // A request that found the bucket full says nothing about whether the rate is too low.
    if (!slot.pressing || this.#requestsPerMinute >= (this.#cap ?? Infinity)) return;
    this.#answeredSinceChange += 1;
    if (!this.#probing && this.#answeredSinceChange < this.#requestsPerMinute) return;
    this.#lastAnsweredRate = this.#requestsPerMinute;
    this.#answeredSinceChange = 0;
    const growth = this.#probing ? PROBE_GROWTH : RECOVERY_GROWTH;
    this.#setRate(Math.min(this.#cap ?? Infinity, this.#requestsPerMinute * growth));
  }

  /**
   * Changes the rate. What the bucket owes is a number of requests, not a time: at the new rate it
   * is repaid sooner or later, so the debt is rescaled (otherwise a rate raised while probing would
   * still wait out intervals reserved at the old one, and the probe would crawl).
   */
  #setRate(requestsPerMinute: number): void {
    const now = Date.now();
    if (this.#fullAt > now) this.#fullAt = now + ((this.#fullAt - now) * this.#requestsPerMinute) / requestsPerMinute;
    this.#requestsPerMinute = requestsPerMinute;
  }

  /**
   * Duo answered the request of `slot` with 429, with `Retry-After` of `retryAfterMs` if any.
   * Returns the new rate, or undefined when it did not change (a request sent before the episode's
   * first 429 was refused: that one already accounts for it).
   */
  refused(slot: RateBudgetSlot, retryAfterMs?: number): number | undefined {
    const now = Date.now();
    if (retryAfterMs !== undefined) this.#notBefore = Math.max(this.#notBefore, now + retryAfterMs);
    const episode = this.#episode && now - this.#episode.lastAt < EPISODE_MS ? this.#episode : undefined;
    if (episode && slot.at < episode.since) return undefined;
    const rate = this.#requestsPerMinute;
    let lowered: number;
    if (episode) {
      // Ten answers make a measurement; fewer are the network's jitter around a rate about right.
      const measured =
        episode.answered >= MIN_ANSWERS_MEASURED
          ? (episode.answered * 60_000) / Math.max(1, now - episode.since)
          : rate * JITTER_STEP;
      // A lower bound (Duo admitted at least that much); steps of a quarter at most, in case the
      // window also holds moments when the fetch asked less than Duo would have admitted.
      lowered = Math.max(rate * MAX_MEASURED_STEP, Math.min(rate, measured));
      episode.lastAt = now;
    } else {
      const previous = this.#lastAnsweredRate;
      // Past the published rate on the budget's own probe (not on the operator's word): back to it.
      if (this.#probing && this.#cap === undefined && rate > this.#published) lowered = this.#published;
      else lowered = previous !== undefined && previous < rate ? previous : rate * JITTER_STEP;
      this.#episode = { since: now, lastAt: now, answered: 0 };
    }
    if (!slot.heldBack) this.#noBurst = true;
    this.#setRate(Math.max(MIN_REQUESTS_PER_MINUTE, lowered));
    this.#probing = false;
    this.#lastAnsweredRate = undefined;
    this.#answeredSinceChange = 0;
    // Duo's bucket is empty: so is this one, a token short even, so that the next request waits
    // two intervals and the budget stays a token behind Duo's bucket whatever the network's jitter.
    this.#fullAt = Math.max(this.#fullAt, now + this.#burstWindowMs + 2 * this.#intervalMs);
    return this.#requestsPerMinute;
  }
}

const budgets = new Map<string, RateBudget>();

/**
 * The process-wide budget of one endpoint of one Duo account, capped by the operator's setting
 * (undefined: none). Later calls share it and apply their setting (`setCap`): one budget per
 * endpoint of an account, whatever the number of clients.
 */
export function sharedRateBudget(
  account: { apiHostname: string; integrationKey: string },
  endpointPath: string,
  requestsPerMinute: number | undefined,
  published?: number,
): RateBudget {
  const key = `${account.apiHostname.toLowerCase()}\n${account.integrationKey}\n${endpointPath}`;
  let budget = budgets.get(key);
  if (!budget) {
    budget = new RateBudget(requestsPerMinute, published);
    budgets.set(key, budget);
  } else {
    budget.setCap(requestsPerMinute);
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
