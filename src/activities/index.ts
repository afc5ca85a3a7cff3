/**
 * The activities of duoIngestion, built by a factory over injected dependencies (the worker's
 * configuration, its staging store, client options). Each activity is a thin shell: it resolves
 * the instance, calls the modules that do the work (src/duo, src/graph, src/output,
 * src/jupiterone) and classifies their errors. The workflow types its proxies with
 * `ReturnType<typeof createActivities>`.
 */
import { PageConversion } from '../graph/page-conversion';
import { hostTaskQueue } from '../workflows/contract';
import { createDeliveryActivities } from './deliver';
import type { ActivityDependencies } from './dependencies';
import { createFetchActivities } from './fetch';
import { createGraphActivities } from './graph';
import { RunActivities } from './run-activities';

export type { ActivityDependencies } from './dependencies';

export function createActivities(deps: ActivityDependencies) {
  const runs = new RunActivities();
  // Converting each fetched page, on threads for large lists: one per worker, shared by its runs.
  const conversion = new PageConversion();
  return {
    /** Claims this worker's staging for a run: the run's next activities go to its host queue. */
    async claimStaging(): Promise<{ hostTaskQueue: string; stagingStoreId: string }> {
      return { hostTaskQueue: hostTaskQueue(deps.config.taskQueue, deps.staging.id), stagingStoreId: deps.staging.id };
    },

    /**
     * Removes a run's staged files, after stopping the run's activities still at work on this
     * worker (they would write again what is removed); safe to call more than once.
     */
    async cleanupStaging(input: { runKey: string }): Promise<void> {
      await runs.stop(input.runKey);
      await deps.staging.openRun(input.runKey).remove();
    },

    ...createFetchActivities(deps, runs, conversion),
    ...createGraphActivities(deps, runs),
    ...createDeliveryActivities(deps, runs),
  };
}

export type DuoJ1Activities = ReturnType<typeof createActivities>;
