/**
 * Mocha's global fixtures: run once, in the main process, around the whole run.
 *
 * `npm test` runs the test files in parallel worker processes (mocha --parallel). They share one
 * Temporal dev server, started here before the first worker is forked (workers inherit the
 * environment that names it) and stopped after the last: a dev server per worker would cost a
 * server's memory and start-up each, and a worker process is ended by mocha without the chance
 * to stop what it started. Every test works on task queues, workflow ids and instances of its own,
 * so the files share the server as they did when they ran one after another.
 *
 * Run serially (`npx mocha test/some.test.ts`), the tests start their dev server on first use, as
 * before: nothing here runs then.
 */
import { rmSync } from 'node:fs';
import type { DevServer } from '../../src/worker/dev-server';
import { runTemporaryFolder } from './root-hooks';
import { SHARED_SERVER_ENV, startTestDevServer, testWorkflowBundle } from './temporal';

let shared: DevServer | undefined;

export async function mochaGlobalSetup(this: { isParallelMode?: () => boolean }): Promise<void> {
  if (!this.isParallelMode?.()) return;
  shared = await startTestDevServer();
  process.env[SHARED_SERVER_ENV] = JSON.stringify({ address: shared.address, namespace: shared.namespace });
  // Built (or found in the cache) once here, rather than by every worker at the same moment.
  await testWorkflowBundle();
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (!shared) return;
  await shared.stop();
  // The worker processes' temporary folders are inside this one.
  rmSync(runTemporaryFolder, { recursive: true, force: true, maxRetries: 3 });
}
