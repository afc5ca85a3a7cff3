/**
 * The contract between ingestion runs and an instance's coordinator (see docs/exclusivity.md):
 * names, the grant a run holds, and the coordinator's updates and queries. Runs never talk to the
 * coordinator from workflow code; activities do, through the Temporal client, so nothing here
 * depends on parent/child links that a reset would break.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';

/** Workflow type of the per-instance coordinator: plainly not an ingestion run in the UI's list. */
export const COORDINATOR_WORKFLOW_TYPE = 'duoInstanceCoordinator';

/** Workflow id of an instance's coordinator (one at a time per instance in the namespace). */
export function coordinatorWorkflowId(instanceId: string): string {
  return `duo-instance-coordinator-${instanceId}`;
}

/** The run an instance is granted to. A grant names one run (workflow id and run id), not a workflow id. */
export interface InstanceGrant {
  instanceId: string;
  /** Unique per grant: two grants to the same run (after a coordinator restart) differ. */
  grantId: string;
  workflowId: string;
  runId: string;
  grantedAt: number;
  /** When the run must be over (epoch ms); past it, plus a grace period, the coordinator ends it. */
  deadline: number;
}

/** What the holder reports as it goes: what would need cleaning up if it died without cleaning up. */
export interface HolderCleanup {
  hostTaskQueue?: string;
  runKey?: string;
  jobId?: string;
}

export interface CoordinatorState {
  instanceId: string;
  holder?: InstanceGrant & HolderCleanup;
  /** Grants given by this coordinator since it first started (carried across continue-as-new). */
  grants: number;
}

export interface CoordinatorInput {
  instanceId: string;
  /** How often the holder's liveness is checked while the instance is held (default 30 s). */
  holderCheckSeconds?: number;
  /** How long the coordinator stays up with the instance free before it completes (default 300 s). */
  idleSeconds?: number;
  /** Carried across continue-as-new. */
  state?: CoordinatorState;
}

export interface AcquireRequest {
  workflowId: string;
  runId: string;
  /** How long the run may hold the instance. */
  deadlineSeconds: number;
}

export type AcquireAnswer =
  | { granted: true; grant: InstanceGrant }
  | { granted: false; holder: { workflowId: string; runId: string; grantedAt: number } };

export interface HolderRequest {
  grantId: string;
  workflowId: string;
  runId: string;
}

export const acquireUpdate = defineUpdate<AcquireAnswer, [AcquireRequest]>('acquire');
/** Records cleanup details; rejected (`StaleGrant`) when the grant is no longer the holder's. */
export const reportUpdate = defineUpdate<void, [HolderRequest & HolderCleanup]>('report');
/** Frees the instance if the grant is still the holder's; true when it was. */
export const releaseUpdate = defineUpdate<boolean, [HolderRequest]>('release');
export const coordinatorStateQuery = defineQuery<CoordinatorState>('state');
