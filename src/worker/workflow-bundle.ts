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

const SOURCE_DIR = path.resolve(__dirname, '..');
const WORKFLOWS_DIR = path.join(SOURCE_DIR, 'workflows');
/**
 * Everything of ours the workflow bundle is made of: the workflows and the pure modules they
 * import (the resource table, the instance-id rule). A test keeps this list complete.
 */
export const WORKFLOW_BUNDLE_SOURCES: readonly string[] = ['workflows', 'resources', 'config/instance-id'];

/** Source files of a folder or module of `WORKFLOW_BUNDLE_SOURCES`, in a stable order. */
function sourceFiles(source: string): string[] {
  const target = path.join(SOURCE_DIR, source);
  if (!existsSync(target)) return [`${target}${path.extname(__filename)}`];
  return readdirSync(target)
    .filter((name) => name.endsWith('.ts') || name.endsWith('.js'))
    .sort()
    .map((name) => path.join(target, name));
}

/** Hash of everything the bundle is made of: its sources and the SDK version. */
function workflowSourceHash(): string {
  const hash = createHash('sha256');
  const sdkPackage = require.resolve('@temporalio/workflow/package.json');
  hash.update(readFileSync(sdkPackage));
  for (const file of WORKFLOW_BUNDLE_SOURCES.flatMap(sourceFiles)) {
    hash.update(path.relative(SOURCE_DIR, file)).update(readFileSync(file));
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
