/**
 * Starting a run's JupiterOne synchronization job so that no job is ever left open for good.
 *
 * The synchronization API offers no way to list jobs, so an open job can only be closed by an id
 * someone kept. The instance's open job is therefore remembered on the worker's disk — its id, and
 * before the start request even goes out, the id it is going to get when the target lets the
 * caller choose it (`integrationJobId`) — and the next start aborts whatever a run that died left
 * open. A start whose answer was lost is recovered by the client (JupiterOneSyncClient.startJob).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { InstanceConfig } from '../config/instances';
import type { JupiterOneSyncClient } from '../jupiterone/client';
import { runEndedEvent, type RunEnding } from '../jupiterone/job-events';
import type { ActivityDependencies } from './dependencies';
import { postJobEvents } from './job-log';

interface OpenJobState {
  /** The job, once its start was answered. */
  jobId?: string;
  /** The id the job is being started with, before the answer arrives. */
  integrationJobId?: string;
}

function openJobFile(deps: ActivityDependencies, instanceId: string): string {
  return path.join(deps.config.dataDir, 'state', instanceId, 'open-sync-job.json');
}

async function remember(deps: ActivityDependencies, instanceId: string, state: OpenJobState): Promise<void> {
  const file = openJobFile(deps, instanceId);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify(state), { mode: 0o600 });
}

/** The job of the instance is finalized or aborted: nothing to clean up after it any more. */
export async function forgetOpenJob(deps: ActivityDependencies, instanceId: string): Promise<void> {
  await rm(openJobFile(deps, instanceId), { force: true });
}

/**
 * Aborts the run's job if it still awaits uploads, saying in its job log how the run ended
 * (`reason` is also the abort's reason), and forgets it; a finalized job is left as it is.
 */
export async function abortRunJob(
  deps: ActivityDependencies,
  instance: InstanceConfig,
  client: JupiterOneSyncClient,
  jobId: string,
  end: { reason: string; ending: RunEnding },
  signal?: AbortSignal,
): Promise<void> {
  const job = await client.findJob(jobId, { signal });
  if (job?.status === 'AWAITING_UPLOADS') {
    await postJobEvents(instance, client, jobId, [runEndedEvent(end.ending, end.reason)], signal);
    await client.abortJob(jobId, end.reason, { signal });
  }
  await forgetOpenJob(deps, instance.id);
}

/**
 * Aborts the job a run of this instance left open, if any, then starts this run's job and returns
 * its id. `integrationJobId` (chosen by the workflow, the same on every retry) makes a retried start
 * find the job its earlier attempt started instead of starting a second one.
 */
export async function startOrRecoverSyncJob(
  deps: ActivityDependencies,
  instance: InstanceConfig,
  client: JupiterOneSyncClient,
  options: { signal?: AbortSignal; integrationJobId?: string },
): Promise<string> {
  const target = instance.jupiterone!.target;
  // Only an integration target lets the caller choose the job's id.
  const integrationJobId = target.source === 'api' ? undefined : options.integrationJobId;
  const stale = await readFile(openJobFile(deps, instance.id), 'utf8')
    .then((text) => JSON.parse(text) as OpenJobState)
    .catch((): OpenJobState => ({}));
  const staleId = stale.jobId ?? stale.integrationJobId;
  if (staleId && staleId !== integrationJobId) {
    const job = await client.findJob(staleId, { signal: options.signal });
    if (job?.status === 'AWAITING_UPLOADS') {
      await client.abortJob(staleId, 'superseded by a new duo-j1 run', { signal: options.signal });
      deps.log?.('info', 'Aborted a JupiterOne job a run of this instance left open', { jobId: staleId });
    }
  }
  if (integrationJobId && staleId === integrationJobId) {
    // An earlier attempt of this very start got as far as asking: its job is this run's.
    const job = await client.findJob(integrationJobId, { signal: options.signal });
    if (job?.status === 'AWAITING_UPLOADS') {
      await remember(deps, instance.id, { jobId: job.id });
      return job.id;
    }
  }
  if (integrationJobId) await remember(deps, instance.id, { integrationJobId });
  const job = await client.startJob(target, { signal: options.signal, integrationJobId });
  await remember(deps, instance.id, { jobId: job.id });
  return job.id;
}
