/**
 * The lines a run summary prints about a local delivery: where the graph, the picture and the
 * change report are, and how to upload the graph with JupiterOne's own tooling.
 */
import { formatChangeReport } from './change-report';
import type { LocalGraphResult } from './local-graph';

export function formatLocalOutputSummary(result: LocalGraphResult, options: { maxKeysPerList?: number } = {}): string {
  const { paths } = result;
  const lines = [
    `Local graph directory: ${paths.outputDir}`,
    `  graph files:   ${paths.graphDir} (${result.entityCount.toLocaleString('en-US')} entities, ` +
      `${result.relationshipCount.toLocaleString('en-US')} relationships)`,
    `  HTML picture:  ${paths.htmlFile}`,
    `  change report: ${paths.changesFile}`,
  ];
  if (result.partialTypes.length > 0) lines.push(`  partial types: ${result.partialTypes.join(', ')}`);
  lines.push(`  upload it with: j1-integration sync --project-path ${paths.outputDir}`);
  lines.push(formatChangeReport(result.changes, options));
  return lines.join('\n');
}
