/**
 * When a simulated log's events happen: event `i` at `origin + i × (60,000 / eventsPerMinute)` ms,
 * so any event's time, and the first event at or after any time, are computed without a list.
 */
export class EventClock {
  /** Epoch ms of event 0. */
  readonly origin: number;
  readonly #intervalMs: number;

  constructor(
    readonly eventsPerMinute: number,
    options: { historyMs?: number; startedAt?: number },
  ) {
    if (!(eventsPerMinute > 0)) throw new RangeError('eventsPerMinute must be positive');
    this.#intervalMs = 60_000 / eventsPerMinute;
    this.origin = (options.startedAt ?? Date.now()) - (options.historyMs ?? 24 * 3600_000);
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
