/** The steps of the local graph directory, from the data model declaration. */
import { GRAPH_STEPS, typesOfStep } from '../graph/data-model';
import type { GraphStep } from '../output/graph-files';

export const LOCAL_GRAPH_STEPS: readonly GraphStep[] = GRAPH_STEPS.map((step) => {
  const types = typesOfStep(step.id);
  return {
    id: step.id,
    name: step.name,
    entityTypes: types.entities,
    relationshipTypes: [...types.relationships, ...types.mappedRelationships],
  };
});
