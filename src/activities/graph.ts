/**
 * The build activities: staged converted records → staged graph objects, plus a small summary.
 * `buildGraphAsFetched` builds while the fetch stages the records; `buildGraph`, once it is over.
 */
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import {
  buildGraph as buildStagedGraph,
  resourcesStagedBy,
  type BuildGraphOptions,
  type BuildGraphProgress,
  type BuildGraphSummary,
} from '../graph/build-graph';
import {
  FollowedDatasetIdleError,
  FollowedPartsReplacedError,
  convertedDatasetName,
  followConvertedParts,
} from '../graph/converted-part';
import { untilTheFetchLeavesTime } from '../graph/follow-pace';
import { graphInstanceContext } from '../graph/converters';
import { ENTITY_KINDS, RELATIONSHIP_KINDS } from '../graph/data-model';
import { logGraphFacts, type LogGraphFacts } from '../graph/log-facts';
import type { GraphUploadSummary } from '../jupiterone/types';
import { aggregateFilePath, readAggregateFile } from '../logs/aggregate-file';
import { deliveryTarget, type InstanceConfig } from '../config/instances';
import { RESOURCE_NAMES, isResourceSwitchedOff } from '../resources/table';
import { StagedInputMissingError, type StagedRun } from '../staging/store';
import type { DroppedObjects, PartialType, ResourceName, ResourceOutcome } from '../workflows/contract';
import { findInstanceOrFail, type ActivityDependencies } from './dependencies';
import { forgetLocalDraft, keepLocalDraft, startLocalDraft } from './local-draft';
import { finishUploadAsBuilt, startUploadAsBuilt, type UploadInto } from './upload-as-built';
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

/**
 * What `buildGraphAsFetched` answers: the graph, built from the fetch outcomes it assumed (every
 * resource the run reads complete, or switched off); or why it stopped following, in which case
 * the graph is built once the fetch is over.
 */
export type FollowedGraph =
  | {
      graph: GraphSummary;
      assumed: Record<ResourceName, ResourceOutcome['status']>;
      /** The graph as uploaded into the job it was given, when every object of it was. */
      upload?: GraphUploadSummary;
    }
  | { gaveUp: string };

/** Whom a build gives each object as it stages it: the local output's draft, or the run's job. */
type BuildFollower = { local: true } | { jupiterOne: UploadInto };

/**
 * A build's heartbeat details: its phase and, from its first part on, where it is (every heartbeat
 * carries the last progress reported, so the one the server keeps says it, and a retry reads it).
 */
interface BuildHeartbeat extends Partial<BuildGraphProgress> {
  phase: string;
}

/** The resources an earlier attempt of this build found staged, from its last heartbeat. */
function stagedForEarlierAttempt(): ReadonlySet<ResourceName> {
  const recorded = activityInfo().heartbeatDetails as BuildHeartbeat | undefined;
  const resource = recorded?.resource;
  // Details of another shape (an older worker's) say nothing.
  if (typeof resource !== 'string' || !RESOURCE_NAMES.includes(resource)) return new Set();
  return new Set(resourcesStagedBy(resource));
}

