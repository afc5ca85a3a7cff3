/**
 * Delivery activities: the local graph directory, or a JupiterOne synchronization job (start →
 * upload → finalize, abort on failure). Idempotent under retries and re-runs: the workflow holds
 * the job id; the upload heartbeats how far it got and a retry resumes there; uploads use
 * `ignoreDuplicates` so a re-sent batch is harmless; finalizing reads the job first.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { GRAPH_DATASETS, GRAPH_STEPS, typesOfStep } from '../graph/data-model';
import { syncJobChangeCounts, type SyncJobChangeCounts } from '../jupiterone/client';
import { formatChangeReport } from '../output/change-report';
import { writeLocalGraphFromStagedRun } from '../output/staged-graph';
import type { GraphStep } from '../output/graph-files';
import type { StagedRun } from '../staging/store';
import type { LocalDeliveryReport, PartialType } from '../workflows/contract';
import { jupiterOneClientFor } from './clients';
import { findInstanceOrFail, type ActivityDependencies } from './dependencies';
import { classified } from './failures';
import { withPeriodicHeartbeat } from './heartbeat';

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
 * What uploadGraph heartbeats: the kind it is on (0 entities, 1 relationships) and how many
 * objects of that kind's stream are committed.
 */
interface UploadHeartbeat {
  kindIndex: number;
  committedObjects: number;
  uploaded: { entities: number; relationships: number; batches: number; bytes: number };
  rejected: number;
  rejectedTypes: string[];
}

export interface UploadSummary {
  uploaded: UploadHeartbeat['uploaded'];
  rejected: number;
  rejectedTypes: string[];
}

/**
 * The open job of an instance, remembered on the worker's disk, so that a job left awaiting uploads
 * by a run that died without cleaning up is aborted before the next one starts (the synchronization
 * API offers no way to list open jobs).
 */
function openJobFile(deps: ActivityDependencies, instanceId: string): string {
  return path.join(deps.config.dataDir, 'state', instanceId, 'open-sync-job.json');
}

/** The staged lines of several datasets, one dataset after the other. */
async function* stagedLinesOf(run: StagedRun, datasets: readonly string[]): AsyncIterable<Uint8Array[]> {
  for (const dataset of datasets) yield* run.readJsonLineBatches(dataset);
}

export function createDeliveryActivities(deps: ActivityDependencies) {
  return {
    async deliverLocal(input: {
      instanceId: string;
      runKey: string;
      partialTypes: PartialType[];
    }): Promise<LocalDeliveryReport> {
      return classified(async () => {
        findInstanceOrFail(deps, input.instanceId);
        const result = await withPeriodicHeartbeat({ phase: 'writing the local graph directory' }, () =>
          writeLocalGraphFromStagedRun({
            run: deps.staging.openRun(input.runKey),
            dataDir: deps.config.dataDir,
            instanceId: input.instanceId,
            steps: LOCAL_GRAPH_STEPS,
            partialTypes: input.partialTypes,
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
      });
    },

    /** Aborts the instance's stale open job, if any, then starts a new one. */
    async startSyncJob(input: { instanceId: string }): Promise<{ jobId: string }> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        const client = jupiterOneClientFor(deps, instance);
        const signal = cancellationSignal();
        const stateFile = openJobFile(deps, instance.id);
        const stale = await readFile(stateFile, 'utf8')
          .then((text) => (JSON.parse(text) as { jobId?: string }).jobId)
          .catch(() => undefined);
        if (stale) {
          await client.abortJobIfOpen(stale, 'superseded by a new duo-j1 run', { signal });
          deps.log?.('info', 'Aborted a stale JupiterOne job of this instance', { jobId: stale });
        }
        const job = await client.startJob(instance.jupiterone!.target, { signal });
        await mkdir(path.dirname(stateFile), { recursive: true, mode: 0o700 });
        await writeFile(stateFile, JSON.stringify({ jobId: job.id }), { mode: 0o600 });
        return { jobId: job.id };
      });
    },

    async uploadGraph(input: { instanceId: string; runKey: string; jobId: string }): Promise<UploadSummary> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        const client = jupiterOneClientFor(deps, instance);
        const run = deps.staging.openRun(input.runKey);
        const signal = cancellationSignal();
        const resumed = activityInfo().heartbeatDetails as UploadHeartbeat | undefined;
        const state: UploadHeartbeat = resumed ?? {
          kindIndex: 0,
          committedObjects: 0,
          uploaded: { entities: 0, relationships: 0, batches: 0, bytes: 0 },
          rejected: 0,
          rejectedTypes: [],
        };
        const staged = new Set(await run.listDatasets('graph'));
        for (; state.kindIndex < UPLOAD_ORDER.length; state.kindIndex += 1, state.committedObjects = 0) {
          const { kind, datasets } = UPLOAD_ORDER[state.kindIndex];
          const options = {
            signal,
            skipObjects: state.committedObjects,
            onBatchDone: (progress: { committedObjects: number }) => {
              heartbeat({ ...state, committedObjects: progress.committedObjects });
            },
          };
          // The staged lines go out as they are, as bytes: no parsing and serialising each object
          // again, not even decoding it. The stream is the same on every attempt (the staged
          // datasets in a fixed order), so a retry skips exactly the objects already committed.
          const objects = stagedLinesOf(
            run,
            datasets.filter((dataset) => staged.has(dataset)),
          );
          const result =
            kind === 'entities'
              ? await client.uploadEntities(input.jobId, objects, options)
              : await client.uploadRelationships(input.jobId, objects, options);
          state.uploaded[kind] += result.objects;
          state.uploaded.batches += result.requests;
          state.uploaded.bytes += result.bytes;
          state.rejected += result.rejectedCount;
          state.rejectedTypes = [...new Set([...state.rejectedTypes, ...result.rejectedTypes])];
          heartbeat({ ...state, kindIndex: state.kindIndex + 1, committedObjects: 0 });
        }
        return { uploaded: state.uploaded, rejected: state.rejected, rejectedTypes: state.rejectedTypes };
      });
    },

    /**
     * Finalizes with the partial types (JupiterOne keeps their previous data) and waits for the
     * job to finish. Finalizing an already finalizing or finished job is a no-op.
     */
    async finalizeSyncJob(input: {
      instanceId: string;
      jobId: string;
      partialTypes: string[];
    }): Promise<{ status: string } & Omit<SyncJobChangeCounts, 'uploaded'>> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        const client = jupiterOneClientFor(deps, instance);
        const signal = cancellationSignal();
        await client.finalizeIfNeeded(input.jobId, { types: input.partialTypes }, { signal });
        const job = await client.waitForJobToFinish(input.jobId, {
          signal,
          onPoll: (polled) => heartbeat({ status: polled.status }),
        });
        await rm(openJobFile(deps, instance.id), { force: true });
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
        await rm(openJobFile(deps, instance.id), { force: true });
      });
    },
  };
}
