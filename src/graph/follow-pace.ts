/**
 * How a build that runs beside the fetch (`followConvertedParts`, converted-part.ts) takes its share
 * of the CPU: only what the fetch leaves idle. At Duo's rate limits the fetch's thread is mostly
 * waiting for Duo, and the build applies each page soon after it is staged; unthrottled, the fetch
 * keeps this thread busy, and applying pages beside it would only slow it down (and hold the build's
 * memory beside the fetch's), so the build waits, and applies at full speed once every fetch it
 * follows is over.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { StagedRun } from '../staging/store';

export interface FollowPaceOptions {
  signal?: AbortSignal;
  /** The share of this thread's time above which it counts as busy. */
  busyAbove?: number;
  /** The window over which that share is measured before each part. */
  windowMs?: number;
}

/**
 * Below the share above which the fetch hands pages to the conversion thread (page-conversion.ts):
 * the build's own work, which the window before each part does not see, must not be what sends
 * them there.
 */
const BUSY_ABOVE = 0.4;
/**
 * A window before each part: at Duo's rate limit, short enough for the build to catch up with the
 * users (applied only after the phones, tokens and credentials they link to) well before their
 * fetch ends; 100 ms left it 1.5–2.9 s behind at 100,000 users.
 */
const WINDOW_MS = 50;

/**
 * A pace for a build following the fetch of `datasets`: it resolves at once when every one of them
 * is committed (the fetch is over), and otherwise once this thread was busy less than `busyAbove`
 * of a window of `windowMs`.
 */
export function untilTheFetchLeavesTime(
  run: StagedRun,
  datasets: readonly string[],
  options: FollowPaceOptions = {},
): () => Promise<void> {
  const { signal, busyAbove = BUSY_ABOVE, windowMs = WINDOW_MS } = options;
  const pending = new Set(datasets);
  const fetchIsOver = async (): Promise<boolean> => {
    for (const dataset of [...pending]) {
      if (!(await run.readManifest(dataset))) return false;
      pending.delete(dataset);
    }
    return true;
  };
  return async () => {
    for (;;) {
      if (await fetchIsOver()) return;
      const start = performance.eventLoopUtilization();
      await delay(windowMs, undefined, { signal }).catch(() => signal?.throwIfAborted());
      if (performance.eventLoopUtilization(start).utilization < busyAbove) return;
    }
  };
}
