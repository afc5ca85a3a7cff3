/**
 * The key of one pipeline attempt's staging: `<instance>~<workflow id>~<run id>~<attempt>`. The
 * workflow makes it; a worker starting up reads the workflow and run back out of a leftover key
 * to ask Temporal whether that run is still going (sweepDeadRuns). Pure, for both sides.
 */
const SEPARATOR = '~';

export interface RunKeyParts {
  instanceId: string;
  workflowId: string;
  runId: string;
  attempt: number;
}

export function runKey(parts: RunKeyParts): string {
  return [parts.instanceId, parts.workflowId, parts.runId, parts.attempt].join(SEPARATOR);
}

/** The instance a staging key is for; undefined for a key this rule did not make. */
export function instanceOfKey(key: string): string | undefined {
  // First, and an instance id has no separator in it (a workflow id may).
  const end = key.indexOf(SEPARATOR);
  return end > 0 ? key.slice(0, end) : undefined;
}

/** The run a staging key belongs to; undefined for a key this rule did not make. */
export function runOfKey(key: string): { workflowId: string; runId: string } | undefined {
  const [, workflowId, runId] = key.split(SEPARATOR);
  return workflowId && runId ? { workflowId, runId } : undefined;
}
