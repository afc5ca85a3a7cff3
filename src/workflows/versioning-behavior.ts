/**
 * A workflow's Worker Versioning behaviour, declared only when the worker running it is versioned:
 * the server refuses a behaviour in the answer of a worker that runs without Worker Versioning,
 * and duo-j1's workers run without it unless `DUO_J1_WORKER_VERSIONING=on` (docs/deploying.md).
 */
import type { VersioningBehavior } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';

export function versionedOnly(behavior: VersioningBehavior): { versioningBehavior?: VersioningBehavior } {
  // An unversioned worker still reports a version, without a deployment name (its build id alone).
  return workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: behavior } : {};
}
