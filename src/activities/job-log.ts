/**
 * Posting a run's events to its JupiterOne job log, where the job keeps one. JupiterOne keeps a log
 * for the integration job behind an integration instance's synchronization job; a job for an API
 * scope has no integration job, and JupiterOne's SDK posts no events for one — neither does this.
 */
import type { InstanceConfig } from '../config/instances';
import type { JupiterOneSyncClient } from '../jupiterone/client';
import type { JobEvent } from '../jupiterone/job-events';

/** True when the instance's synchronization jobs have a job log. */
export function keepsJobLog(instance: InstanceConfig): boolean {
  return instance.jupiterone !== undefined && instance.jupiterone.target.source !== 'api';
}

/** Posts the events, best effort (JupiterOneSyncClient.publishEvents): only cancellation throws. */
export async function postJobEvents(
  instance: InstanceConfig,
  client: JupiterOneSyncClient,
  jobId: string,
  events: readonly JobEvent[],
  signal?: AbortSignal,
): Promise<void> {
  if (!keepsJobLog(instance)) return;
  await client.publishEvents(jobId, events, { signal });
}
