/**
 * Fetch activities: one Duo resource each. Page → convert (page-conversion.ts: inline, or on the
 * worker's conversion thread while the worker's own is busy) → stage the converted part → log it →
 * heartbeat, while the next page is already on its way.
 *
 * A resource is complete only when Duo ended the list the way Duo ends one and the records add up
 * to its `total_objects` (DuoClient.pages throws otherwise, and the resource fails for good: its
 * types are reported partial). A retried attempt — the worker was killed, Duo kept failing —
 * resumes after the last part that is still exactly as written (see part-log.ts): parts it cannot
 * vouch for are read from Duo again, never taken on trust. The result is a small summary: no
 * records travel through Temporal.
 */
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { deliveryTarget, type DeliveryTarget } from '../config/instances';
import type { DuoClient } from '../duo/client';
import { DuoError, DuoIncompleteListError, DuoNotFoundError, DuoPermissionError } from '../duo/errors';
import { CONVERSION_KEY_META, conversionKey, convertedDatasetName } from '../graph/converted-part';
import { graphInstanceContext } from '../graph/converters';
import { PAGES_CONVERTING_PER_RESOURCE, convertPage, type PageConverter } from '../graph/page-conversion';
import { JupiterOneError } from '../jupiterone/errors';
import { runStartEvents } from '../jupiterone/job-events';
import { indexJoin, isTruncated, withJoinedFields, type IndexedJoin } from '../resources/joins';
import {
  RESOURCE_TABLE,
  isResourceSwitchedOff,
  isSourceOn,
  listEndpointOf,
  type DuoListEndpoint,
  type ResourceJoin,
  type ResourceName,
} from '../resources/table';
import { PartLog } from '../staging/part-log';
import { mapInOrder } from '../util/in-order';
import { DUO_J1_VERSION } from '../util/user-agent';
import type { InstanceGrant } from '../workflows/coordination-contract';
import { duoClientFor, jupiterOneClientFor } from './clients';
import { checkGrant } from './coordination';
import { findInstanceOrFail, type ActivityDependencies } from './dependencies';
import { classified } from './failures';
import { explainedForSource } from '../resources/source-refusal';
import { withPeriodicHeartbeat } from './heartbeat';
import { postJobEvents } from './job-log';
import type { RunActivities } from './run-activities';
import { abortRunJob, startOrRecoverSyncJob } from './sync-job';

/** What a fetch heartbeats; also read by `duo-j1 run` to show live counts. */
export interface FetchHeartbeat {
  resource: ResourceName;
  nextOffset: number;
  partsWritten: number;
  records: number;
  totalObjects?: number;
}

export interface FetchSummary {
  resource: ResourceName;
  records: number;
  pages: number;
  /** Staged dataset holding the records (a claim check, not the data). */
  dataset: string;
  /** Parts an earlier attempt staged that this one kept after checking them (0 on a first attempt). */
  partsKept: number;
  /** Set when the resource is an optional source the instance has switched off: nothing was read or staged. */
  switchedOff?: boolean;
}

export interface ValidationSummary {
  target: DeliveryTarget;
  missingGrants: string[];
  /**
   * The run's JupiterOne synchronization job, started to prove the key, the account and the target
   * before anything is read from Duo (the job JupiterOne's own `run` command starts first, too).
   */
  jobId?: string;
}

