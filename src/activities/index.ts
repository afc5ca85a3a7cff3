/**
 * The activities of duoIngestion, built by a factory over injected dependencies (the worker's
 * configuration, its staging store, client options). Each activity is a thin shell: it resolves
 * the instance, calls the modules that do the work (src/duo, src/graph, src/output,
 * src/jupiterone) and classifies their errors.
 *
 * They are registered under prefixed names (`duoJ1.fetchResource`, …): a team that registers them
 * on its own worker, beside its own activities, cannot have one of its activities replace ours or
 * ours replace one of its. The workflows call them by their plain names through
 * `proxyDuoJ1Activities`, typed by `DuoJ1ActivityFunctions`.
 */
import { activityInfo } from '@temporalio/activity';
import { PageConverter } from '../graph/page-conversion';
import type { InstanceGrant } from '../workflows/coordination-contract';
import { duoJ1ActivityName, hostTaskQueue, type DuoJ1ActivityName } from '../workflows/contract';
import { checkGrant, createCoordinationActivities } from './coordination';
import { createDeliveryActivities } from './deliver';
import type { ActivityDependencies } from './dependencies';
import { forgetLocalDraft } from './local-draft';
import { createFetchActivities } from './fetch';
import { createGraphActivities } from './graph';
import { createLogActivities } from './logs';
import { RunActivities } from './run-activities';

export type { ActivityDependencies } from './dependencies';

function activityFunctions(deps: ActivityDependencies) {
  const runs = new RunActivities();
  // One conversion thread per worker process, shared by its runs' fetches.
  const converter = new PageConverter({
    env: deps.env ?? process.env,
    log: (level, message, fields) => deps.log?.(level, message, fields),
  });
  return {
    /**
     * Claims this worker's staging for a run: the run's next activities go to its host queue,
     * named after the queue this worker polls (whatever the team that runs it called it). The
     * coordinator learns where the run's staging is, to remove it should the run die.
     */
    async claimStaging(input: {
      grant: InstanceGrant;
      runKey: string;
    }): Promise<{ hostTaskQueue: string; stagingStoreId: string }> {
      const queue = hostTaskQueue(activityInfo().taskQueue, deps.staging.id);
      await checkGrant(deps.temporalClient, input.grant, { hostTaskQueue: queue, runKey: input.runKey });
      return { hostTaskQueue: queue, stagingStoreId: deps.staging.id };
    },

    /**
     * Removes a run's staged files, after stopping the run's activities still at work on this
     * worker (they would write again what is removed); safe to call more than once.
     */
    async cleanupStaging(input: { runKey: string }): Promise<void> {
      await runs.stop(input.runKey);
      const run = deps.staging.openRun(input.runKey);
      // A local output the build wrote and no delivery published (the run failed or was cancelled);
      // the next write of the instance's output removes it if this cannot.
      await forgetLocalDraft(deps, run).catch((error: unknown) =>
        deps.log?.('warn', 'An unpublished local graph version was left for the next write to remove', {
          reason: (error as Error).message,
        }),
      );
      await run.remove();
    },

    ...createCoordinationActivities(deps),
    ...createFetchActivities(deps, runs, converter),
    ...createGraphActivities(deps, runs),
    ...createDeliveryActivities(deps, runs),
    ...createLogActivities(deps),
  };
}

/** The activities under their plain names: what the workflows call. */
export type DuoJ1ActivityFunctions = ReturnType<typeof activityFunctions>;

/** The activities under the names they are registered with (`duoJ1.<name>`). */
export type DuoJ1Activities = {
  [Name in keyof DuoJ1ActivityFunctions as DuoJ1ActivityName<Name & string>]: DuoJ1ActivityFunctions[Name];
};

/** duo-j1's activities, keyed by their registered names, for `Worker.create({ activities })`. */
export function createActivities(deps: ActivityDependencies): DuoJ1Activities {
  const functions: Record<string, unknown> = activityFunctions(deps);
  return Object.fromEntries(
    Object.entries(functions).map(([name, activity]) => [duoJ1ActivityName(name), activity]),
  ) as DuoJ1Activities;
}