export function createGraphActivities(deps: ActivityDependencies, runs: RunActivities) {
  /**
   * The graph of a run from the staged parts `partsOf` gives (by default, once each manifest is
   * there). With a `follower`, the graph is also delivered as it is built: the instance's local
   * output written, for the delivery to publish (local-draft.ts), or the run's JupiterOne job
   * uploaded into (upload-as-built.ts).
   */
  async function build(
    input: { instanceId: string; runKey: string; outcomes: Record<ResourceName, ResourceOutcome> },
    partsOf?: (run: StagedRun, signal: AbortSignal) => BuildGraphOptions['partsOf'],
    follower?: BuildFollower,
  ): Promise<{ graph: GraphSummary; upload?: GraphUploadSummary }> {
    const instance = findInstanceOrFail(deps, input.instanceId);
    const run = deps.staging.openRun(input.runKey);
    const logs = await logFactsOf(deps, instance);
    return runs.run(input.runKey, cancellationSignal(), async (signal) => {
      // A draft of an earlier attempt, or of the build this one replaces, was made for another graph.
      await forgetLocalDraft(deps, run);
      const draft = follower && 'local' in follower ? await startLocalDraft(deps, instance.id) : undefined;
      const upload =
        follower && 'jupiterOne' in follower
          ? await startUploadAsBuilt(deps, instance, follower.jupiterOne, signal)
          : undefined;
      // Where the build is and what the upload has sent so far go with each heartbeat: the Temporal
      // UI shows them, and a retried build learns from them which datasets were staged.
      let reached: BuildGraphProgress | undefined;
      const details = (phase: string): BuildHeartbeat => ({
        phase,
        ...reached,
        ...(upload ? { uploadedToJupiterOne: upload.progress } : {}),
      });
      let graph: GraphSummary;
      try {
        const summary = await withPeriodicHeartbeat(
          () => details('building'),
          () =>
            buildStagedGraph(run, input.outcomes, graphInstanceContext(instance, deps.env), {
              signal,
              logFacts: logs?.facts,
              partsOf: partsOf?.(run, signal),
              copyTo: draft ?? upload,
              // Every progress point is a chance to learn of a cancellation (the worker throttles
              // what reaches the server): a cancelled build stops within a heartbeat's round trip.
              onProgress: (progress) => {
                reached = progress;
                heartbeat(details('building'));
              },
            }),
        );
        deps.log?.('info', 'Graph built', {
          entities: Object.values(summary.entities).reduce((sum, count) => sum + count, 0),
          relationships: Object.values(summary.relationships).reduce((sum, count) => sum + count, 0),
        });
        graph = graphSummaryOf(summary, logs);
      } catch (error) {
        await draft?.discard();
        await upload?.discard();
        throw error;
      }
      if (draft) {
        await withPeriodicHeartbeat(details('writing the local graph directory'), () =>
          keepLocalDraft(deps, run, draft, { ...graph, built: { ...graph.entities, ...graph.relationships } }),
        );
      }
      if (upload) {
        const delivered = await withPeriodicHeartbeat(
          () => details('uploading the last objects to JupiterOne'),
          () => finishUploadAsBuilt(deps, upload, signal),
        );
        return { graph, ...(delivered ? { upload: delivered } : {}) };
      }
      return { graph };
    });
  }

  return {
    async buildGraph(input: {
      instanceId: string;
      runKey: string;
      outcomes: Record<ResourceName, ResourceOutcome>;
    }): Promise<GraphSummary> {
      return classified(async () => (await build(input)).graph);
    },

    /**
     * Builds the graph while the fetch stages it, applying each converted page soon after it is
     * staged in the time the fetch leaves idle (follow-pace.ts), so that at Duo's rate limits the
     * build is over moments after the fetch. `outcomes` are the run's as its
     * fetch starts: every resource it reads `running`. The build assumes each of those completes
     * (or is switched off, which the instance's configuration says); the workflow uses the graph
     * only if the fetch ends exactly so, and builds it again otherwise.
     *
     * It gives up (and the workflow builds once the fetch is over) when a retried fetch replaced
     * parts it had applied, or when a fetch does not start within a minute: on a worker with few
     * activity slots that fetch may be waiting for the one this activity holds.
     *
     * Given `uploadInto`, the run's JupiterOne job, it uploads each object into it as it is built
     * (upload-as-built.ts): at Duo's rate limits the job then only needs finalizing once the fetch
     * is over. Without it, a JupiterOne run uploads once the graph is built.
     */
    async buildGraphAsFetched(input: {
      instanceId: string;
      runKey: string;
      outcomes: Record<ResourceName, ResourceOutcome>;
      uploadInto?: UploadInto;
    }): Promise<FollowedGraph> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        const assumed = Object.fromEntries(
          RESOURCE_NAMES.map((resource) => {
            const outcome = input.outcomes[resource];
            if (outcome.status !== 'running') return [resource, outcome];
            return [resource, { status: isResourceSwitchedOff(resource, instance.sources) ? 'off' : 'complete' }];
          }),
        ) as Record<ResourceName, ResourceOutcome>;
        try {
          const following = RESOURCE_NAMES.filter((resource) => assumed[resource].status === 'complete');
          // The graph is delivered in the same idle time: at Duo's rate limits, the delivery is
          // then over moments after the build.
          const target = deliveryTarget(instance);
          const follower: BuildFollower | undefined =
            target === 'local'
              ? { local: true }
              : target === 'jupiterone' && input.uploadInto
                ? { jupiterOne: input.uploadInto }
                : undefined;
          const { graph, upload } = await build(
            { instanceId: input.instanceId, runKey: input.runKey, outcomes: assumed },
            (run, signal) => {
              // Only the time the fetches leave idle, until they are all over.
              const pace = untilTheFetchLeavesTime(run, following.map(convertedDatasetName), { signal });
              // A dataset an earlier attempt read and that is gone now was lost with the staging:
              // give up at once (the build after the fetch finds it missing and starts over).
              const staged = stagedForEarlierAttempt();
              return (resource, key) =>
                followConvertedParts(run, resource, key, { signal, pace, stagedBefore: staged.has(resource) });
            },
            follower,
          );
          const statuses = Object.fromEntries(RESOURCE_NAMES.map((resource) => [resource, assumed[resource].status]));
          return {
            graph,
            assumed: statuses as Record<ResourceName, ResourceOutcome['status']>,
            ...(upload ? { upload } : {}),
          };
        } catch (error) {
          // A part replaced under the build or not as its log said, or a fetch that never started:
          // the build once the fetch is over reads the manifests (and restarts the pipeline if
          // they are not right either).
          if (
            error instanceof FollowedPartsReplacedError ||
            error instanceof FollowedDatasetIdleError ||
            error instanceof StagedInputMissingError
          ) {
            deps.log?.('info', 'The graph will be built once the fetch is over', { reason: error.message });
            return { gaveUp: error.message };
          }
          throw error;
        }
      });
    },
  };
}

/** The activity's summary of a build: the build's, with the types the log facts leave partial. */
function graphSummaryOf(summary: BuildGraphSummary, logs: LogFactsOfRun | undefined): GraphSummary {
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
