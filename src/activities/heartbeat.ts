import { heartbeat } from '@temporalio/activity';

/**
 * Heartbeats every few seconds while `body` runs, for activities whose work (building the graph,
 * writing the local output) has no natural checkpoints: the server still notices a dead worker
 * within the heartbeat timeout, and cancellation reaches the activity.
 */
export async function withPeriodicHeartbeat<T>(details: unknown, body: () => Promise<T>, everyMs = 5000): Promise<T> {
  heartbeat(details);
  const timer = setInterval(() => heartbeat(details), everyMs);
  try {
    return await body();
  } finally {
    clearInterval(timer);
  }
}
