import { duoErrorAnswer, type DuoAnswer } from './answers';

/** Duo answers `mintime` older than this with 400. */
export const MAX_WINDOW_AGE_MS = 180 * 24 * 3600_000;

/**
 * A log request's `mintime`/`maxtime` window (milliseconds, both required), or Duo's 400 for it:
 * a missing or reversed bound, or a `mintime` older than 180 days.
 */
export function requestedWindow(
  params: Record<string, string>,
  now: number,
): { mintime: number; maxtime: number } | { refusal: DuoAnswer } {
  const mintime = wholeNumber(params.mintime);
  const maxtime = wholeNumber(params.maxtime);
  const refuse = (detail: string) => ({ refusal: duoErrorAnswer(400, 40002, 'Invalid request parameters', detail) });
  if (mintime === undefined) return refuse('mintime');
  if (maxtime === undefined || maxtime < mintime) return refuse('maxtime');
  if (mintime < now - MAX_WINDOW_AGE_MS) return refuse('mintime must be within the past 180 days');
  return { mintime, maxtime };
}

export function wholeNumber(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,16}$/.test(value) ? Number(value) : undefined;
}

/**
 * When a simulated log's events happen: event `i` at `origin + i × (60,000 / eventsPerMinute)` ms,
 * so any event's time, and the first event at or after any time, are computed without a list.
 */
export class EventClock {
  /** Epoch ms of event 0. */
  readonly origin: number;
  /** Events younger than this are not served yet, as at Duo. */
  readonly delayMs: number;
  /** What every event's generator is seeded from. */
  protected readonly seed: number;
  readonly #intervalMs: number;

  constructor(
    readonly eventsPerMinute: number,
    options: { historyMs?: number; startedAt?: number; delayMs?: number; seed?: number },
  ) {
    if (!(eventsPerMinute > 0)) throw new RangeError('eventsPerMinute must be positive');
    this.#intervalMs = 60_000 / eventsPerMinute;
    this.origin = (options.startedAt ?? Date.now()) - (options.historyMs ?? 24 * 3600_000);
    this.delayMs = options.delayMs ?? 120_000;
    this.seed = options.seed ?? 1;
  }

  /** Epoch ms of event `index`. */
  timeOf(index: number): number {
    return this.origin + Math.floor(index * this.#intervalMs);
  }

  /** The first event at or after `time`. */
  firstIndexAtOrAfter(time: number): number {
    if (time <= this.origin) return 0;
    let index = Math.max(0, Math.floor((time - this.origin) / this.#intervalMs) - 1);
    while (this.timeOf(index) < time) index += 1;
    return index;
  }
}
