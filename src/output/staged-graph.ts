/**
 * Writes the local graph directory straight from a run's staged graph: the datasets
 * `graph/entities/<_type>` and `graph/relationships/<_type>` the graph builder leaves in the
 * staging store.
 */
import { readDatasetLines, readDatasetTexts } from '../staging/json-lines';
import { StagedInputMissingError, type StagedRun } from '../staging/store';
import { graphDatasetName, graphIndexDatasetName, type GraphObjectKind } from '../graph/data-model';
import type { GraphIndexEntry } from '../graph/serialization';
import {
  planTypes,
  writeLocalGraph,
  type IndexedGraphBatch,
  type LocalGraphResult,
  type WriteLocalGraphOptions,
} from './local-graph';

/** Where the build stages graph datasets (`graphDatasetName`). */
const STAGED_GRAPH_PREFIX = 'graph';

/** The objects of a declared type with no staged dataset: none this time. */
function nothing(): AsyncIterable<IndexedGraphBatch> {
  return { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) };
}

/**
 * Like `writeLocalGraph`, reading each `_type` from the staged run. A declared type without a staged
 * dataset has no objects; a staged type no step declares is an error (its objects would be lost
 * silently), and a run with no staged graph at all raises `StagedInputMissingError` rather than
 * writing an empty graph that would make every previous object look deleted.
 */
export async function writeLocalGraphFromStagedRun(
  options: Omit<WriteLocalGraphOptions, 'source'> & { run: StagedRun },
): Promise<LocalGraphResult> {
  const { run, ...rest } = options;
  const staged = new Set(await run.listDatasets(STAGED_GRAPH_PREFIX));
  if (staged.size === 0) {
    throw new StagedInputMissingError(run.key, STAGED_GRAPH_PREFIX, 'no graph dataset was staged');
  }
  const declared = new Set(planTypes(options.steps).map(({ kind, type }) => graphDatasetName(kind, type)));
  const undeclared = [...staged].filter(
    (dataset) => /^graph\/(entities|relationships)\//.test(dataset) && !declared.has(dataset),
  );
  if (undeclared.length > 0) {
    throw new Error(
      `Staged graph datasets ${undeclared.map((d) => `"${d}"`).join(', ')} belong to no step of the data model; ` +
        'declare their _type in a step so they are delivered.',
    );
  }
  return writeLocalGraph({
    ...rest,
    source: {
      entities: (type) =>
        staged.has(graphDatasetName('entities', type)) ? indexedObjects(run, 'entities', type) : nothing(),
      relationships: (type) =>
        staged.has(graphDatasetName('relationships', type)) ? indexedObjects(run, 'relationships', type) : nothing(),
    },
  });
}

/**
 * The staged objects of one `_type` (canonical texts, as the build stages them) with their index
 * entries, batch by batch. The two datasets hold one line per object in the same order, but their
 * batches (a part at a time) need not line up, so entries are carried over until the texts they
 * belong to arrive. A count that differs between the two is an error, not a guess.
 */
async function* indexedObjects(run: StagedRun, kind: GraphObjectKind, type: string): AsyncIterable<IndexedGraphBatch> {
  const dataset = graphDatasetName(kind, type);
  const indexDataset = graphIndexDatasetName(kind, type);
  const entryBatches = readDatasetTexts(run, indexDataset)[Symbol.asyncIterator]();
  let pending: GraphIndexEntry[] = [];
  let entriesDone = false;
  const mismatch = () =>
    new StagedInputMissingError(run.key, indexDataset, `its entries do not match the objects of "${dataset}"`);
  try {
    // The texts stay bytes: they are written as they are, and only the few drawn are decoded.
    for await (const texts of readDatasetLines(run, dataset)) {
      while (pending.length < texts.length && !entriesDone) {
        const next = await entryBatches.next();
        if (next.done) entriesDone = true;
        else for (const line of next.value) pending.push(JSON.parse(line) as GraphIndexEntry);
      }
      if (pending.length < texts.length) throw mismatch();
      const entries = pending.length === texts.length ? pending : pending.slice(0, texts.length);
      pending = pending.length === texts.length ? [] : pending.slice(texts.length);
      yield { texts, entries };
    }
    if (pending.length > 0 || (!entriesDone && !(await entryBatches.next()).done)) throw mismatch();
  } finally {
    await entryBatches.return?.();
  }
}
