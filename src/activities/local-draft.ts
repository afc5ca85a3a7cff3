/**
 * The local delivery a build prepares as it goes (src/output/local-graph-draft.ts), handed from the
 * build activity to the delivery activity through the run's staging: the draft's version is in
 * the instance's output folder, and what it was made for is kept in the run's staging, so it
 * belongs to this run alone and goes with its staging.
 *
 * The build after the fetch forgets any draft of its run (the graph is then built again, and the
 * draft was made for the one given up); the delivery publishes the draft only if it was made for
 * exactly the delivery asked for, and writes the output whole otherwise.
 */
import { LocalGraphDraft, removePreparedLocalGraph, type PreparedLocalGraph } from '../output/local-graph-draft';
import type { StagedRun } from '../staging/store';
import { instanceOfKey } from '../workflows/run-key';
import { LOCAL_GRAPH_STEPS } from './local-graph-steps';
import type { ActivityDependencies } from './dependencies';

/** The run's staging dataset holding its prepared draft (removed with it by `removeDataset`). */
const PREPARED_DATASET = 'local-draft';
const PREPARED_FILE = `${PREPARED_DATASET}/prepared.json`;

/** What a worker logs when a run goes without the draft (the reason goes with it). */
const WRITTEN_AFTER_THE_BUILD = 'The local graph directory will be written once the graph is built';

/** Starts a draft of the instance's next output; undefined (and a log line) when it cannot be. */
export async function startLocalDraft(
  deps: ActivityDependencies,
  instanceId: string,
): Promise<LocalGraphDraft | undefined> {
  try {
    return await LocalGraphDraft.start({ dataDir: deps.config.dataDir, instanceId, steps: LOCAL_GRAPH_STEPS });
  } catch (error) {
    deps.log?.('warn', WRITTEN_AFTER_THE_BUILD, {
      reason: `its new version could not be started: ${(error as Error).message}`,
    });
    return undefined;
  }
}

/**
 * Finishes the draft for the graph built and keeps what it was made for in the run's staging, for
 * the delivery. A draft that failed, or fails now, is removed: the delivery then writes the
 * output whole, as it would without one.
 */
export async function keepLocalDraft(
  deps: ActivityDependencies,
  run: StagedRun,
  draft: LocalGraphDraft,
  graph: { partialTypes: readonly { type: string; reason?: string }[]; built: Record<string, number> },
): Promise<void> {
  try {
    const prepared = await draft.complete(graph.partialTypes, graph.built);
    await run.writeFile(PREPARED_FILE, Buffer.from(JSON.stringify(prepared)));
  } catch (error) {
    await draft.discard();
    deps.log?.('warn', WRITTEN_AFTER_THE_BUILD, {
      reason: `writing it as the graph was built failed: ${(error as Error).message}`,
    });
  }
}

/** The draft the run's build prepared, if any (none when what was kept of it cannot be read). */
export async function preparedLocalDraft(run: StagedRun): Promise<PreparedLocalGraph | undefined> {
  const bytes = await run.readFile(PREPARED_FILE);
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as PreparedLocalGraph;
  } catch {
    return undefined;
  }
}

/** Removes the run's prepared draft, if it has one that was not published, and forgets it. */
export async function forgetLocalDraft(deps: ActivityDependencies, run: StagedRun): Promise<void> {
  const prepared = await preparedLocalDraft(run);
  const instanceId = instanceOfKey(run.key);
  if (prepared && instanceId) await removePreparedLocalGraph({ dataDir: deps.config.dataDir, instanceId }, prepared);
  await run.removeDataset(PREPARED_DATASET);
}
