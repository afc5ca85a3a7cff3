/**
 * The Temporal contract of duo-j1: names, input, progress and result types. Users type these names
 * into the Temporal UI and CLI, schedules refer to them, and teams embedding duo-j1 import the
 * types, so they change only with great care.
 */
import { defineQuery } from '@temporalio/workflow';
import type { DroppedObjects } from '../graph/build-graph';
import type { PartialType } from '../graph/partial-datasets';
import type { ChangeCounts } from '../jupiterone/client';
import type { GraphUploadSummary } from '../jupiterone/types';
import type { ResourceName } from '../resources/table';

export const WORKFLOW_TYPE = 'duoIngestion';
export const DEFAULT_TASK_QUEUE = 'duo-j1';

/** Workflow id of runs started by `duo-j1 run` (any other id works too: exclusivity is per instance). */
export function ingestionWorkflowId(instanceId: string): string {
  return `duo-ingestion-${instanceId}`;
}

/** Schedule id of an instance's polling schedule. */
export function scheduleId(instanceId: string): string {
  return `duo-ingestion-${instanceId}`;
}

/** Task queue of the worker holding a run's staged files (see DESIGN: worker-specific routing). */
export function hostTaskQueue(sharedTaskQueue: string, stagingStoreId: string): string {
  return `${sharedTaskQueue}-host-${stagingStoreId}`;
}

/**
 * duo-j1's activities are registered as `duoJ1.<name>`, so that they cannot collide with the
 * activities of a team that registers them on its own worker, beside its own.
 */
export const ACTIVITY_NAME_PREFIX = 'duoJ1.';
export type DuoJ1ActivityName<Name extends string> = `${typeof ACTIVITY_NAME_PREFIX}${Name}`;

/** The registered name of one of duo-j1's activities, e.g. `duoJ1.fetchResource`. */
export function duoJ1ActivityName<Name extends string>(name: Name): DuoJ1ActivityName<Name> {
  return `${ACTIVITY_NAME_PREFIX}${name}`;
}

