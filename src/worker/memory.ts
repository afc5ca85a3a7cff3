/**
 * How a duo-j1 worker process keeps its memory close to what it uses.
 *
 * A run holds little live data (key sets, one batch at a time) but streams hundreds of megabytes
 * through the heap for a large tenant. V8 by default lets garbage pile up to several times the live
 * data before collecting it, so a 100,000-user run peaked near 600 MB of resident memory for about
 * 30 MB that were live. Capping the heap's growth factor at 2× the live data after each collection
 * (V8's `--heap-growing-percent`) keeps the peak near 400 MB for about the same speed, where a fixed
 * `--max-old-space-size` low enough for that slowed the build by half.
 */
import { setFlagsFromString } from 'node:v8';

/** The heap may grow to (1 + this / 100) × its live size before the next full collection. */
export const HEAP_GROWING_PERCENT = 100;

/** True when node was started with `flag` (a V8 option, which NODE_OPTIONS cannot carry). */
function chosenByUser(flag: string): boolean {
  return process.execArgv.some((option) => option === flag || option.startsWith(`${flag}=`));
}

/**
 * Applies the worker's heap growth bound to this process, unless the command line already chose
 * one. For the processes duo-j1 runs itself (`duo-j1 worker`, `npm start`); a process embedding the
 * library decides for itself.
 */
export function boundHeapGrowth(): void {
  if (chosenByUser('--heap-growing-percent')) return;
  // A GC heuristic, read by V8 whenever it sizes the heap after a collection: setting it at run
  // time takes effect from the next collection on.
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
