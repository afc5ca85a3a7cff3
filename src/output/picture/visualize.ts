/**
 * `duo-j1 visualize`: (re)draws `graph.html` for a local graph directory — ours, or any folder
 * holding a `.j1-integration/graph` that `j1-integration collect` wrote.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Entity, Relationship } from '../../graph/types';
import { readChangeReport } from '../change-report';
import { listGraphFiles, readGraphFile, readIntegrationSummary } from '../graph-files';
import { GRAPH_FOLDER, HTML_FILE, J1_FOLDER } from '../paths';
import { replacePrivateFile } from '../private-files';
import { PictureCollector, type PictureLimits } from './picture-data';
import { renderGraphHtml } from './render-html';

export interface VisualizeOptions {
  /** Where to write the page; default `<outputDir>/graph.html`. */
  outputFile?: string;
  /** Page title; default "Duo graph — <name of outputDir>". */
  title?: string;
  limits?: PictureLimits;
}

/** Writes the picture of the graph in `outputDir` and returns the path of the page. */
export async function visualize(outputDir: string, options: VisualizeOptions = {}): Promise<string> {
  const folder = path.resolve(outputDir);
  const j1Dir = path.join(folder, J1_FOLDER);
  const graphDir = path.join(j1Dir, GRAPH_FOLDER);
  const isGraphFolder = await stat(graphDir).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (!isGraphFolder) {
    throw new Error(
      `No local graph directory in ${folder}: ${graphDir} does not exist. Pass the folder a local delivery ` +
        'wrote (<data folder>/output/<instance id>) or a j1-integration project folder.',
    );
  }
  const summary = await readIntegrationSummary(j1Dir);
  const changes = await readChangeReport(folder);
  const reasons = new Map((changes?.types ?? []).map((type) => [type.type, type.partialReason]));
  const partial = new Map((summary?.metadata.partialDatasets.types ?? []).map((type) => [type, reasons.get(type)]));
  const collector = new PictureCollector(partial, options.limits);
  // The change report lists every type in step order, including types without objects this time.
  for (const type of changes?.types ?? []) {
    if (type.kind === 'entities') collector.declareEntityType(type.type);
    else collector.declareRelationshipType(type.type);
  }
  for (const file of await listGraphFiles(j1Dir)) {
    for (const graphObject of await readGraphFile(file.path)) {
      if (file.kind === 'entities') collector.addEntity(graphObject as Entity);
      else collector.addRelationship(graphObject as Relationship);
    }
  }
  const title = options.title ?? `Duo graph — ${path.basename(folder)}`;
  const html = await renderGraphHtml(collector.build(title, new Date().toISOString()));
  const outputFile = path.resolve(options.outputFile ?? path.join(folder, HTML_FILE));
  await replacePrivateFile(outputFile, html);
  return outputFile;
}
