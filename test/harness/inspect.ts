/** Helpers to look inside what a run left behind: its history, and files on disk. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface HistoryFigures {
  events: number;
  bytes: number;
  /** The history as JSON text, to search for things that must not be in it. */
  json: string;
}

export async function historyFigures(handle: WorkflowHandle): Promise<HistoryFigures> {
  const history = await handle.fetchHistory();
  const bytes = temporal.api.history.v1.History.encode(history).finish().length;
  // Payload data is base64 in the proto's JSON form; decode it so searches see the plain text.
  const json = JSON.stringify(history, (key, value) =>
    key === 'data' && value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
  );
  return { events: history.events?.length ?? 0, bytes, json };
}

/** Every file below `root` whose content contains one of `needles`, with the needle found. */
export function filesContaining(root: string, needles: readonly string[]): { file: string; needle: string }[] {
  const found: { file: string; needle: string }[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(dir, name);
      const stats = statSync(full, { throwIfNoEntry: false });
      if (!stats) continue;
      if (stats.isDirectory()) walk(full);
      else if (stats.isFile() && stats.size < 200 * 1024 * 1024) {
        const content = readFileSync(full, 'utf8');
        for (const needle of needles) if (needle && content.includes(needle)) found.push({ file: full, needle });
      }
    }
  };
  walk(root);
  return found;
}

/** Polls `condition` every 50 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
