import { GRAPH_DATASETS } from '../../src/graph/data-model';
import { readDatasetTexts } from '../../src/staging/json-lines';
import type { StagedRun } from '../../src/staging/store';

/** Every staged graph dataset and index of a run, as text (for comparing two builds byte for byte). */
export async function stagedGraphTexts(run: StagedRun): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const { dataset, indexDataset } of GRAPH_DATASETS) {
    for (const name of [dataset, indexDataset]) {
      const lines: string[] = [];
      for await (const batch of readDatasetTexts(run, name)) lines.push(...batch);
      texts.set(name, lines.join('\n'));
    }
  }
  return texts;
}
