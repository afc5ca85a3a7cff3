/**
 * The committed replay histories (test/fixtures/histories): one per path a run or a coordinator can
 * take, listed in index.json with the workflow id they were recorded under. Every change to the
 * workflow code must keep replaying them (test/workflow-histories.test.ts); a change that cannot,
 * goes behind `patched()`.
 *
 * The tests that drive each path record its history when `DUO_J1_RECORD_HISTORY=1`:
 *   DUO_J1_RECORD_HISTORY=1 npx mocha test/exclusivity.test.ts test/workflow-runs.test.ts \
 *     test/delivery-jupiterone.test.ts test/durable-fetch.test.ts test/log-tail.test.ts
 *
 * A history of a path the current code no longer takes stays committed, and is no longer recorded:
 * `log-tail` is a tail from before the administrators' logs were read (the workflow replays it
 * without them); `log-tail-administration-logs` is one that reads them. Likewise the ingestion
 * histories without a suffix were recorded before the graph was built as the fetch stages it, those
 * with the suffix `-build-follows-fetch` before a JupiterOne run's build uploaded into its job, and
 * those with `-upload-follows-build` (`ingestionHistory`) since: they stay to prove that runs a
 * deploy finds open replay.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export const HISTORIES_DIR = path.join(__dirname, '..', 'fixtures', 'histories');
const INDEX = path.join(HISTORIES_DIR, 'index.json');

export interface HistoryEntry {
  /** The path the history covers, e.g. `reset-running-last-workflow-task`. */
  name: string;
  file: string;
  workflowType: string;
  workflowId: string;
  description: string;
}

export function readHistoryIndex(): HistoryEntry[] {
  if (!existsSync(INDEX)) return [];
  return (JSON.parse(readFileSync(INDEX, 'utf8')) as { histories: HistoryEntry[] }).histories;
}

export const recordingHistories = Boolean(process.env.DUO_J1_RECORD_HISTORY);

/** The name of an ingestion run's history recorded once the build followed the fetch, before the upload followed the build. */
export function buildFollowsFetchHistory(path: string): string {
  return `${path}-build-follows-fetch`;
}

/** The name an ingestion run's history is recorded under: its path, as this version takes it. */
export function ingestionHistory(path: string): string {
  return `${path}-upload-follows-build`;
}

/** When recording, writes the history of `handle`'s run as the fixture of `name`; else nothing. */
export async function keepHistory(name: string, description: string, handle: WorkflowHandle): Promise<void> {
  if (!recordingHistories) return;
  const description_ = await handle.describe();
  const history = await handle.fetchHistory();
  const file = `${name}.json`;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  writeFileSync(path.join(HISTORIES_DIR, file), JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n');
  const entries = readHistoryIndex().filter((entry) => entry.name !== name);
  entries.push({ name, file, workflowType: description_.type, workflowId: handle.workflowId, description });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  writeFileSync(INDEX, JSON.stringify({ histories: entries }, null, 2) + '\n');
}
