/**
 * Wire types of JupiterOne's synchronization ("persister") API, as the uploader and the simulator
 * both speak it. Field names follow the API's own job object so that a job read from JupiterOne and
 * one read from the simulator look the same.
 */

export const SYNC_JOB_STATUSES = [
  'AWAITING_UPLOADS',
  'FINALIZE_PENDING',
  'FINALIZING_ENTITIES',
  'FINALIZING_RELATIONSHIPS',
  'ABORTED',
  'FINISHED',
  'UNKNOWN',
  'ERROR_BAD_DATA',
  'ERROR_UNEXPECTED_FAILURE',
  'ABORTED_DUE_TO_INVALID_CONFIGURATION',
] as const;

export type SyncJobStatus = (typeof SYNC_JOB_STATUSES)[number];

/** Statuses after which a job never changes again. */
export const TERMINAL_SYNC_JOB_STATUSES: readonly SyncJobStatus[] = [
  'FINISHED',
  'ABORTED',
  'ERROR_BAD_DATA',
  'ERROR_UNEXPECTED_FAILURE',
  'ABORTED_DUE_TO_INVALID_CONFIGURATION',
];

/** Statuses in which JupiterOne is processing a finalized job (uploads are closed, nothing failed yet). */
export const FINALIZING_SYNC_JOB_STATUSES: readonly SyncJobStatus[] = [
  'FINALIZE_PENDING',
  'FINALIZING_ENTITIES',
  'FINALIZING_RELATIONSHIPS',
];

export type SyncJobSource = 'api' | 'integration-managed' | 'integration-external' | 'system-internal';

/**
 * Where a synchronization job writes. DIFF replaces everything JupiterOne holds for this target, so
 * the target names exactly one dataset: a custom-integration instance (`integration-external`, the
 * default for a self-run integration), a managed instance, or an API scope.
 */
export type SyncJobTarget =
  | { source: 'integration-external'; integrationInstanceId: string }
  | { source: 'integration-managed'; integrationInstanceId: string }
  | { source: 'api'; scope: string };

export type SyncMode = 'DIFF';

/** Body of `POST /persister/synchronization/jobs`. */
export interface StartSyncJobBody {
  source: SyncJobSource;
  syncMode?: SyncMode;
  scope?: string;
  integrationInstanceId?: string;
  integrationJobId?: string;
}

/** Types whose previously synchronized objects JupiterOne must keep when they are not re-sent. */
export interface PartialDatasets {
  types: string[];
}

export interface FinalizeSyncJobBody {
  partialDatasets?: PartialDatasets;
}

export interface AbortSyncJobBody {
  reason?: string;
  terminalStatus?: SyncJobStatus;
}

/** The counters JupiterOne keeps on a job. Created/updated/deleted are filled when it finishes. */
export interface SyncJobCounters {
  numEntitiesUploaded: number;
  numEntitiesCreated: number;
  numEntitiesUpdated: number;
  numEntitiesDeleted: number;
  numEntityCreateErrors: number;
  numEntityUpdateErrors: number;
  numEntityDeleteErrors: number;
  numRelationshipsUploaded: number;
  numRelationshipsCreated: number;
  numRelationshipsUpdated: number;
  numRelationshipsDeleted: number;
  numRelationshipCreateErrors: number;
  numRelationshipUpdateErrors: number;
  numRelationshipDeleteErrors: number;
  numMappedRelationshipsCreated: number;
  numMappedRelationshipsUpdated: number;
  numMappedRelationshipsDeleted: number;
  numMappedRelationshipCreateErrors: number;
  numMappedRelationshipUpdateErrors: number;
  numMappedRelationshipDeleteErrors: number;
}

export const SYNC_JOB_COUNTER_NAMES: readonly (keyof SyncJobCounters)[] = [
  'numEntitiesUploaded',
  'numEntitiesCreated',
  'numEntitiesUpdated',
  'numEntitiesDeleted',
  'numEntityCreateErrors',
  'numEntityUpdateErrors',
  'numEntityDeleteErrors',
  'numRelationshipsUploaded',
  'numRelationshipsCreated',
  'numRelationshipsUpdated',
  'numRelationshipsDeleted',
  'numRelationshipCreateErrors',
  'numRelationshipUpdateErrors',
  'numRelationshipDeleteErrors',
  'numMappedRelationshipsCreated',
  'numMappedRelationshipsUpdated',
  'numMappedRelationshipsDeleted',
  'numMappedRelationshipCreateErrors',
  'numMappedRelationshipUpdateErrors',
  'numMappedRelationshipDeleteErrors',
];

/**
 * A synchronization job as the API returns it. Counters are optional because JupiterOne omits
 * some of them on some statuses; read them through `syncJobChangeCounts`.
 */
export interface SyncJob extends Partial<SyncJobCounters> {
  id: string;
  status: SyncJobStatus;
  source: SyncJobSource;
  scope?: string;
  integrationInstanceId?: string;
  integrationJobId?: string;
  accountId?: string;
  syncMode?: string;
  startTimestamp: number;
  done?: boolean;
}

/** Every API response about a job is wrapped as `{ job }`. */
export interface SyncJobResponse {
  job: SyncJob;
}

/** The API's error body convention, e.g. `{ error: { code: 'JOB_NOT_AWAITING_UPLOADS', message } }`. */
export interface SyncApiErrorBody {
  error: { code: string; message: string };
}

export type GraphDatasetKind = 'entities' | 'relationships';

/** What uploading a run's graph delivered, whichever way it went up (after the build, or as it was built). */
export interface GraphUploadSummary {
  /** Objects delivered (uploaded and accepted), for the whole upload whatever the attempts. */
  uploaded: { entities: number; relationships: number; batches: number; bytes: number; uncompressedBytes: number };
  /** Objects delivered per `_type`: what the finalize gate compares with the objects built. */
  delivered: Record<string, number>;
  rejected: number;
  rejectedTypes: string[];
}
