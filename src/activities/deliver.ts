/**
 * Delivery activities: the local graph directory, or a JupiterOne synchronization job (upload →
 * finalize, abort on failure; the job is started while validating, before Duo is read). Idempotent under retries and re-runs: the workflow holds
 * the job id; the upload heartbeats how far it got and a retry resumes there; uploads use
 * `ignoreDuplicates` so a re-sent batch is harmless; finalizing reads the job first.
 */
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { assertDeliveredAsBuilt } from '../graph/completeness';
import { GRAPH_DATASETS } from '../graph/data-model';
import { syncJobChangeCounts, type SyncJobChangeCounts, type UploadProgress } from '../jupiterone/client';
import type { GraphUploadSummary } from '../jupiterone/types';
import { formatChangeReport } from '../output/change-report';
import { publishPreparedLocalGraph } from '../output/local-graph-draft';
import { writeLocalGraphFromStagedRun } from '../output/staged-graph';
import { readDatasetLines } from '../staging/json-lines';
import { StagedInputMissingError, type StagedRun } from '../staging/store';
import {
  partialTypeEvents,
  resourceEvents,
  runCompleteEvent,
  uploadEndEvent,
  uploadStartEvent,
  type RunEnding,
} from '../jupiterone/job-events';
import type { InstanceGrant } from '../workflows/coordination-contract';
import type { LocalDeliveryReport, PartialType, ResourceName, ResourceOutcome } from '../workflows/contract';
import { jupiterOneClientFor } from './clients';
import { preparedLocalDraft } from './local-draft';
import { LOCAL_GRAPH_STEPS } from './local-graph-steps';
import { checkGrant } from './coordination';
import { findInstanceOrFail, type ActivityDependencies } from './dependencies';
import { classified } from './failures';
import { withPeriodicHeartbeat } from './heartbeat';
import { postJobEvents } from './job-log';
import type { RunActivities } from './run-activities';
import { abortRunJob, forgetOpenJob } from './sync-job';

export { LOCAL_GRAPH_STEPS } from './local-graph-steps';

/**
 * Upload order: every entity dataset, then every relationship dataset (JupiterOne's own order).
 * Each kind goes up as one stream of objects, its datasets one after the other: uploading dataset
 * by dataset let the requests in flight run down to none at each of the twenty-odd boundaries.
 */
const UPLOAD_ORDER = (['entities', 'relationships'] as const).map((kind) => ({
  kind,
  datasets: GRAPH_DATASETS.filter((d) => d.kind === kind).map((d) => d.dataset),
}));

/**
 * What uploadGraph heartbeats: the kind it is on (0 entities, 1 relationships), how many objects of
 * that kind's stream are committed (and which of them were rejected), and what the kinds before it
 * delivered. A retry resumes from it, so the counts it reports cover every attempt.
 */
interface UploadHeartbeat {
  /** True once the events before the upload are in the job log (a retry does not post them again). */
  eventsPosted?: boolean;
  kindIndex: number;
  committedObjects: number;
  committedRejectedByType: Record<string, number>;
  /** Objects delivered per `_type`, for the kinds done. */
  delivered: Record<string, number>;
  /** Upload requests answered and their bytes as sent and before compression, every attempt's. */
  batches: number;
  bytes: number;
  uncompressedBytes: number;
  rejected: number;
  rejectedTypes: string[];
}

/**
 * The staged lines of several datasets, one dataset after the other, counting the lines of each
 * as they go by: every line is read on every attempt (a resumed upload skips the committed ones
 * after reading them), so the counts are whole datasets'.
 */
async function* stagedLinesOf(
  run: StagedRun,
  datasets: readonly string[],
  linesRead: Map<string, number>,
): AsyncIterable<Uint8Array[]> {
  for (const dataset of datasets) {
    linesRead.set(dataset, 0);
    for await (const lines of readDatasetLines(run, dataset)) {
      linesRead.set(dataset, linesRead.get(dataset)! + lines.length);
      yield lines;
    }
  }
}

/** What finalizeSyncJob heartbeats: a retry does not post the job log events again. */
interface FinalizeHeartbeat {
  eventsPosted: boolean;
  status?: string;
}

/** Objects delivered of one kind, from the counts per `_type`. */
function deliveredOfKind(delivered: Readonly<Record<string, number>>, kind: 'entities' | 'relationships'): number {
  return GRAPH_DATASETS.filter((d) => d.kind === kind).reduce((sum, d) => sum + (delivered[d.type] ?? 0), 0);
}

/** Types of the staged graph datasets. */
const TYPE_OF_DATASET = new Map(GRAPH_DATASETS.map((d) => [d.dataset, d.type]));

