/**
 * Writes the local graph directory straight from a run's staged graph: the datasets
 * `graph/entities/<_type>` and `graph/relationships/<_type>` the graph builder leaves in the
 * staging store.
 */
import type { Entity, Relationship } from '../graph/types';
import { StagedInputMissingError, type StagedRun } from '../staging/store';
import { planTypes, writeLocalGraph, type LocalGraphResult, type WriteLocalGraphOptions } from './local-graph';

export const STAGED_GRAPH_PREFIX = 'graph';

export function stagedEntityDataset(type: string): string {
  return `${STAGED_GRAPH_PREFIX}/entities/${type}`;
}

export function stagedRelationshipDataset(type: string): string {
  return `${STAGED_GRAPH_PREFIX}/relationships/${type}`;
}

/** The objects of a declared type with no staged dataset: none this time. */
function nothing<T>(): AsyncIterable<T> {
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
  const declared = new Set(
    planTypes(options.steps).map(({ kind, type }) =>
      kind === 'entities' ? stagedEntityDataset(type) : stagedRelationshipDataset(type),
    ),
  );
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
        staged.has(stagedEntityDataset(type)) ? run.read<Entity>(stagedEntityDataset(type)) : nothing<Entity>(),
      relationships: (type) =>
        staged.has(stagedRelationshipDataset(type))
          ? run.read<Relationship>(stagedRelationshipDataset(type))
          : nothing<Relationship>(),
    },
  });
}
