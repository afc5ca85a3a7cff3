/** The buildGraph activity: staged raw records → staged graph objects, plus a small summary. */
import { cancellationSignal } from '@temporalio/activity';
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
        const ahead = deps.conversionAhead;
        const summary = await runs.run(input.runKey, cancellationSignal(), async (signal) => {
          // What was converted ahead is complete from here on; the rest the build converts itself.
          await ahead?.finish(input.runKey);
          return withPeriodicHeartbeat({ phase: 'building' }, () =>
            buildStagedGraph(run, input.outcomes, graphInstanceContext(instance), {
              signal,
              ...(ahead ? { borrowThreads: () => ahead.lend() } : {}),
            }),
          );
        });
        deps.log?.('info', 'Graph built', {
          entities: Object.values(summary.entities).reduce((sum, count) => sum + count, 0),
          relationships: Object.values(summary.relationships).reduce((sum, count) => sum + count, 0),
          partsConvertedAhead: summary.convertedAhead.parts,
          parts: summary.convertedAhead.of,
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