export function createFetchActivities(deps: ActivityDependencies, runs: RunActivities, converter: PageConverter) {
  return {
    /**
     * Checks what can be checked before fetching, JupiterOne first: the instance exists, its
     * secrets resolve, JupiterOne accepts the key, the account and the target (by starting the
     * run's job: the one call that proves all three), and Duo accepts the credentials. A wrong
     * JupiterOne key fails the run here, before a single Duo request; a Duo 401 fails it here too,
     * before eight fetches each find out.
     */
    async validateInstance(input: {
      instanceId: string;
      grant: InstanceGrant;
      integrationJobId?: string;
      /** The run's job this validation starts a new one in place of (its job log says so). */
      replacingJobId?: string;
    }): Promise<ValidationSummary> {
      return classified(() => withPeriodicHeartbeat({ phase: 'validating' }, () => validate(input)));
    },

    async fetchResource(input: { instanceId: string; runKey: string; resource: ResourceName }): Promise<FetchSummary> {
      return classified(() =>
        runs.run(input.runKey, cancellationSignal(), (signal) => {
          const { source } = RESOURCE_TABLE[input.resource];
          if (isResourceSwitchedOff(input.resource, findInstanceOrFail(deps, input.instanceId).sources)) {
            return Promise.resolve(switchedOff(input.resource));
          }
          const endpoint = listEndpointOf(input.resource);
          return endpoint
            ? fetchList(input, endpoint, signal).catch((error: unknown) => {
                throw source ? explainedForSource(error, source, 'resource') : error;
              })
            : withPeriodicHeartbeat({ resource: input.resource }, () => fetchObjects(input, signal));
        }),
      );
    },
  };

  async function validate(input: {
    instanceId: string;
    grant: InstanceGrant;
    integrationJobId?: string;
    replacingJobId?: string;
  }): Promise<ValidationSummary> {
    const instance = findInstanceOrFail(deps, input.instanceId);
    const signal = cancellationSignal();
    let jobId: string | undefined;
    // Only the run holding the instance starts a job (a reset run replaying the grant of the run
    // it replaced does not).
    await checkGrant(deps.temporalClient, input.grant);
    if (instance.jupiterone) {
      const client = jupiterOneClientFor(deps, instance);
      const started = await startOrRecoverSyncJob(deps, instance, client, {
        signal,
        integrationJobId: input.integrationJobId,
      }).catch((error: unknown) => {
        if (error instanceof JupiterOneError && !error.retryable) {
          deps.log?.('error', 'JupiterOne refused to start the run’s job; nothing was read from Duo', {
            status: error.status,
            code: error.code,
          });
        }
        throw error;
      });
      jobId = started;
      // The instance's coordinator aborts the job should the run die before finishing it.
      await checkGrant(deps.temporalClient, input.grant, { jobId: started }).catch(async (error: unknown) => {
        await client.abortJobIfOpen(started, 'the run lost its instance while starting its job', { signal });
        throw error;
      });
      const run = {
        version: DUO_J1_VERSION,
        instanceId: instance.id,
        workflowId: activityInfo().workflowExecution?.workflowId ?? '(unknown)',
        ...(input.replacingJobId ? { replacing: input.replacingJobId } : {}),
      };
      await postJobEvents(instance, client, started, runStartEvents(run), signal);
    }
    const target = deliveryTarget(instance);
    const withJob = jobId ? { jobId } : {};
    const duo = duoClientFor(deps, instance);
    // One cheap signed request: any answer but 401 proves the credentials. A 403 only means
    // this endpoint's grant is missing; the fetch of that resource will report it. It asks for the
    // account's settings, which a run reads once: a request to the users, the longest list at Duo's
    // rate limit, would take a request of their budget just before their fetch starts.
    try {
      await duo.getObject('settings', { signal });
    } catch (error) {
      if (error instanceof DuoPermissionError) return { target, missingGrants: [error.grant], ...withJob };
      // Credentials Duo refuses end the run: its job ends here too, rather than staying open until
      // the instance's next run aborts it.
      if (jobId && error instanceof DuoError && !error.retryable) {
        const end = { reason: `run failed: ${error.message}`, ending: 'failed' } as const;
        await abortRunJob(deps, instance, jupiterOneClientFor(deps, instance), jobId, end, signal).catch(() =>
          // Remembered on disk: the instance's next run aborts it.
          deps.log?.('warn', 'Could not abort the run’s JupiterOne job now; the next run of the instance will', {
            jobId,
          }),
        );
      }
      throw error;
    }
    return { target, missingGrants: [], ...withJob };
  }

  /**
   * A resource made of object endpoints (the account): one record of their answers, keyed by
   * endpoint name. An endpoint the row marks optional is left out when its grant is missing.
   */
  async function fetchObjects(
    input: { instanceId: string; runKey: string; resource: ResourceName },
    signal: AbortSignal,
  ) {
    const instance = findInstanceOrFail(deps, input.instanceId);
    const client = duoClientFor(deps, instance);
    const run = deps.staging.openRun(input.runKey);
    const context = graphInstanceContext(instance, deps.env);
    const declaration = RESOURCE_TABLE[input.resource];
    const dataset = convertedDatasetName(input.resource);
    const record: Record<string, unknown> = {};
    for (const endpoint of declaration.endpoints) {
      if (endpoint.paged) throw new Error(`Resource "${input.resource}" mixes a list endpoint with object endpoints`);
      const optional = declaration.optional?.[endpoint.name];
      if (optional && !isSourceOn(optional, instance.sources)) continue;
      try {
        record[endpoint.name] = await client.getObject(endpoint.name, { signal });
      } catch (error) {
        // Without its grant (403) or on an edition without it (404), an optional endpoint is left
        // out: the record is still whole in everything JupiterOne keys on.
        if (!(error instanceof DuoPermissionError || error instanceof DuoNotFoundError) || optional === undefined)
          throw error;
        deps.log?.('warn', `The ${input.resource}'s ${optional.adds} are left out`, {
          reason: (explainedForSource(error, optional, 'properties') as Error).message,
        });
      }
    }
    const converted = convertPage(input.resource, [record], context);
    const part = await run.writePart(dataset, 0, converted.bytes, converted.records, converted.sha256);
    await run.commitManifest(dataset, [part], { [CONVERSION_KEY_META]: conversionKey(context) });
    return { resource: input.resource, records: 1, pages: 1, dataset, partsKept: 0 };
  }

  /** A list resource, page by page, resuming after the parts an earlier attempt left intact. */
  async function fetchList(
    input: { instanceId: string; runKey: string; resource: ResourceName },
    endpoint: DuoListEndpoint,
    signal: AbortSignal,
  ): Promise<FetchSummary> {
    const instance = findInstanceOrFail(deps, input.instanceId);
    const client = duoClientFor(deps, instance);
    const run = deps.staging.openRun(input.runKey);
    const context = graphInstanceContext(instance, deps.env);
    const madeWith = conversionKey(context);
    const dataset = convertedDatasetName(input.resource);

    const log = new PartLog(run, dataset, madeWith);
    const recorded = activityInfo().heartbeatDetails as FetchHeartbeat | undefined;
    // A first attempt starts clean; a retry keeps what the attempts before it staged intact.
    if (activityInfo().attempt === 1) await run.removeDataset(dataset);
    const start = await log.resumePoint(recorded);
    if (start.parts.length > 0 || start.discarded > 0) {
      deps.log?.('info', 'Resuming a fetch after the parts an earlier attempt left intact', {
        resource: input.resource,
        partsKept: start.parts.length,
        partsReadAgain: start.discarded,
        offset: start.nextOffset ?? null,
      });
    }

    const progress: FetchHeartbeat = {
      resource: input.resource,
      nextOffset: start.nextOffset ?? -1,
      partsWritten: start.parts.length,
      records: start.records,
      ...(start.parts.at(-1)?.totalObjects !== undefined ? { totalObjects: start.parts.at(-1)!.totalObjects } : {}),
    };
    await withPeriodicHeartbeat(
      () => ({ ...progress }),
      async () => {
        if (start.nextOffset === undefined) return; // The kept parts already end the list.
        const joins = await readJoins(client, RESOURCE_TABLE[input.resource].joins ?? [], signal);
        const pages = client.pages(endpoint.name, {
          startOffset: start.nextOffset,
          recordsBeforeStart: start.records,
          signal,
        });
        // Each page is converted while the next one is on the wire, and while the page before it
        // may still be on the conversion thread; the parts are staged and logged in page order.
        // Joined records are converted here: Duo's answer alone lacks the joined fields.
        for await (const [page, converted] of mapInOrder(
          readingAhead(pages),
          (page) =>
            converter.convert(
              input.resource,
              joins.length === 0 ? page : { records: page.records.map((record) => withJoinedFields(record, joins)) },
              context,
              signal,
            ),
          PAGES_CONVERTING_PER_RESOURCE,
        )) {
          const part = await run.writePart(
            dataset,
            progress.partsWritten,
            converted.bytes,
            converted.records,
            converted.sha256,
          );
          await log.add({
            ...part,
            sha256: converted.sha256,
            offset: page.offset,
            ...(page.nextOffset !== undefined ? { nextOffset: page.nextOffset } : {}),
            ...(page.totalObjects !== undefined ? { totalObjects: page.totalObjects } : {}),
          });
          progress.records += converted.records;
          progress.partsWritten += 1;
          progress.nextOffset = page.nextOffset ?? -1;
          if (page.totalObjects !== undefined) progress.totalObjects = page.totalObjects;
          heartbeat({ ...progress });
        }
      },
    );
    const manifest = await run.commitManifest(dataset, log.logged, {
      [CONVERSION_KEY_META]: madeWith,
      ...(progress.totalObjects !== undefined ? { totalObjects: progress.totalObjects } : {}),
    });
    return {
      resource: input.resource,
      records: manifest.records,
      pages: manifest.parts.length,
      dataset,
      partsKept: start.parts.length,
    };
  }
}

