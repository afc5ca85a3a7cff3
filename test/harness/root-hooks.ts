/**
 * Mocha root hooks for the whole suite: everything a test run starts (dev server, simulators,
 * child-process workers) registers a stopper here, and the stoppers run after the last test —
 * also when tests fail — so `npm test` leaves no process behind. Invariants that must hold after
 * every test (see jupiterone.ts) register a check, run after each test.
 *
 * Files too: the run gets a temporary folder of its own, made the system's (`TMPDIR`, which
 * `os.tmpdir()` reads on every call and child processes inherit), and removed after the stoppers.
 * Every data folder, staging folder, instances file and consumer project a test makes lands in it,
 * whichever helper made it, so `npm test` leaves no files behind either.
 *
 * In parallel mode (`npm test`: mocha --parallel), each worker process loads this file and runs
 * these hooks around every test file: the stoppers then run after each file, and the worker's
 * temporary folder — made inside the main process's, which worker processes inherit as `TMPDIR` —
 * is removed with the main process's by the global teardown (test/harness/global-fixtures.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The system's temporary folder before this run took its own: for caches that outlive a run. */
// Kept in the environment for the worker processes, which inherit the main process's `TMPDIR`.
export const SYSTEM_TMPDIR = (process.env.DUO_J1_TEST_SYSTEM_TMPDIR ??= tmpdir());
/** Whether this is a worker process of a parallel run (mocha numbers them). */
const inParallelWorker = process.env.MOCHA_WORKER_ID !== undefined;
export const runTemporaryFolder = mkdtempSync(path.join(tmpdir(), 'duo-j1-test-run-'));
process.env.TMPDIR = runTemporaryFolder;

type Stopper = () => Promise<void> | void;
const stoppers: Stopper[] = [];
type Check = () => Promise<void> | void;
const checks: Check[] = [];

/** Registers a check to run after every test from now on; a failing check fails the test's hook. */
export function checkAfterEachTest(check: Check): void {
  checks.push(check);
}

/** Registers something to stop when the test run ends; returns a function that stops it now. */
export function stopAtEnd(stopper: Stopper): () => Promise<void> {
  let stopped = false;
  const once = async () => {
    if (stopped) return;
    stopped = true;
    await stopper();
  };
  stoppers.push(once);
  return once;
}

export const mochaHooks = {
  async afterEach(): Promise<void> {
    for (const check of checks) await check();
  },
  async afterAll(): Promise<void> {
    // Taken off the list: in a parallel worker, the next test file registers its own.
    for (const stop of stoppers.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        console.error('Failed to stop a test service:', error);
      }
    }
    // A parallel worker runs more test files in this folder; the global teardown removes it.
    if (!inParallelWorker) rmSync(runTemporaryFolder, { recursive: true, force: true, maxRetries: 3 });
  },
};
