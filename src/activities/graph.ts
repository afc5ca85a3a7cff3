/** The buildGraph activity: staged converted records → staged graph objects, plus a small summary. */
import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { buildGraph as buildStagedGraph } from '../graph/build-graph';
import { graphInstanceContext } from '../graph/converters';
import type { DroppedObjects, PartialType, ResourceName, ResourceOutcome } from '../workflows/contract';
import { findInstanceOrFail, type ActivityDependencies } from './dependencies';
import { classified } from './failures';
import { withPeriodicHeartbeat } from './heartbeat';
import type { RunActivities } from './run-activities';

export interface GraphSummary {
  entities: Record<string, number>;
  relationships: Record<string, number>;
  partialTypes: PartialType[];
  dropped: DroppedObjects;
  skippedRelationships: { type: string; reason: string; count: number }[];
}

export function createGraphActivities(deps: ActivityDependencies, runs: RunActivities) {
  return {
    async buildGraph(input: {
      instanceId: string;
      runKey: string;
      outcomes: Record<ResourceName, ResourceOutcome>;
    }): Promise<GraphSummary> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        const run = deps.staging.openRun(input.runKey);
        const summary = await runs.run(input.runKey, cancellationSignal(), (signal) =>
          withPeriodicHeartbeat({ phase: 'building' }, () =>
            buildStagedGraph(run, input.outcomes, graphInstanceContext(instance, deps.env), {
              signal,
              // Every progress point is a chance to learn of a cancellation (the worker throttles
              // what reaches the server): a cancelled build stops within a heartbeat's round trip.
              onProgress: (progress) => heartbeat({ phase: 'building', ...progress }),
            }),
          ),
        );
        deps.log?.('info', 'Graph built', {
          entities: Object.values(summary.entities).reduce((sum, count) => sum + count, 0),
          relationships: Object.values(summary.relationships).reduce((sum, count) => sum + count, 0),
        });
        return {
          entities: summary.entities,
          relationships: summary.relationships,
          partialTypes: summary.partialTypes,
          dropped: summary.dropped,
          skippedRelationships: summary.skippedRelationships,
        };
      });
    },
  };
}
