import { heartbeat } from '@temporalio/activity';

/**
 * How often an activity heartbeats while it has nothing new to report. The worker sends at most one
 * heartbeat per `maxHeartbeatThrottleInterval` (src/worker/workers.ts) whatever the activity calls,
 * so calling often costs nothing — and it is only through a heartbeat's answer that an activity
 * learns that it was cancelled, and only through heartbeats that the server sees a worker alive.
 */
export const HEARTBEAT_EVERY_MS = 1000;

/**
 * Heartbeats every `everyMs` while `body` runs, with `details` (or what a function of that name
 * answers at that moment): for activities whose work has no natural checkpoints (building the
 * graph, writing the local output) or long waits between them (a fetch backing off from Duo's rate
 * limit). The server then notices a dead worker within the heartbeat timeout, and cancellation
 * reaches the activity within seconds.
 */
export async function withPeriodicHeartbeat<T>(
  details: unknown,
  body: () => Promise<T>,
  everyMs = HEARTBEAT_EVERY_MS,
): Promise<T> {
  const current = typeof details === 'function' ? (details as () => unknown) : () => details;
  heartbeat(current());
  const timer = setInterval(() => heartbeat(current()), everyMs);
  try {
    return await body();
  } finally {
    clearInterval(timer);
  }
}
