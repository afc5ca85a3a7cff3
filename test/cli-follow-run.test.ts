import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import { fetchCountsOf, type PendingActivityLike } from '../src/cli/follow-run';
import { duoJ1ActivityName } from '../src/workflows/contract';

/** A pending activity as the server describes it, with `details` as its last heartbeat. */
function pending(activity: string, details?: unknown): PendingActivityLike {
  return {
    activityType: { name: duoJ1ActivityName(activity) },
    heartbeatDetails: details === undefined ? null : { payloads: [defaultPayloadConverter.toPayload(details)] },
  };
}

describe('the live counts a followed run prints', () => {
  it("are the fetches' records read, never a build's records applied", () => {
    const counts = fetchCountsOf([
      pending('fetchResource', {
        resource: 'users',
        nextOffset: 600,
        partsWritten: 2,
        records: 600,
        totalObjects: 900,
      }),
      pending('fetchResource', { resource: 'phones', nextOffset: 500, partsWritten: 1, records: 500 }),
      // The build following the fetch names the resource it applies, with the records applied so far.
      pending('buildGraphAsFetched', { phase: 'building', resource: 'users', records: 300 }),
      pending('fetchResource'),
    ]);
    assert.deepEqual(counts, {
      users: { records: 600, totalObjects: 900 },
      phones: { records: 500, totalObjects: undefined },
    });
  });
});
