/**
 * The local output: the graph directory `j1-integration sync` can upload, its change report and
 * its HTML picture.
 */
export {
  writeLocalGraph,
  replacedVersionsDeleted,
  graphObjectSource,
  type GraphObjectStreams,
  type LocalGraphResult,
  type LocalGraphSource,
  type PartialTypeInput,
  type WriteLocalGraphOptions,
} from './local-graph';
export { writeLocalGraphFromStagedRun } from './staged-graph';
export {
  OBJECTS_PER_FILE,
  buildIntegrationSummary,
  readIntegrationSummary,
  type GraphStep,
  type IntegrationSummary,
  type StepResultSummary,
} from './graph-files';
export {
  formatChangeReport,
  readChangeReport,
  type ChangeReport,
  type ChangeTotals,
  type TypeChanges,
} from './change-report';
export { contentHash } from './content-hash';
export { localOutputPaths, type LocalOutputPaths } from './paths';
export { formatLocalOutputSummary } from './output-summary';
export { visualize, type VisualizeOptions } from './picture/visualize';
export type { PictureLimits } from './picture/picture-data';
