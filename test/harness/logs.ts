/** What the log tests share: the aggregates a tail should hold, computed directly from a simulator's stream. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { emptyAggregates, foldAuthenticationEvents, type AuthenticationAggregates } from '../../src/logs/aggregates';
import {
  aggregateFilePath,
  readAggregateFile,
  type AdministrationFileSection,
  type AggregateFile,
} from '../../src/logs/aggregate-file';
import {
  emptyAdministrationAggregates,
  foldActivityEvents,
  foldAdministratorEvents,
  type AdministrationAggregates,
} from '../../src/logs/administration';
import type { DuoSimulator } from '../../src/simulators/duo/server';
import { logTailStateQuery, logTailWorkflowId, type LogTailState } from '../../src/workflows/log-tail-contract';
import { waitFor } from './inspect';

/** The aggregates of every event of the simulator's log from `from` up to (not including) `until`. */
export function expectedAggregates(duo: DuoSimulator, from: number, until: number): AuthenticationAggregates {
  return foldAuthenticationEvents(emptyAggregates(), [...duo.authenticationLog.eventsBetween(from, until - 1)]);
}

/**
 * The administrators' aggregates of every action of the simulator's administrator and activity
 * logs from where the tail started each to its cursor (the administrator log's cursor names a
 * second and how many of its events were read).
 */
export function expectedAdministration(
  duo: DuoSimulator,
  section: AdministrationFileSection,
): AdministrationAggregates {
  const stream = duo.administrationLog;
  const administrator = section.cursors.administrator!;
  const administratorEvents = [
    ...stream.actionsBetween(section.from.administrator!, administrator.mintime - 1),
    ...[...stream.actionsBetween(administrator.mintime, administrator.mintime + 999)].slice(0, administrator.skip ?? 0),
  ].map((action) => stream.administratorEvent(action));
  const activityEvents = [...stream.actionsBetween(section.from.activity!, section.cursors.activity!.mintime - 1)].map(
    (action) => stream.activityEvent(action),
  );
  return foldActivityEvents(
    foldAdministratorEvents(emptyAdministrationAggregates(), administratorEvents),
    activityEvents,
  );
}

/**
 * Waits until the instance's tail has read its log up to the simulator's delay; returns its state
 * and file (the state's cursor says how far the file's aggregates go).
 */
export async function caughtUpTail(
  client: Client,
  dataDir: string,
  instanceId: string,
  timeoutMs = 90_000,
): Promise<{ state: LogTailState; file: AggregateFile }> {
  let state: LogTailState | undefined;
  let file: AggregateFile | undefined;
  await waitFor(
    async () => {
      state = await client.workflow
        .getHandle(logTailWorkflowId(instanceId))
        .query(logTailStateQuery)
        .catch(() => undefined);
      if (!state?.caughtUpAt || !state.cursor || state.cursor.nextOffset !== undefined) return false;
      const stored = await readAggregateFile(aggregateFilePath(dataDir, instanceId));
      file = stored?.file;
      return stored?.digest === state.digest && file!.backfilled;
    },
    'the log tail to catch up',
    timeoutMs,
  );
  return { state: state!, file: file! };
}

/**
 * Ends the instances' log tails that still run. A tail polls its logs until it is stopped: left
 * running, it would go on reading — on the suite's shared dev server, through the tests that come
 * after — until the run ends. Terminated rather than stopped, so that it ends at once whatever it
 * is waiting for (a test that failed mid-way may have left it retrying).
 */
export async function endLogTails(client: Client, instanceIds: string[]): Promise<void> {
  for (const instanceId of instanceIds) {
    try {
      await client.workflow.getHandle(logTailWorkflowId(instanceId)).terminate('the test that started it is over');
    } catch (error) {
      // Already ended (stopped by the test itself), or never started.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
}

/** Every graph object of a local graph directory, by `_type`. */
export async function localGraphObjects(outputDir: string): Promise<Map<string, Record<string, unknown>[]>> {
  const byType = new Map<string, Record<string, unknown>[]>();
  const graph = path.join(outputDir, '.j1-integration', 'graph');
  for (const step of await readdir(graph)) {
    for (const kind of ['entities', 'relationships']) {
      const folder = path.join(graph, step, kind);
      const names = await readdir(folder).catch(() => [] as string[]);
      for (const name of names) {
        const objects = (JSON.parse(await readFile(path.join(folder, name), 'utf8')) as Record<string, unknown[]>)[
          kind
        ] as Record<string, unknown>[];
        for (const object of objects) {
          const type = object._type as string;
          byType.set(type, [...(byType.get(type) ?? []), object]);
        }
      }
    }
  }
  return byType;
}
