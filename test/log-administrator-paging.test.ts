import assert from 'node:assert/strict';
import type { DuoAdministratorLogEvent } from '../src/duo/types';
import { administratorPageAt } from '../src/logs/administrator-paging';

/** Events at these seconds, in order, each told apart by its `object`. */
function eventsAt(...seconds: number[]): DuoAdministratorLogEvent[] {
  return seconds.map((timestamp, index) => ({ timestamp, action: 'admin_login', username: 'A', object: `e${index}` }));
}

const NOW = 2_000_000 * 1000;

describe("administrator log paging: a second's events split across answers", () => {
  it('reads on from the last second of an answer, skipping only the events of it already folded', () => {
    // An answer of four ending with two events at second 12; the log's next events are at 12 and 13.
    const first = administratorPageAt({ mintime: 10_000 }, eventsAt(10, 11, 12, 12), NOW, 4);
    assert.deepEqual(first.cursor, { mintime: 12_000, skip: 2 });
    assert.equal(first.caughtUp, false);
    // Asked again from second 12, Duo answers its three events there and the one at 13.
    const answer = eventsAt(12, 12, 12, 13);
    const second = administratorPageAt(first.cursor, answer, NOW, 4);
    assert.deepEqual(second.events, [answer[2], answer[3]]);
    assert.deepEqual(second.cursor, { mintime: 13_000, skip: 1 });
    // Nothing new: read to the end.
    const third = administratorPageAt(second.cursor, eventsAt(13), NOW, 4);
    assert.deepEqual(third.events, []);
    assert.equal(third.caughtUp, true);
    assert.deepEqual(third.cursor, { mintime: 13_000, skip: 1 });
  });

  it('folds only whole seconds older than the lag, and goes on from the last one', () => {
    const completeUntil = 20_500; // seconds up to 19 are whole
    const page = administratorPageAt({ mintime: 18_000 }, eventsAt(18, 19, 20, 20), completeUntil, 1000);
    assert.deepEqual(
      page.events.map((event) => event.timestamp),
      [18, 19],
    );
    assert.equal(page.caughtUp, true);
    assert.deepEqual(page.cursor, { mintime: 19_000, skip: 1 });
  });

  it('passes over a second with more events than one answer holds, and says so', () => {
    const full = eventsAt(...Array.from({ length: 5 }, () => 30));
    const page = administratorPageAt({ mintime: 30_000 }, full, NOW, 5);
    assert.equal(page.events.length, 5);
    assert.deepEqual(page.unreachable, { second: 30 });
    assert.deepEqual(page.cursor, { mintime: 31_000 });
    assert.equal(page.caughtUp, false);
  });
});
