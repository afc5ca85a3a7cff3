/**
 * Fetch activities: one Duo resource each. Page → stage → heartbeat (and, for large resources,
 * offer the staged part for conversion ahead of the build). The heartbeat carries the
 * next offset and the number of parts written, so a retried attempt (a worker crashed, Duo kept
 * failing) resumes where the last heartbeat left off and rewrites — never appends — the parts after
 * it. The result is a small summary: no records travel through Temporal.
 */
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { DUO_RESOURCES } from '../duo/endpoints';
import { DuoPermissionError } from '../duo/errors';
import { graphInstanceContext } from '../graph/converters';
import { rawDatasetName } from '../graph/data-model';
import type { ResourceName } from '../workflows/contract';
import { duoClientFor } from './clients';
import { findInstanceOrFail, type ActivityDependencies } from './dependencies';
import { classified } from './failures';

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
}

export interface ValidationSummary {
  target: 'local' | 'jupiterone';
  missingGrants: string[];
}

export function createFetchActivities(deps: ActivityDependencies) {
  return {
    /**
     * Checks what can be checked before fetching: the instance exists, its secrets resolve, Duo
     * accepts the credentials. A 401 ends the run here, before eight fetches each find out.
     */
    async validateInstance(input: { instanceId: string }): Promise<ValidationSummary> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        const client = duoClientFor(deps, instance);
        // One cheap signed request: any answer but 401 proves the credentials. A 403 only means
        // this endpoint's grant is missing; the fetch of that resource will report it.
        try {
          const pages = client.pages('users', { pageSize: 1, readAhead: false, signal: cancellationSignal() });
          await pages.next();
          await pages.return(undefined);
        } catch (error) {
          if (!(error instanceof DuoPermissionError)) throw error;
          return { target: instance.jupiterone ? 'jupiterone' : 'local', missingGrants: [error.grant] };
        }
        return { target: instance.jupiterone ? 'jupiterone' : 'local', missingGrants: [] };
      });
    },

    async fetchResource(input: { instanceId: string; runKey: string; resource: ResourceName }): Promise<FetchSummary> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        const client = duoClientFor(deps, instance);
        const run = deps.staging.openRun(input.runKey);
        const dataset = rawDatasetName(input.resource);
        const signal = cancellationSignal();

        if (input.resource === 'account') {
          let settings: unknown;
          try {
            settings = await client.getObject('settings', { signal });
          } catch (error) {
            // Missing "Grant settings" fails this fetch for good: the graph will have no account,
            // and parts converted ahead are converted without one.
            if (error instanceof DuoPermissionError) deps.conversionAhead?.accountSettled(run.key);
            throw error;
          }
          let infoSummary: unknown;
          try {
            infoSummary = await client.getObject('infoSummary', { signal });
          } catch (error) {
            // The counts are a nice-to-have: without "Grant read information" the account
            // entity is still complete in every property JupiterOne keys on.
            if (!(error instanceof DuoPermissionError)) throw error;
            deps.log?.('warn', 'Account counts left out: the Admin API application lacks a grant', {
              grant: error.grant,
            });
          }
          await run.writePart(dataset, 0, [infoSummary === undefined ? { settings } : { settings, infoSummary }]);
          await run.commitManifest(dataset);
          deps.conversionAhead?.accountSettled(run.key);
          return { resource: input.resource, records: 1, pages: 1, dataset };
        }

        const [endpoint] = DUO_RESOURCES[input.resource].endpoints;
        if (!endpoint?.paged) throw new Error(`Resource "${input.resource}" has no list endpoint to page through`);
        const resumed = activityInfo().heartbeatDetails as FetchHeartbeat | undefined;
        let partsWritten = resumed?.partsWritten ?? 0;
        let records = resumed?.records ?? 0;
        // A first attempt starts clean; leftovers would be parts of a previous pipeline attempt.
        if (!resumed) await run.removeDataset(dataset);
        else
          deps.log?.('info', 'Resuming a fetch from its last heartbeat', {
            resource: input.resource,
            offset: resumed.nextOffset,
          });

        let totalObjects: number | undefined = resumed?.totalObjects;
        if (!resumed || resumed.nextOffset >= 0) {
          for await (const page of readingAhead(
            client.pages(endpoint.name, { startOffset: resumed?.nextOffset ?? 0, signal }),
          )) {
            await run.writePart(dataset, partsWritten, page.records);
            records += page.records.length;
            totalObjects = page.totalObjects ?? totalObjects;
            if (deps.conversionAhead?.wants(totalObjects ?? records)) {
              deps.conversionAhead.offer(run, input.resource, partsWritten, graphInstanceContext(instance));
            }
            partsWritten += 1;
            const details: FetchHeartbeat = {
              resource: input.resource,
              nextOffset: page.nextOffset ?? -1,
              partsWritten,
              records,
              ...(totalObjects !== undefined ? { totalObjects } : {}),
            };
            heartbeat(details);
          }
        }
        const manifest = await run.commitManifest(dataset, totalObjects !== undefined ? { totalObjects } : undefined);
        return {
          resource: input.resource,
          records: manifest.records,
          pages: manifest.parts.length,
          dataset,
        };
      });
    },
  };
}

/**
 * Iterates `pages` while the next page is already being requested: Duo's paging is sequential (each
 * request needs the previous answer's `next_offset`), so staging a page while the next one is on
 * the wire is the one overlap available, and it takes the staging write off the critical path.
 * At most one page is held ahead, so memory stays bounded. The heartbeat still follows the pages
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
