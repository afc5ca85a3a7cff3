/**
 * Delivery activities: the local graph directory, or a JupiterOne synchronization job (upload →
 * finalize, abort on failure; the job is started while validating, before Duo is read). Idempotent under retries and re-runs: the workflow holds
 * the job id; the upload heartbeats how far it got and a retry resumes there; uploads use
 * `ignoreDuplicates` so a re-sent batch is harmless; finalizing reads the job first.
 */
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { assertDeliveredAsBuilt } from '../graph/completeness';
import { GRAPH_DATASETS, GRAPH_STEPS, typesOfStep } from '../graph/data-model';
import { syncJobChangeCounts, type SyncJobChangeCounts, type UploadProgress } from '../jupiterone/client';
import { formatChangeReport } from '../output/change-report';
import { writeLocalGraphFromStagedRun } from '../output/staged-graph';
import type { GraphStep } from '../output/graph-files';
import { StagedInputMissingError, type StagedRun } from '../staging/store';
import type { InstanceGrant } from '../workflows/coordination-contract';
import type { LocalDeliveryReport, PartialType } from '../workflows/contract';
import { jupiterOneClientFor } from './clients';
import { checkGrant } from './coordination';
import { findInstanceOrFail, type ActivityDependencies } from './dependencies';
import { classified } from './failures';
import { withPeriodicHeartbeat } from './heartbeat';
import type { RunActivities } from './run-activities';
import { forgetOpenJob } from './sync-job';

/** The steps of the local graph directory, from the data model declaration. */
export const LOCAL_GRAPH_STEPS: readonly GraphStep[] = GRAPH_STEPS.map((step) => {
  const types = typesOfStep(step.id);
  return {
    id: step.id,
    name: step.name,
    entityTypes: types.entities,
    relationshipTypes: [...types.relationships, ...types.mappedRelationships],
  };
});

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
  kindIndex: number;
  committedObjects: number;
  committedRejectedByType: Record<string, number>;
  /** Objects delivered per `_type`, for the kinds done. */
  delivered: Record<string, number>;
  /** Upload requests answered and their bytes, every attempt's. */
  batches: number;
  bytes: number;
  rejected: number;
  rejectedTypes: string[];
}

export interface UploadSummary {
  /** Objects delivered (uploaded and accepted), for the whole upload whatever the attempts. */
  uploaded: { entities: number; relationships: number; batches: number; bytes: number };
  /** Objects delivered per `_type`: what the finalize gate compares with the objects built. */
  delivered: Record<string, number>;
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
    for await (const lines of run.readJsonLineBatches(dataset)) {
      linesRead.set(dataset, linesRead.get(dataset)! + lines.length);
      yield lines;
    }
  }
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
        runs.run(input.runKey, cancellationSignal(), async () => {
          findInstanceOrFail(deps, input.instanceId);
          await checkGrant(deps.temporalClient, input.grant);
          const result = await withPeriodicHeartbeat({ phase: 'writing the local graph directory' }, () =>
            writeLocalGraphFromStagedRun({
              run: deps.staging.openRun(input.runKey),
              dataDir: deps.config.dataDir,
              instanceId: input.instanceId,
              steps: LOCAL_GRAPH_STEPS,
              partialTypes: input.partialTypes,
              built: input.built,
            }),
          );
          return {
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
    }): Promise<UploadSummary> {
      return classified(() =>
        runs.run(input.runKey, cancellationSignal(), async (signal) => {
          const instance = findInstanceOrFail(deps, input.instanceId);
          await checkGrant(deps.temporalClient, input.grant);
          const client = jupiterOneClientFor(deps, instance);
          const run = deps.staging.openRun(input.runKey);
          const resumed = activityInfo().heartbeatDetails as UploadHeartbeat | undefined;
          const state: UploadHeartbeat = resumed ?? {
            kindIndex: 0,
            committedObjects: 0,
            committedRejectedByType: {},
            delivered: {},
            batches: 0,
            bytes: 0,
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
          for (
            ;
            state.kindIndex < UPLOAD_ORDER.length;
            state.kindIndex += 1, state.committedObjects = 0, state.committedRejectedByType = {}
          ) {
            const { kind, datasets } = UPLOAD_ORDER[state.kindIndex];
            const before = { batches: state.batches, bytes: state.bytes };
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
            state.rejected += result.rejectedCount;
            state.rejectedTypes = [...new Set([...state.rejectedTypes, ...result.rejectedTypes])];
            heartbeat({ ...state, kindIndex: state.kindIndex + 1, committedObjects: 0, committedRejectedByType: {} });
          }
          const total = (kind: 'entities' | 'relationships') =>
            GRAPH_DATASETS.filter((d) => d.kind === kind).reduce((sum, d) => sum + (state.delivered[d.type] ?? 0), 0);
          return {
            uploaded: {
              entities: total('entities'),
              relationships: total('relationships'),
              batches: state.batches,
              bytes: state.bytes,
            },
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
      partialTypes: string[];
      /** Objects built per `_type`. */
      built: Record<string, number>;
      /** Objects delivered per `_type` (uploadGraph's `delivered`). */
      delivered: Record<string, number>;
    }): Promise<{ status: string } & Omit<SyncJobChangeCounts, 'uploaded'>> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        await checkGrant(deps.temporalClient, input.grant);
        assertDeliveredAsBuilt('JupiterOne', input.built, input.delivered, input.partialTypes);
        const client = jupiterOneClientFor(deps, instance);
        const signal = cancellationSignal();
        await client.finalizeIfNeeded(input.jobId, { types: input.partialTypes }, { signal });
        const job = await client.waitForJobToFinish(input.jobId, {
          signal,
          onPoll: (polled) => heartbeat({ status: polled.status }),
        });
        await forgetOpenJob(deps, instance.id);
        const { entities, relationships, mappedRelationships } = syncJobChangeCounts(job);
        return { status: job.status, entities, relationships, mappedRelationships };
      });
    },

    async abortSyncJob(input: { instanceId: string; jobId: string; reason: string }): Promise<void> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        await jupiterOneClientFor(deps, instance).abortJobIfOpen(input.jobId, input.reason, {
          signal: cancellationSignal(),
        });
        await forgetOpenJob(deps, instance.id);
      });
    },
  };
}