export function createDeliveryActivities(deps: ActivityDependencies, runs: RunActivities) {
  return {
    async deliverLocal(input: {
      instanceId: string;
      grant: InstanceGrant;
      runKey: string;
      partialTypes: PartialType[];
      /** Objects built per `_type`: what every complete type must deliver, exactly. */
      built: Record<string, number>;
    }): Promise<LocalDeliveryReport> {
      return classified(() =>
        runs.run(input.runKey, cancellationSignal(), async (signal) => {
          findInstanceOrFail(deps, input.instanceId);
          await checkGrant(deps.temporalClient, input.grant);
          const run = deps.staging.openRun(input.runKey);
          const output = { dataDir: deps.config.dataDir, instanceId: input.instanceId };
          // The version the build wrote as it went, when it was made for exactly this delivery.
          const prepared = await preparedLocalDraft(run);
          // A cancelled delivery publishes nothing, however little is left to do.
          signal.throwIfAborted();
          const published = prepared && (await publishPreparedLocalGraph(output, prepared, input));
          const result =
            published ||
            (await withPeriodicHeartbeat({ phase: 'writing the local graph directory' }, () =>
              writeLocalGraphFromStagedRun({
                ...output,
                signal,
                run,
                steps: LOCAL_GRAPH_STEPS,
                partialTypes: input.partialTypes,
                built: input.built,
              }),
            ));
          return {
            ...(published ? { writtenAsBuilt: true } : {}),
            target: 'local',
            outputDir: result.paths.outputDir,
            graphHtml: result.paths.htmlFile,
            changesFile: result.paths.changesFile,
            changes: {
              created: result.changes.totals.created,
              updated: result.changes.totals.updated,
              deleted: result.changes.totals.deleted,
            },
            changeSummary: formatChangeReport(result.changes, { maxKeysPerList: 5 }),
          };
        }),
      );
    },

    /**
     * Uploads the staged graph into the job, entities first, resuming after what an earlier
     * attempt committed. Refuses a staged graph that lacks a dataset the build wrote objects to
     * (its objects would be missing from the job and deleted at finalize).
     */
    async uploadGraph(input: {
      instanceId: string;
      grant: InstanceGrant;
      runKey: string;
      jobId: string;
      /** Objects built per `_type`. */
      built: Record<string, number>;
      /** What the run read from each Duo resource, for the job log. */
      resources?: Record<ResourceName, ResourceOutcome>;
    }): Promise<GraphUploadSummary> {
      return classified(() =>
        runs.run(input.runKey, cancellationSignal(), async (signal) => {
          const instance = findInstanceOrFail(deps, input.instanceId);
          await checkGrant(deps.temporalClient, input.grant);
          const client = jupiterOneClientFor(deps, instance);
          const run = deps.staging.openRun(input.runKey);
          const resumed = activityInfo().heartbeatDetails as UploadHeartbeat | undefined;
          // An attempt from before gzip heartbeated no uncompressed size: its bytes were the JSON itself.
          const state: UploadHeartbeat = resumed
            ? { ...resumed, uncompressedBytes: resumed.uncompressedBytes ?? resumed.bytes }
            : {
                kindIndex: 0,
                committedObjects: 0,
                committedRejectedByType: {},
                delivered: {},
                batches: 0,
                bytes: 0,
                uncompressedBytes: 0,
                rejected: 0,
                rejectedTypes: [],
              };
          const staged = new Set(await run.listDatasets('graph'));
          const missing = GRAPH_DATASETS.filter(
            ({ dataset, type }) => (input.built[type] ?? 0) > 0 && !staged.has(dataset),
          );
          if (missing.length > 0) {
            throw new StagedInputMissingError(
              run.key,
              missing[0].dataset,
              `no staged dataset for ${missing.map((d) => d.type).join(', ')}, although the build wrote objects to them`,
            );
          }
          if (!state.eventsPosted) {
            const events = [...resourceEvents(input.resources ?? {}), uploadStartEvent()];
            await postJobEvents(instance, client, input.jobId, events, signal);
            state.eventsPosted = true;
            heartbeat(state);
          }
          for (
            ;
            state.kindIndex < UPLOAD_ORDER.length;
            state.kindIndex += 1, state.committedObjects = 0, state.committedRejectedByType = {}
          ) {
            const { kind, datasets } = UPLOAD_ORDER[state.kindIndex];
            const before = { batches: state.batches, bytes: state.bytes, uncompressedBytes: state.uncompressedBytes };
            const options = {
              signal,
              skipObjects: state.committedObjects,
              skippedRejectedByType: state.committedRejectedByType,
              onBatchDone: (progress: UploadProgress) => {
                const details: UploadHeartbeat = {
                  ...state,
                  committedObjects: progress.committedObjects,
                  committedRejectedByType: progress.committedRejectedByType,
                  batches: before.batches + progress.uploadedRequests,
                  bytes: before.bytes + progress.uploadedBytes,
                  uncompressedBytes: before.uncompressedBytes + progress.uploadedUncompressedBytes,
                };
                heartbeat(details);
              },
            };
            // The staged lines go out as they are, as bytes: no parsing and serialising each object
            // again, not even decoding it. The stream is the same on every attempt (the staged
            // datasets in a fixed order), so a retry skips exactly the objects already committed.
            const linesRead = new Map<string, number>();
            const objects = stagedLinesOf(
              run,
              datasets.filter((dataset) => staged.has(dataset)),
              linesRead,
            );
            const result =
              kind === 'entities'
                ? await client.uploadEntities(input.jobId, objects, options)
                : await client.uploadRelationships(input.jobId, objects, options);
            for (const [dataset, lines] of linesRead) {
              const type = TYPE_OF_DATASET.get(dataset)!;
              state.delivered[type] = lines - (result.rejectedByType[type] ?? 0);
            }
            state.batches = before.batches + result.requests;
            state.bytes = before.bytes + result.bytes;
            state.uncompressedBytes = before.uncompressedBytes + result.uncompressedBytes;
            state.rejected += result.rejectedCount;
            state.rejectedTypes = [...new Set([...state.rejectedTypes, ...result.rejectedTypes])];
            heartbeat({ ...state, kindIndex: state.kindIndex + 1, committedObjects: 0, committedRejectedByType: {} });
          }
          const uploaded = {
            entities: deliveredOfKind(state.delivered, 'entities'),
            relationships: deliveredOfKind(state.delivered, 'relationships'),
            batches: state.batches,
            bytes: state.bytes,
            uncompressedBytes: state.uncompressedBytes,
          };
          await postJobEvents(instance, client, input.jobId, [uploadEndEvent(uploaded)], signal);
          return {
            uploaded,
            delivered: state.delivered,
            rejected: state.rejected,
            rejectedTypes: state.rejectedTypes,
          };
        }),
      );
    },

    /**
     * Finalizes with the partial types (JupiterOne keeps their previous data) and waits for the
     * job to finish — but only when every type not partial was delivered exactly as built:
     * otherwise it refuses (IncompleteDeliveryError), and the run aborts the job. Finalizing an
     * already finalizing or finished job is a no-op.
     */
    async finalizeSyncJob(input: {
      instanceId: string;
      grant: InstanceGrant;
      jobId: string;
      /**
       * Types whose previous data JupiterOne keeps, each with why. Bare type names are what runs
       * scheduled this activity with before the job log; still taken, so that a run in flight
       * across an upgrade keeps every partial type.
       */
      partialTypes: (PartialType | string)[];
      /** Objects built per `_type`. */
      built: Record<string, number>;
      /** Objects delivered per `_type` (uploadGraph's `delivered`). */
      delivered: Record<string, number>;
      /**
       * Given when the graph was uploaded as it was built (buildGraphAsFetched): the job log has
       * not heard yet what the run read and what the upload sent, which uploadGraph says otherwise.
       */
      uploadedAsBuilt?: { resources: Record<ResourceName, ResourceOutcome>; uploaded: GraphUploadSummary['uploaded'] };
    }): Promise<{ status: string } & Omit<SyncJobChangeCounts, 'uploaded'>> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        await checkGrant(deps.temporalClient, input.grant);
        const reasons = input.partialTypes.map((partial) =>
          typeof partial === 'string' ? { type: partial, reason: 'the run found it incomplete' } : partial,
        );
        const partialTypes = reasons.map((partial) => partial.type);
        assertDeliveredAsBuilt('JupiterOne', input.built, input.delivered, partialTypes);
        const client = jupiterOneClientFor(deps, instance);
        const signal = cancellationSignal();
        if (!(activityInfo().heartbeatDetails as FinalizeHeartbeat | undefined)?.eventsPosted) {
          const complete = runCompleteEvent({
            partialTypes: partialTypes.length,
            entities: deliveredOfKind(input.delivered, 'entities'),
            relationships: deliveredOfKind(input.delivered, 'relationships'),
          });
          const uploadEvents = input.uploadedAsBuilt
            ? [...resourceEvents(input.uploadedAsBuilt.resources), uploadEndEvent(input.uploadedAsBuilt.uploaded)]
            : [];
          const events = [...uploadEvents, ...partialTypeEvents(reasons), complete];
          await postJobEvents(instance, client, input.jobId, events, signal);
          heartbeat({ eventsPosted: true } satisfies FinalizeHeartbeat);
        }
        await client.finalizeIfNeeded(input.jobId, { types: partialTypes }, { signal });
        const job = await client.waitForJobToFinish(input.jobId, {
          signal,
          onPoll: (polled) => heartbeat({ eventsPosted: true, status: polled.status } satisfies FinalizeHeartbeat),
        });
        await forgetOpenJob(deps, instance.id);
        const { entities, relationships, mappedRelationships } = syncJobChangeCounts(job);
        return { status: job.status, entities, relationships, mappedRelationships };
      });
    },

    /**
     * Aborts the job if it still awaits uploads, saying in its job log how the run ended (`reason`
     * is also the abort's reason); a finalized job is left as it is.
     */
    async abortSyncJob(input: {
      instanceId: string;
      jobId: string;
      reason: string;
      /** How the run ended; default `failed`. */
      ending?: RunEnding;
    }): Promise<void> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        const end = { reason: input.reason, ending: input.ending ?? 'failed' };
        await abortRunJob(deps, instance, jupiterOneClientFor(deps, instance), input.jobId, end, cancellationSignal());
      });
    },
  };
}
