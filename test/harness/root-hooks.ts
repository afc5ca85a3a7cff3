/**
 * Mocha root hooks for the whole suite: everything a test run starts (dev server, simulators,
 * child-process workers) registers a stopper here, and the stoppers run after the last test —
 * also when tests fail — so `npm test` leaves no process behind. Invariants that must hold after
 * every test (see jupiterone.ts) register a check, run after each test.
 */
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
  },
};
