/**
 * Paging Duo's administrator log, which has no cursor: a request names a `mintime` in whole
 * seconds and Duo answers with at most the 1000 earliest events at or after it. The next page is
 * asked for from the last timestamp read — so it starts with that second's events again, and the
 * cursor says how many of them were folded already (`skip`). Pure.
 *
 * Two things need care. Events of the second the cursor names are dropped only as many as were
 * folded: a second's events split across two pages are folded once each. And Duo delays its logs:
 * only whole seconds older than the tail's lag are folded, so a second is never half-read when
 * more of its events are still to appear.
 *
 * Unconfirmed: that Duo returns a second's events in the same order every time it is asked (the
 * skip counts on it) — nothing in Duo's text says otherwise, and its log is append-only.
 */
import type { DuoAdministratorLogEvent } from '../duo/types';
import type { LogCursor } from '../workflows/log-tail-contract';

export interface AdministratorPage {
  /** The events not folded before, oldest first. */
  events: DuoAdministratorLogEvent[];
  cursor: LogCursor;
  /** Read up to the lag: nothing more to read until the next poll. */
  caughtUp: boolean;
  /**
   * Events of one second beyond what one answer holds (`limit` of them in one second): the rest
   * of that second cannot be reached through Duo's paging and is passed over.
   */
  unreachable?: { second: number };
}

/**
 * What to fold of an answer to `mintime = cursor second`, given that only seconds up to
 * `completeUntil` (epoch ms) are whole, and where reading goes on.
 */
export function administratorPageAt(
  cursor: LogCursor,
  answer: readonly DuoAdministratorLogEvent[],
  completeUntil: number,
  limit: number,
): AdministratorPage {
  const from = Math.floor(cursor.mintime / 1000);
  const lastWholeSecond = Math.floor(completeUntil / 1000) - 1;
  let alreadyFolded = cursor.skip ?? 0;
  const events: DuoAdministratorLogEvent[] = [];
  let second = from;
  let atSecond = cursor.skip ?? 0;
  let reachedLag = false;
  for (const event of answer) {
    if (event.timestamp < from) continue;
    if (event.timestamp > lastWholeSecond) {
      reachedLag = true;
      break;
    }
    if (event.timestamp === from && alreadyFolded > 0) {
      alreadyFolded -= 1;
      continue;
    }
    if (event.timestamp !== second) {
      second = event.timestamp;
      atSecond = 0;
    }
    atSecond += 1;
    events.push(event);
  }
  // Caught up once an answer has nothing new before the lag. Not from a short answer: Duo's page
  // size is documented (1000), not promised, and a short answer read as the end would leave the
  // rest of the log to the next poll.
  const caughtUp = reachedLag || events.length === 0;
  if (answer.length >= limit && !reachedLag && answer.every((event) => event.timestamp === from)) {
    // A whole answer of one second: asking again from it would return the same events forever.
    return { events, cursor: { mintime: (from + 1) * 1000 }, caughtUp: false, unreachable: { second: from } };
  }
  return {
    events,
    cursor: atSecond > 0 ? { mintime: second * 1000, skip: atSecond } : { mintime: second * 1000 },
    caughtUp,
  };
}
