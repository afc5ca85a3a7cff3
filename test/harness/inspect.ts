/** Helpers to look inside what a run left behind (its history, files on disk) and what a process loads. */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { duoJ1ActivityName } from '../../src/workflows/contract';

export interface HistoryFigures {
  events: number;
  bytes: number;
  /** The history as JSON text, to search for things that must not be in it. */
  json: string;
}

/** The events that scheduled one of duo-j1's activities (by its plain name, `buildGraph`), in order. */
export function activitiesScheduled(
  events: readonly temporal.api.history.v1.IHistoryEvent[],
  name: string,
): temporal.api.history.v1.IHistoryEvent[] {
  return events.filter(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === duoJ1ActivityName(name),
  );
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
        let content: string;
        try {
          content = readFileSync(full, 'utf8');
        } catch (error) {
          // Deleted since it was listed (a removed run's staged files are deleted in the background).
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
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

/**
 * What a fresh `node` process (running the TypeScript sources through tsx) has loaded: the files in
 * `require.cache` after requiring `modules` (paths under src/, without extension), and again after
 * running `then`, if given. Paths use `/` whatever the platform.
 */
export async function modulesLoaded(
  modules: readonly string[],
  then?: string,
): Promise<{ before: string[]; after: string[] }> {
  const files = modules.map((name) => path.resolve(__dirname, '..', '..', 'src', ...name.split('/')));
  const loaded = 'Object.keys(require.cache)';
  const code =
    `for (const module of ${JSON.stringify(files)}) require(module);` +
    `const before = ${loaded};` +
    (then ?? '') +
    `;console.log(JSON.stringify({ before, after: ${loaded} }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', code]);
  const lists = JSON.parse(stdout) as { before: string[]; after: string[] };
  const slashed = (list: string[]) => list.map((file) => file.split(path.sep).join('/'));
  return { before: slashed(lists.before), after: slashed(lists.after) };
}

/** The source map a bundle carries inline (its last line), or undefined when it carries none. */
export function inlineSourceMap(
  code: string,
): { sources: string[]; mappings: string; sourcesContent?: unknown[] } | undefined {
  const inline = /\/\/# sourceMappingURL=data:application\/json(?:;charset=utf-8)?;base64,([A-Za-z0-9+/=]+)\s*$/.exec(
    code,
  );
  return inline ? JSON.parse(Buffer.from(inline[1], 'base64').toString('utf8')) : undefined;
}
