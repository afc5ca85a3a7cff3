/**
 * The workflow bundle: the workflow code compiled for Temporal's sandbox. Bundling takes seconds,
 * so the bundle is built once per version of the workflow sources and kept in a cache folder;
 * workers started later (a restarted worker, the test suite's child processes, `npm start`) load
 * the prebuilt file and start at once.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const WORKFLOWS_DIR = path.resolve(__dirname, '..', 'workflows');

/** Hash of everything the bundle is made of: the workflow sources and the SDK version. */
function workflowSourceHash(): string {
  const hash = createHash('sha256');
  const sdkPackage = require.resolve('@temporalio/workflow/package.json');
  hash.update(readFileSync(sdkPackage));
  for (const name of readdirSync(WORKFLOWS_DIR).sort()) {
    if (name.endsWith('.ts') || name.endsWith('.js'))
      hash.update(name).update(readFileSync(path.join(WORKFLOWS_DIR, name)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Path of the prebuilt bundle for the current workflow sources, building it when missing. */
export async function prebuiltWorkflowBundle(cacheDir: string): Promise<string> {
  const file = path.join(cacheDir, `workflow-bundle-${workflowSourceHash()}.js`);
  if (existsSync(file)) return file;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve(WORKFLOWS_DIR),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  await mkdir(cacheDir, { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, code);
  await rename(temporary, file);
  return file;
}
