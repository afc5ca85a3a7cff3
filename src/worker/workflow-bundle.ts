/**
 * The workflow bundle: the workflow code compiled for Temporal's sandbox, which takes seconds.
 *
 *  - The package ships one: `npm run build` bundles the compiled workflows once and writes
 *    `dist/workflow-bundle.js` (Temporal's `production` sample does the same), so an installed
 *    duo-j1 starts its workers at once and never bundles.
 *  - Run from the TypeScript sources (tests, development), the bundle is built once per version of
 *    the workflow sources and kept in a cache folder.
 *
 * A bundle is keyed by the workflow sources and the `@temporalio/workflow` version it was built
 * with, and used only where both match: a worker must run the SDK version that bundled its code.
 *
 * There are two flavours: plain, and traced — with OpenTelemetry's workflow interceptors, which a
 * worker with tracing on needs (a prebuilt bundle cannot take interceptors afterwards). Both ship.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const SOURCE_DIR = path.resolve(__dirname, '..');
const WORKFLOWS_DIR = path.join(SOURCE_DIR, 'workflows');
/** Where the build puts the shipped bundle (dist/workflow-bundle.js), and the key it was built for. */
const shippedBundle = (traced: boolean) =>
  path.join(SOURCE_DIR, traced ? 'workflow-bundle-traced.js' : 'workflow-bundle.js');
const SHIPPED_BUNDLE_KEY = path.join(SOURCE_DIR, 'workflow-bundle.key');
/** OpenTelemetry's workflow interceptors: spans for the workflow and the activities it schedules. */
const TRACING_INTERCEPTOR_MODULE = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export interface WorkflowBundleFlavour {
  /** With OpenTelemetry's workflow interceptors (default false). */
  traced?: boolean;
}
/**
 * Everything of ours the workflow bundle is made of: the workflows and the pure modules they
 * import (the resource table, the instance-id rule). A test keeps this list complete.
 */
export const WORKFLOW_BUNDLE_SOURCES: readonly string[] = ['workflows', 'resources', 'config/instance-id'];

/** Whether a file is code of ours (TypeScript sources, or the compiled JavaScript in dist/). */
function isCode(name: string): boolean {
  return (name.endsWith('.ts') && !name.endsWith('.d.ts')) || name.endsWith('.js');
}

/** Source files of a folder or module of `WORKFLOW_BUNDLE_SOURCES`, in a stable order. */
function sourceFiles(source: string): string[] {
  const target = path.join(SOURCE_DIR, source);
  if (!existsSync(target)) return [`${target}${path.extname(__filename)}`];
  return readdirSync(target)
    .filter(isCode)
    .sort()
    .map((name) => path.join(target, name));
}

/** The packages bundled beside our sources: the SDK's workflow library, and OpenTelemetry's in the traced flavour. */
const BUNDLED_PACKAGES = [
  '@temporalio/workflow',
  '@temporalio/interceptors-opentelemetry',
  '@opentelemetry/api',
  '@opentelemetry/core',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-trace-base',
];

/** A package's package.json, found from its entry point (some packages do not export the file itself). */
function packageManifest(name: string): string {
  let folder = path.dirname(require.resolve(name));
  while (!folder.endsWith(path.join('node_modules', name))) {
    const parent = path.dirname(folder);
    if (parent === folder) throw new Error(`Cannot find the folder of the package ${name}`);
    folder = parent;
  }
  return path.join(folder, 'package.json');
}

/**
 * The bundle's source map without the sources' text (webpack's `inline-nosources-source-map`; the
 * SDK's default, `inline-source-map`, embeds every bundled source file). Stack traces of workflows
 * still name the file, line and column; only the SDK's stack-trace view with sources
 * (`showStackTraceSources`, off by default) loses the text. The text was 1.3 MB of the 1.9 MB
 * bundle, and the worker holds the bundle in its workflow thread's V8 context: 5–11 MB of an idle
 * worker's resident memory (docs/benchmarks.md, "The workflow bundle's source map without the
 * sources' text").
 */
