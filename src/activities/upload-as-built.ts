/**
 * The JupiterOne upload a build makes as it goes (src/jupiterone/upload-as-built.ts), into the job
 * the run started while validating. The build activity answers what it delivered; the workflow
 * finalizes the job with it only if it delivers the graph that build made, and otherwise aborts
 * the job and uploads into a new one (the job then holds objects of a graph the run does not
 * deliver).
 *
 * Only a build's first attempt uploads. An earlier attempt may have uploaded objects staged from
 * pages a retried fetch has since read again: the job would hold both, and a user deleted in Duo
 * between the two reads would survive the finalize. A later attempt builds without uploading, and
 * the workflow then uploads into a new job.
 */
import { activityInfo } from '@temporalio/activity';
import type { InstanceConfig } from '../config/instances';
import { uploadStartEvent } from '../jupiterone/job-events';
import { JobUploadAsBuilt } from '../jupiterone/upload-as-built';
import type { GraphUploadSummary } from '../jupiterone/types';
import type { InstanceGrant } from '../workflows/coordination-contract';
import { jupiterOneClientFor } from './clients';
import { checkGrant } from './coordination';
import type { ActivityDependencies } from './dependencies';
import { postJobEvents } from './job-log';

/** The run's open job, given to a build to upload into as it goes. */
export interface UploadInto {
  jobId: string;
  grant: InstanceGrant;
}

/** What a worker logs when a run goes without the upload (the reason goes with it). */
const UPLOADED_AFTER_THE_BUILD = 'The graph will be uploaded to JupiterOne once it is built';

/**
 * Starts uploading into the run's job; undefined (and a log line) when this attempt must not. A
 * grant that is not this run's fails the build, as it fails any delivery.
 */
export async function startUploadAsBuilt(
  deps: ActivityDependencies,
  instance: InstanceConfig,
  into: UploadInto,
  signal: AbortSignal,
): Promise<JobUploadAsBuilt | undefined> {
  await checkGrant(deps.temporalClient, into.grant);
  if (activityInfo().attempt > 1) {
    deps.log?.('info', UPLOADED_AFTER_THE_BUILD, {
      reason: 'an earlier attempt of this build may have uploaded objects of other staged pages into the job',
    });
    return undefined;
  }
  const client = jupiterOneClientFor(deps, instance);
  await postJobEvents(instance, client, into.jobId, [uploadStartEvent()], signal);
  return new JobUploadAsBuilt(client, into.jobId, { signal });
}

/**
 * What the upload delivered once the build has made its last object; undefined (and a log line)
 * when it failed: the workflow then uploads the graph into a new job.
 */
export async function finishUploadAsBuilt(
  deps: ActivityDependencies,
  upload: JobUploadAsBuilt,
  signal: AbortSignal,
): Promise<GraphUploadSummary | undefined> {
  try {
    return await upload.complete();
  } catch (error) {
    // A cancelled build is cancelled, not built without its upload.
    signal.throwIfAborted();
    deps.log?.('warn', UPLOADED_AFTER_THE_BUILD, {
      reason: `uploading it as it was built failed: ${(error as Error).message}`,
      jobId: upload.jobId,
    });
    return undefined;
  }
}