/** Failure types a run can end with (`ApplicationFailure.type`). */
export const FailureType = {
  Configuration: 'ConfigurationError',
  UnknownInstance: 'UnknownInstance',
  InstanceBusy: 'InstanceBusy',
  DuoAuthentication: 'DuoAuthenticationError',
  DuoPermission: 'DuoPermissionError',
  DuoRateLimit: 'DuoRateLimitError',
  JupiterOne: 'JupiterOneError',
  StagedInputMissing: 'StagedInputMissing',
  /** A Duo list could not be read to its end: the resource fails, its types are partial. */
  DuoIncompleteList: 'DuoIncompleteListError',
  /** The objects about to be delivered are not the objects built: nothing is made final. */
  DeliveryIncomplete: 'DeliveryIncomplete',
  /** Duo has no such endpoint (an older edition): the resource fails, its types are partial. */
  DuoNotFound: 'DuoNotFoundError',
  /** Duo kept answering 5xx after the client's retries; Temporal retries later. */
  DuoServer: 'DuoServerError',
  /** Duo could not be reached (after the client's retries); Temporal retries later. */
  DuoNetwork: 'DuoNetworkError',
  /** Duo's answer was unusable (not JSON, not Duo's envelope) or a refused redirect. */
  DuoBadResponse: 'DuoBadResponseError',
  /** Any other Duo error answer (an unexpected 4xx). */
  DuoApi: 'DuoApiError',
  /** The pipeline started over `maxPipelineRestarts` times and still could not finish. */
  PipelineRestartsExhausted: 'PipelineRestartsExhausted',
  /** The run passed its deadline (`tuning.deadlineSeconds`); its JupiterOne job was aborted. */
  DeadlineExceeded: 'RunDeadlineExceeded',
  /**
   * Internal: the grant an activity was given is not its run's (a reset run replaying the grant of
   * the run it replaced) or no longer the holder's. The run acquires the instance again.
   */
  StaleGrant: 'StaleGrant',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** The Duo resources a run reads, each fetched by its own activity (declared in src/resources/table.ts). */
export { RESOURCE_NAMES as RESOURCES, type ResourceName } from '../resources/table';

/** Timing knobs; the defaults suit production. Tests shorten them to provoke failures quickly. */
export interface IngestionTuning {
  /** Heartbeat timeout of the long activities other than fetches (validate, build, deliver). Default 60 s. */
  heartbeatTimeoutSeconds?: number;
  /**
   * Heartbeat timeout of the fetches: how long a fetch whose worker died goes unnoticed before it is
   * tried again (it then resumes after its last part staged intact). Fetches heartbeat every
   * second, so this can be short. Default 10 s.
   */
  fetchHeartbeatTimeoutSeconds?: number;
  /**
   * How long an activity may wait for the worker holding the run's staged files before the run
   * starts over on another worker. Default 300 s.
   */
  hostScheduleToStartSeconds?: number;
  /** How many times the pipeline may start over (worker lost, staged input gone). Default 3. */
  maxPipelineRestarts?: number;
  /**
   * How long a run may hold its instance, from the moment it gets it: past it, the run aborts its
   * JupiterOne job, frees the instance and fails with `RunDeadlineExceeded`. Default 6 hours.
   */
  deadlineSeconds?: number;
}

/** Default of `tuning.deadlineSeconds`: generous, a 100,000-user tenant takes minutes. */
export const DEFAULT_DEADLINE_SECONDS = 6 * 3600;

/**
 * What schedule and CLI starts give Temporal as `workflowExecutionTimeout`: a backstop behind the
 * workflow's own deadline, with time for it to abort its job and free the instance first.
 */
export const EXECUTION_TIMEOUT_BACKSTOP_SECONDS = DEFAULT_DEADLINE_SECONDS + 30 * 60;

/**
 * The `patched()` id of runs that build the graph as the fetch stages it (`buildGraphAsFetched`);
 * runs recorded before it build once the fetch is over.
 */
export const BUILD_FOLLOWS_FETCH_PATCH = 'build-follows-fetch';

/**
 * The `patched()` id of runs whose build uploads the graph into their JupiterOne job as it builds
 * it (`buildGraphAsFetched`'s `uploadInto`); runs recorded before it upload once the graph is built.
 */
export const UPLOAD_FOLLOWS_BUILD_PATCH = 'upload-follows-build';

/**
 * Search attributes the workflow upserts (Keyword), so that every run — started by a schedule, the
 * CLI or the UI — can be found by instance and by outcome: `DuoInstanceId="corp"`,
 * `DuoOutcome="partial"`. They must be registered in the namespace (`duo-j1 cluster setup`).
 */
export const SEARCH_ATTRIBUTES = { instanceId: 'DuoInstanceId', outcome: 'DuoOutcome' } as const;

/** Values of `DuoOutcome`: the result's outcome, or how the run failed. */
export type RunOutcomeLabel = 'success' | 'partial' | 'busy' | 'failed' | 'cancelled' | 'deadline-exceeded';

/** Workflow input: typeable into the Temporal UI's "Start Workflow" as `{"instanceId": "…"}`. */
export interface DuoIngestionInput {
  instanceId: string;
  tuning?: IngestionTuning;
}

export type Phase =
  | 'starting'
  | 'checking'
  | 'acquiring'
  | 'validating'
  | 'fetching'
  | 'building'
  | 'delivering'
  | 'cleaning-up'
  | 'releasing'
  | 'done'
  | 'failed';

export interface ResourceOutcome {
  /**
   * `off`: an optional source the instance has switched off; not read, and its types delivered
   * empty, so that JupiterOne removes what earlier runs delivered of them (docs/completeness.md).
   */
  status: 'pending' | 'running' | 'complete' | 'failed' | 'off';
  records?: number;
  pages?: number;
  /** Why the resource failed for good (names the missing Duo grant on a 403). */
  reason?: string;
  errorType?: string;
  /** The Duo grant to add, when Duo refused the resource for want of it. */
  missingGrant?: string;
}

export interface DuoIngestionProgress {
  instanceId: string;
  phase: Phase;
  /** Pipeline attempt, from 1; above 1 after a worker was lost or staged input vanished. */
  attempt: number;
  resources: Record<ResourceName, ResourceOutcome>;
  /** Worker-specific task queue of the current attempt. */
  hostTaskQueue?: string;
  jobId?: string;
  /** When the run must be over (ISO time), once it holds its instance. */
  deadline?: string;
}

/** A type whose previous data JupiterOne keeps, and why (src/graph/partial-datasets.ts). */
export type { PartialType } from '../graph/partial-datasets';
/** Objects the data model rejected: how many, and the first few (src/graph/build-graph.ts). */
export type { DroppedObjects } from '../graph/build-graph';
/** Objects created, updated and deleted (src/jupiterone/client.ts). */
export type { ChangeCounts } from '../jupiterone/client';

export interface DuoIngestionResult {
  instanceId: string;
  /** `success`: everything delivered; `partial`: delivered, but some types kept their previous data. */
  outcome: 'success' | 'partial';
  resources: Record<ResourceName, ResourceOutcome>;
  entities: Record<string, number>;
  relationships: Record<string, number>;
  partialTypes: PartialType[];
  dropped: DroppedObjects;
  durationsMs: { validate: number; fetch: number; build: number; deliver: number; total: number };
  delivery: LocalDeliveryReport | JupiterOneDeliveryReport;
  pipelineAttempts: number;
}

export interface LocalDeliveryReport {
  target: 'local';
  outputDir: string;
  graphHtml: string;
  changesFile: string;
  changes: ChangeCounts;
  /** Readable change lines (first few per type), for the run summary. */
  changeSummary: string;
  /** True when the output was written as the graph was built, during the fetch (src/output/local-graph-draft.ts). */
  writtenAsBuilt?: boolean;
}

export interface JupiterOneDeliveryReport {
  target: 'jupiterone';
  jobId: string;
  status: string;
  /**
   * Objects delivered, upload requests, and the bytes of their bodies as sent (gzipped when uploads
   * are compressed) and before compression.
   */
  uploaded: GraphUploadSummary['uploaded'];
  rejected: number;
  entities: ChangeCounts;
  relationships: ChangeCounts;
  mappedRelationships: ChangeCounts;
}

export const progressQuery = defineQuery<DuoIngestionProgress>('progress');

/** Shown beside the `progress` query in the Temporal UI. */
export const PROGRESS_QUERY_DESCRIPTION =
  'Where the run is: phase, pipeline attempt, state and record counts of each Duo resource, host task queue, JupiterOne job id, deadline.';
