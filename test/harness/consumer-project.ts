/**
 * A project of a team that uses duo-j1, made once per test run and shared by the package tests:
 *
 *  - duo-j1 packed by `npm pack` (which builds dist/ first when the sources changed), and
 *    installed from that tarball by `npm ci`, as a user's project installs it;
 *  - the project's own package.json, with the packages such a team lists itself (@temporalio/worker
 *    and /workflow, TypeScript, Node's types), and the strict compiler settings many teams use
 *    (test/fixtures/consumer-project/tsconfig.json);
 *  - its sources: the README's "As a library" examples, verbatim, and the few files of the team's
 *    own that they refer to (test/fixtures/consumer-project/src).
 *
 * The registry packages come from npm's cache, which the `npm ci` of this repository filled: the
 * project gets a lock file derived from ours, with the very versions this repository is tested
 * with, and `npm ci --prefer-offline` installs them without the network (it would use the registry
 * only for a package missing from the cache). No dependency is linked from this repository's
 * node_modules, so a package duo-j1 uses but does not declare (tsx, say) is missing there.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { stopAtEnd } from './root-hooks';
import { temporaryDirectory } from './temporal';

const exec = promisify(execFile);
const REPO = path.resolve(__dirname, '..', '..');
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'consumer-project');

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  dev?: boolean;
  devOptional?: boolean;
  [field: string]: unknown;
}

export interface ConsumerProject {
  dir: string;
  tarball: string;
  tarballBytes: number;
  /** Files in the tarball, as `npm pack` lists them. */
  packedFiles: string[];
  installSeconds: number;
}

/** Runs a command in a folder; resolves with its output, rejects with it. */
export async function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string }> {
  return exec(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
}

/** The README's "As a library" examples: each TypeScript block that starts with `// <file>.ts`. */
export function readmeLibraryExamples(): Map<string, string> {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('### As a library');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const examples = new Map<string, string>();
  for (const [, file, code] of section.matchAll(/```ts\n\/\/ ([\w-]+\.ts)\b[^\n]*\n([\s\S]*?)```/g)) {
    if (file && code) examples.set(file, code);
  }
  return examples;
}

/**
 * Our lock file's entries for the packages the project needs, found as Node resolves them (a
 * package's own node_modules first, then each folder above), with dev flags for the project.
 */
function deriveLockFile(roots: Record<string, string>, devRoots: Record<string, string>, duoJ1: LockEntry) {
  const ours = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const entries: Record<string, LockEntry> = { 'node_modules/duo-j1': duoJ1 };
  const entryAt = (location: string) => entries[location] ?? ours.packages[location];
  const locate = (from: string, name: string): string | undefined => {
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
      const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (entryAt(candidate)) return candidate;
      if (!base) return undefined;
    }
  };
  const reach = (names: string[]): Set<string> => {
    const reached = new Set<string>();
    const visit = (from: string, dependencies: string[]) => {
      for (const name of dependencies) {
        const location = locate(from, name);
        if (!location || reached.has(location)) continue;
        reached.add(location);
        const entry = entryAt(location)!;
        visit(location, [
          ...Object.keys(entry.dependencies ?? {}),
          ...Object.keys(entry.optionalDependencies ?? {}),
          ...Object.keys(entry.peerDependencies ?? {}),
        ]);
      }
    };
    visit('', names);
    return reached;
  };
  const production = reach(Object.keys(roots));
  for (const location of reach([...Object.keys(roots), ...Object.keys(devRoots)])) {
    if (location === 'node_modules/duo-j1') continue;
    const { dev: _dev, devOptional: _devOptional, ...entry } = ours.packages[location]!;
    entries[location] = production.has(location) ? entry : { ...entry, dev: true };
  }
  return entries;
}

let project: Promise<ConsumerProject> | undefined;

/** The consumer project, made on first use. */
export function consumerProject(): Promise<ConsumerProject> {
  project ??= makeConsumerProject();
  return project;
}

async function makeConsumerProject(): Promise<ConsumerProject> {
  const dir = temporaryDirectory('duo-j1-consumer-');
  // A few hundred megabytes of node_modules: not left behind.
  stopAtEnd(() => rmSync(dir, { recursive: true, force: true }));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir, '--loglevel=error'], REPO);
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  const tarball = path.join(dir, packed!.filename);

  const ourManifest = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    version: string;
    license: string;
    engines: Record<string, string>;
    bin: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const dependencies = {
    'duo-j1': `file:${packed!.filename}`,
    '@temporalio/worker': ourManifest.dependencies['@temporalio/worker']!,
    '@temporalio/workflow': ourManifest.dependencies['@temporalio/workflow']!,
  };
  const devDependencies = {
    typescript: ourManifest.devDependencies.typescript!,
    '@types/node': ourManifest.devDependencies['@types/node']!,
  };
  const manifest = { name: 'platform-team-workers', version: '1.0.0', private: true, dependencies, devDependencies };
  const packages = deriveLockFile(dependencies, devDependencies, {
    version: ourManifest.version,
    resolved: `file:${packed!.filename}`,
    license: ourManifest.license,
    dependencies: ourManifest.dependencies,
    bin: ourManifest.bin,
    engines: ourManifest.engines,
  });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(
    path.join(dir, 'package-lock.json'),
    JSON.stringify(
      {
        name: manifest.name,
        version: manifest.version,
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: manifest.name, version: manifest.version, dependencies, devDependencies },
          ...packages,
        },
      },
      null,
      2,
    ),
  );

  cpSync(FIXTURE, dir, { recursive: true });
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  for (const [file, code] of readmeLibraryExamples()) writeFileSync(path.join(dir, 'src', file), code);

  const installStarted = Date.now();
  await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  return {
    dir,
    tarball,
    tarballBytes: statSync(tarball).size,
    packedFiles: packed!.files.map((file) => file.path),
    installSeconds: (Date.now() - installStarted) / 1000,
  };
}
