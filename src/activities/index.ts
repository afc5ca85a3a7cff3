/**
 * The activities of duoIngestion, built by a factory over injected dependencies (the worker's
 * configuration, its staging store, client options). Each activity is a thin shell: it resolves
 * the instance, calls the modules that do the work (src/duo, src/graph, src/output,
 * src/jupiterone) and classifies their errors. The workflow types its proxies with
 * `ReturnType<typeof createActivities>`.
 */
import type { InstanceGrant } from '../workflows/coordination-contract';
import { hostTaskQueue } from '../workflows/contract';
import { checkGrant, createCoordinationActivities } from './coordination';
import { createDeliveryActivities } from './deliver';
import type { ActivityDependencies } from './dependencies';
import { createFetchActivities } from './fetch';
import { createGraphActivities } from './graph';
import { RunActivities } from './run-activities';

export type { ActivityDependencies } from './dependencies';

export function createActivities(deps: ActivityDependencies) {
  const runs = new RunActivities();
  return {
    /**
     * Claims this worker's staging for a run: the run's next activities go to its host queue. The
     * coordinator learns where the run's staging is, to remove it should the run die.
     */
    async claimStaging(input: {
      grant: InstanceGrant;
      runKey: string;
    }): Promise<{ hostTaskQueue: string; stagingStoreId: string }> {
      const queue = hostTaskQueue(deps.config.taskQueue, deps.staging.id);
      await checkGrant(deps.temporalClient, input.grant, { hostTaskQueue: queue, runKey: input.runKey });
      return { hostTaskQueue: queue, stagingStoreId: deps.staging.id };
    },

    /**
     * Removes a run's staged files, after stopping the run's activities still at work on this
     * worker (they would write again what is removed); safe to call more than once.
     */
    async cleanupStaging(input: { runKey: string }): Promise<void> {
      await runs.stop(input.runKey);
      await deps.conversionAhead?.finish(input.runKey);
      await deps.staging.openRun(input.runKey).remove();
    },

    ...createCoordinationActivities(deps),
    ...createFetchActivities(deps, runs),
    ...createGraphActivities(deps, runs),
    ...createDeliveryActivities(deps, runs),
  };
}

export type DuoJ1Activities = ReturnType<typeof createActivities>;
