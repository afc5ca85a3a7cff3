/**
 * The duo-j1 command as the tests run it: from the TypeScript sources (through tsx), so a test
 * never runs a stale build. The built command (`bin/duo-j1.js` → dist/) is what the package
 * tests run, from an installed tarball.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ownProgramArgs } from '../../src/util/own-modules';
import { stopAtEnd } from './root-hooks';

/** `node` arguments that run `duo-j1`; append the subcommand and its flags. */
export const DUO_J1_ARGS: readonly string[] = ownProgramArgs('cli/main');

const REPO = path.resolve(__dirname, '..', '..');

/** How a `duo-j1` command ended, with everything it printed. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `duo-j1 <args>` from the repository to its end; killed if the test run ends first. `env`
 * replaces the environment when given.
 */
export async function runDuoJ1(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliRun> {
  const child = spawn(process.execPath, [...DUO_J1_ARGS, ...args], {
    cwd: REPO,
    ...(env ? { env } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stopAtEnd(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return { code, stdout, stderr };
}
