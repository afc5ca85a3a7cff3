/**
 * Where the local graph directory of an instance lives, and the names inside it.
 *
 *   <dataDir>/output/<instanceId>                    → symbolic link to the current complete version
 *   <dataDir>/output/.versions/<instanceId>/<version> a complete version (only the linked one survives a write)
 *   <dataDir>/output/.versions/<instanceId>/<version>.incomplete   a version being written
 *
 * Inside a version (the "project path" `j1-integration sync --project-path` takes):
 *
 *   .j1-integration/graph/<stepId>/entities/<uuid>.json        {"entities":[…]}       ≤500 objects of one _type
 *   .j1-integration/graph/<stepId>/relationships/<uuid>.json   {"relationships":[…]}  ≤500 objects of one _type
 *   .j1-integration/index/entities|relationships/<_type>/<uuid>.json   symbolic link → the graph file
 *   .j1-integration/summary.json                               step results + metadata.partialDatasets
 *   changes.json                                               change report against the previous version
 *   graph.html                                                 self-contained picture of the graph
 *   .content-hashes/<kind>/<_type>.ndjson                      `_key → content hash` pairs for the next report
 *
 * The instance folder is a link so that a new version replaces the previous one with a single
 * atomic rename: readers always see one complete version, never a mix or a half-written graph.
 */
import path from 'node:path';
import { INSTANCE_ID_RULE, isInstanceId } from '../config/instance-id';
import { describeValue } from '../util/redact';

export const J1_FOLDER = '.j1-integration';
export const GRAPH_FOLDER = 'graph';
export const INDEX_FOLDER = 'index';
export const SUMMARY_FILE = 'summary.json';
export const CHANGES_FILE = 'changes.json';
export const HTML_FILE = 'graph.html';
export const VERSIONS_FOLDER = '.versions';
export const INCOMPLETE_SUFFIX = '.incomplete';

export type GraphObjectKind = 'entities' | 'relationships';
export const GRAPH_OBJECT_KINDS: readonly GraphObjectKind[] = ['entities', 'relationships'];

/** Paths a user (or the CLI's run summary) needs to find an instance's local output. */
export interface LocalOutputPaths {
  /** The instance's output folder; pass it to `j1-integration sync --project-path`. */
  outputDir: string;
  /** `<outputDir>/.j1-integration/graph`, the graph files grouped by step. */
  graphDir: string;
  /** `<outputDir>/.j1-integration/summary.json`. */
  summaryFile: string;
  /** `<outputDir>/graph.html`, the picture of the graph. */
  htmlFile: string;
  /** `<outputDir>/changes.json`, the change report of the last write. */
  changesFile: string;
}

/** Step ids and `_type`s become folder names, so they must be plain path segments. */
const PATH_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$/;

export function assertInstanceId(instanceId: string): void {
  if (!isInstanceId(instanceId)) {
    throw new Error(
      `Instance id ${describeValue(instanceId)} cannot name an output folder: instance ids are ${INSTANCE_ID_RULE}.`,
    );
  }
}

/** Throws when `value` (a step id or a `_type`, described by `what`) cannot be used as a folder name. */
export function assertPathSegment(value: string, what: string): void {
  if (!PATH_SEGMENT.test(value) || value.includes('..')) {
    throw new Error(
      `${what} "${value}" cannot name a folder of the local graph directory: use letters, digits, "_", "-", ":" or ".".`,
    );
  }
}

/** The paths of the files inside an output folder (a version, or the instance link to one). */
export function outputPathsIn(outputDir: string): LocalOutputPaths {
  return {
    outputDir,
    graphDir: path.join(outputDir, J1_FOLDER, GRAPH_FOLDER),
    summaryFile: path.join(outputDir, J1_FOLDER, SUMMARY_FILE),
    htmlFile: path.join(outputDir, HTML_FILE),
    changesFile: path.join(outputDir, CHANGES_FILE),
  };
}

/** The paths of an instance's local output under the data folder (whether or not it exists yet). */
export function localOutputPaths(dataDir: string, instanceId: string): LocalOutputPaths {
  assertInstanceId(instanceId);
  return outputPathsIn(path.join(path.resolve(dataDir), 'output', instanceId));
}

/** The folder holding the versions of one instance's output. */
export function versionsFolder(dataDir: string, instanceId: string): string {
  assertInstanceId(instanceId);
  return path.join(path.resolve(dataDir), 'output', VERSIONS_FOLDER, instanceId);
}