const SOURCE_MAP_STYLE = 'inline-nosources-source-map';

/**
 * How the shipped bundle's source map names its files: by their place in the package
 * (`src/workflows/duo-ingestion.ts`, as the compiled files' own maps name their sources;
 * `node_modules/@temporalio/workflow/src/…`; `dist/…` for a file only the build made). The SDK names
 * each by its absolute path, right for a bundle built on the host that runs it, but in a shipped
 * bundle that is where the build had the file on the machine that built the package (in the
 * folder it compiles into before it becomes dist/): a path that exists on no host running the
 * package, and that says where the builder kept it. Stack traces of workflows name these files.
 */
function shippedSourceName(info: { absoluteResourcePath: string }): string {
  const file = info.absoluteResourcePath;
  // Webpack's own modules (`webpack/bootstrap`) have no path on disk; a module left out of the
  // bundle is named `ignored|<folder it was asked for in>|<request>`.
  if (!path.isAbsolute(file)) return file.split(`${path.dirname(SOURCE_DIR)}${path.sep}`).join('');
  const compiled = path.relative(SOURCE_DIR, file);
  if (!compiled.startsWith('..')) return ['dist', ...compiled.split(path.sep)].join('/');
  const packaged = path.relative(path.dirname(SOURCE_DIR), file);
  return packaged.startsWith('..') ? path.basename(file) : packaged.split(path.sep).join('/');
}

/** Hash of everything the bundle is made of: its sources, how they are bundled, and the versions of the packages bundled with them. */
function bundleKey(): string {
  const hash = createHash('sha256');
  hash.update(SOURCE_MAP_STYLE);
  for (const name of BUNDLED_PACKAGES) hash.update(readFileSync(packageManifest(name)));
  for (const file of WORKFLOW_BUNDLE_SOURCES.flatMap(sourceFiles)) {
    hash.update(path.relative(SOURCE_DIR, file)).update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

function readShippedKey(): string | undefined {
  try {
    return readFileSync(SHIPPED_BUNDLE_KEY, 'utf8').trim();
  } catch {
    return undefined;
  }
}

async function writeWorkflowBundle(file: string, traced: boolean, shipped = false): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve(WORKFLOWS_DIR),
    workflowInterceptorModules: traced ? [TRACING_INTERCEPTOR_MODULE] : [],
    webpackConfigHook: (config) => ({
      ...config,
      devtool: SOURCE_MAP_STYLE,
      ...(shipped ? { output: { ...config.output, devtoolModuleFilenameTemplate: shippedSourceName } } : {}),
    }),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, code);
  await rename(temporary, file);
}

/**
 * Path of a workflow bundle of duo-j1's workflows for `Worker.create({ workflowBundle: { codePath } })`:
 * the one shipped in the package when it fits the installed SDK, otherwise one built now and kept in
 * `cacheDir` for the next start (without `cacheDir`, in a new private temporary folder).
 */
export async function prebuiltWorkflowBundle(cacheDir?: string, flavour: WorkflowBundleFlavour = {}): Promise<string> {
  const traced = flavour.traced === true;
  const key = bundleKey();
  if (readShippedKey() === key && existsSync(shippedBundle(traced))) return shippedBundle(traced);
  // Not a shared, predictable folder by default: whoever can write the bundle runs code in the worker.
  const folder = cacheDir ?? (await mkdtemp(path.join(tmpdir(), 'duo-j1-workflow-bundle-')));
  const file = path.join(folder, `workflow-bundle-${key}${traced ? '-traced' : ''}.js`);
  if (!existsSync(file)) await writeWorkflowBundle(file, traced);
  return file;
}

/** Builds the bundle that ships in the package; called by `npm run build` on the compiled code. */
export async function buildShippedWorkflowBundle(): Promise<void> {
  await writeWorkflowBundle(shippedBundle(false), false, true);
  await writeWorkflowBundle(shippedBundle(true), true, true);
  await writeFile(SHIPPED_BUNDLE_KEY, `${bundleKey()}\n`);
}