/**
 * Reads the answers a resource's joins add to its records, once per attempt (they are single
 * requests). An answer that says it was cut short fails the resource for good: records joined with
 * part of it would make edges short of Duo's, delivered as complete.
 */
async function readJoins(
  client: DuoClient,
  joins: readonly ResourceJoin[],
  signal: AbortSignal,
): Promise<IndexedJoin[]> {
  const indexed: IndexedJoin[] = [];
  for (const join of joins) {
    const answer = await client.getObject(join.endpoint.name, { signal });
    if (isTruncated(join, answer)) {
      throw new DuoIncompleteListError(
        { method: 'GET', path: join.endpoint.path, apiHostname: client.apiHostname },
        { reason: 'truncated', offset: 0, truncatedFlag: join.truncatedFlag },
      );
    }
    indexed.push(indexJoin(join, answer));
  }
  return indexed;
}

/** The summary of a resource the instance has switched off: nothing read, nothing staged. */
function switchedOff(resource: ResourceName): FetchSummary {
  return { resource, records: 0, pages: 0, dataset: convertedDatasetName(resource), partsKept: 0, switchedOff: true };
}

/**
 * Iterates `pages` while the next page is already being requested: Duo's paging is sequential (each
 * request needs the previous answer's `next_offset`), so staging a page while the next one is on
 * the wire is the one overlap available, and it takes the staging write off the critical path.
 * At most one page is held ahead, so memory stays bounded. The part log still follows the pages
 * written, so a retry resumes after the last staged page whatever was in flight.
 */
export async function* readingAhead<T>(pages: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const iterator = pages[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const step = await next;
      if (step.done) return;
      next = iterator.next();
      // Handled when awaited; until then a failure must not count as an unhandled rejection.
      next.catch(() => undefined);
      yield step.value;
    }
  } finally {
    // Stopped early (an error while staging, cancellation): end the underlying iteration too.
    await iterator.return?.(undefined)?.catch(() => undefined);
  }
}
