/** The buildGraph activity: staged converted records → staged graph objects, plus a small summary. */
import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { buildGraph as buildStagedGraph } from '../graph/build-graph';
import { graphInstanceContext } from '../graph/converters';
import { ENTITY_KINDS, RELATIONSHIP_KINDS } from '../graph/data-model';
import { logGraphFacts, type LogGraphFacts } from '../graph/log-facts';
import { aggregateFilePath, readAggregateFile } from '../logs/aggregate-file';
import type { InstanceConfig } from '../config/instances';
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
        const logs = await logFactsOf(deps, instance);
        const summary = await runs.run(input.runKey, cancellationSignal(), (signal) =>
          withPeriodicHeartbeat({ phase: 'building' }, () =>
            buildStagedGraph(run, input.outcomes, graphInstanceContext(instance, deps.env), {
              signal,
              logFacts: logs?.facts,
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
          partialTypes: [
            ...summary.partialTypes,
            ...(logs?.unavailable === undefined
              ? []
              : [{ type: RELATIONSHIP_KINDS.userUsesIntegration._type, reason: logs.unavailable }]),
            ...(logs?.administrationUnavailable === undefined
              ? []
              : ADMINISTRATION_LOG_KINDS.map((kind) => ({
                  type: RELATIONSHIP_KINDS[kind]._type,
                  reason: logs.administrationUnavailable!,
                }))),
            // Refused by the account's edition or not read yet: JupiterOne keeps what it has.
            ...(logs?.trustMonitorUnavailable === undefined
              ? []
              : [
                  ENTITY_KINDS.trustMonitorEvent._type,
                  ...TRUST_MONITOR_KINDS.map((kind) => RELATIONSHIP_KINDS[kind]._type),
                ].map((type) => ({ type, reason: logs.trustMonitorUnavailable! }))),
          ],
          dropped: summary.dropped,
          skippedRelationships: summary.skippedRelationships,
        };
      });
    },
  };
}

interface LogFactsOfRun {
  facts?: LogGraphFacts;
  /** Why the usage facts, the administrators' facts and Trust Monitor's findings are not there. */
  unavailable?: string;
  administrationUnavailable?: string;
  trustMonitorUnavailable?: string;
}

/**
 * The facts of the instance's log aggregates, when its logs are on: undefined when they are off;
 * `unavailable` says why there are none yet (JupiterOne then keeps the usage edges it has).
 */
async function logFactsOf(deps: ActivityDependencies, instance: InstanceConfig): Promise<LogFactsOfRun | undefined> {
  if (!instance.logs?.enabled) return undefined;
  const stored = await readAggregateFile(aggregateFilePath(deps.config.dataDir, instance.id)).catch(() => undefined);
  if (!stored) {
    const unavailable =
      "the log tail has no aggregates on this worker's host yet (just started, rebuilding, or its host is another)";
    return { unavailable, administrationUnavailable: unavailable, trustMonitorUnavailable: unavailable };
  }
  const backfilling = 'the log tail is still reading its backfill window';
  if (!stored.file.backfilled) {
    return { unavailable: backfilling, administrationUnavailable: backfilling, trustMonitorUnavailable: backfilling };
  }
  const section = stored.file.administration;
  // The administrators' logs count once each of them the tail reads was read through its
  // backfill (a log Duo refused is not read, and does not hold the other back).
  const administrationStreams = (['administrator', 'activity'] as const).filter(
    (stream) => section?.refused?.[stream] === undefined,
  );
  const administration =
    section && administrationStreams.every((stream) => section.backfilled[stream]) ? section : undefined;
  const trustMonitorRefused = section?.refused?.trustMonitor;
  const trustMonitor = section?.backfilled.trustMonitor ? section.trustMonitor : undefined;
  return {
    facts: logGraphFacts(stored.file.authentication, Date.now(), administration?.aggregates, trustMonitor),
    ...(administration
      ? {}
      : {
          administrationUnavailable:
            "the log tail has not read the administrators' logs through their backfill window yet",
        }),
    ...(trustMonitor
      ? {}
      : {
          trustMonitorUnavailable:
            trustMonitorRefused ?? "the log tail has not read Trust Monitor's events through their backfill window yet",
        }),
  };
}

/** The relationships made from the administrator and activity logs. */
const ADMINISTRATION_LOG_KINDS = ['adminCreatedIntegration', 'adminKnowsIntegration', 'adminAllowsUser'] as const;
/** The relationships made from Trust Monitor's events. */
const TRUST_MONITOR_KINDS = [
  'userHasTrustMonitorEvent',
  'adminHasTrustMonitorEvent',
  'phoneHasTrustMonitorEvent',
  'endpointHasTrustMonitorEvent',
] as const;
