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
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The system's temporary folder before this run took its own: for caches that outlive a run. */
export const SYSTEM_TMPDIR = tmpdir();
const runTemporaryFolder = mkdtempSync(path.join(SYSTEM_TMPDIR, 'duo-j1-test-run-'));
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
    for (const stop of stoppers.reverse()) {
      try {
        await stop();
      } catch (error) {
        console.error('Failed to stop a test service:', error);
      }
    }
    rmSync(runTemporaryFolder, { recursive: true, force: true, maxRetries: 3 });
  },
};
